//! Bounds of the upstream engine on a real process: never more than `--poll-concurrency`
//! upstream sockets (the rest wait their turn within the round, and every upstream is
//! still polled), and without consensus the last agreed state is kept until it is stale.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::{upstreams_for, Leanpoint};
use std::time::{Duration, Instant};

#[test]
fn poll_concurrency_caps_upstream_sockets_and_every_upstream_is_polled() {
    let nodes: Vec<MockNode> = (0..6).map(|_| MockNode::start(Behavior::Silent)).collect();
    let file = upstreams_for(&nodes, "s");
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "100",
        "--timeout-ms",
        "200",
        "--poll-concurrency",
        "2",
    ]);
    let started = Instant::now();
    let mut max_sockets = 0;
    while started.elapsed() < Duration::from_secs(3) {
        max_sockets = max_sockets.max(lp.socket_fds());
        std::thread::sleep(Duration::from_millis(5));
    }
    // The listener plus at most two upstream sockets (no inbound request is open here).
    assert!(
        max_sockets <= 3,
        "saw {max_sockets} sockets with poll concurrency 2"
    );
    let ups = lp.get("/api/upstreams").json();
    for u in ups["upstreams"].as_array().unwrap() {
        assert_eq!(u["last_error_kind"], "request_timeout", "{u}");
    }
    let accepted: usize = nodes
        .iter()
        .map(|n| n.accepted.load(std::sync::atomic::Ordering::Relaxed))
        .sum();
    assert!(
        accepted >= 6,
        "every upstream was polled: {accepted} connections"
    );
}

#[test]
fn without_consensus_the_last_agreed_state_is_kept_until_stale() {
    let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let url = node.url();
    let lp = Leanpoint::start(&[
        "--lean-url",
        &url,
        "--poll-ms",
        "100",
        "--timeout-ms",
        "200",
        "--stale-ms",
        "1500",
    ]);
    lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"] == 18 && r.json()["bundle_verified"] == true
    });
    drop(node); // the only upstream goes away: no consensus from now on
    let failing = lp.wait_for("/status", Duration::from_secs(3), |r| {
        r.json()["error_count"].as_u64() >= Some(2)
    });
    let s = failing.json();
    assert_eq!(s["finalized_slot"], 18, "last agreed slot kept: {s}");
    assert_eq!(s["stale"], false);
    assert!(
        s["last_error"]
            .as_str()
            .unwrap()
            .starts_with("all upstreams failed: default ("),
        "{s}"
    );
    assert_eq!(
        lp.get("/lean/v0/states/finalized").body,
        NodeData::fixture().state
    );
    let stale = lp.wait_for("/status", Duration::from_secs(4), |r| {
        r.json()["stale"] == true
    });
    assert_eq!(stale.json()["stale"], true);
    let state = lp.get("/lean/v0/states/finalized");
    assert_eq!((state.status, state.text().as_str()), (503, "stale\n"));
    assert_eq!(lp.get("/healthz").status, 503);
}

#[test]
fn a_name_that_cannot_connect_is_resolved_again_off_the_loop_and_recovers() {
    // Find a free port, point the upstream at it by name, and start a node there later.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://localhost:{port}");
    let lp = Leanpoint::start(&[
        "--lean-url",
        &url,
        "--poll-ms",
        "100",
        "--timeout-ms",
        "200",
        "--log-level",
        "debug",
    ]);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut resolved_again = false;
    while Instant::now() < deadline && !resolved_again {
        if let Ok(line) = lp.log.recv_timeout(Duration::from_millis(100)) {
            resolved_again = line.contains("name resolved again") && line.contains("localhost");
        }
    }
    assert!(resolved_again, "no re-resolution after connect failures");
    assert_eq!(lp.get("/healthz").status, 503);
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
    let node = MockNode::start_on(listener, Behavior::Healthy(NodeData::fixture()));
    let s = lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"] == 18 && r.json()["bundle_verified"] == true
    });
    assert_eq!(s.json()["finalized_slot"], 18);
    drop(node);
}
