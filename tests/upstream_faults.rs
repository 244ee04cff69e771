//! The upstream engine against misbehaving servers on real loopback sockets: each fault
//! ends with the right error kind within its deadline, and the leanpoint child's open
//! fds stay flat while it keeps polling the broken peer.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::Leanpoint;
use std::time::{Duration, Instant};

const TIMEOUT_MS: &str = "400";

fn kind_of(lp: &Leanpoint) -> Option<String> {
    let reply = lp.get("/api/upstreams");
    if reply.status != 200 {
        return None;
    }
    reply.json()["upstreams"][0]["last_error_kind"]
        .as_str()
        .map(str::to_string)
}

/// Polls one faulty upstream; asserts the error kind and flat fds over many rounds, and
/// that the rounds end without consensus.
fn assert_fault(url: &str, expected_kind: &str, extra: &[&str]) {
    let lp = assert_fault_kind(url, expected_kind, extra);
    let status = lp.get("/status").json();
    assert!(status["error_count"].as_u64().unwrap_or(0) >= 1);
    assert!(status["last_error"]
        .as_str()
        .unwrap_or("")
        .starts_with("all upstreams failed: default ("));
}

/// Polls one faulty upstream; asserts the error kind and flat fds over many rounds.
fn assert_fault_kind(url: &str, expected_kind: &str, extra: &[&str]) -> Leanpoint {
    let mut args = vec![
        "--lean-url",
        url,
        "--poll-ms",
        "150",
        "--timeout-ms",
        TIMEOUT_MS,
    ];
    args.extend_from_slice(extra);
    let lp = Leanpoint::start(&args);
    let started = Instant::now();
    let mut kind = None;
    while started.elapsed() < Duration::from_secs(5) {
        kind = kind_of(&lp);
        if kind.as_deref() == Some(expected_kind) {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    assert_eq!(kind.as_deref(), Some(expected_kind), "error kind for {url}");
    // The deadline is 400 ms; the first error must come within a round plus a deadline.
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "took {:?}",
        started.elapsed()
    );
    // Keep polling for a while: the fd count must not grow.
    let first = lp.open_fds();
    let mut max_fds = first;
    let mut max_sockets = 0;
    for _ in 0..20 {
        std::thread::sleep(Duration::from_millis(75));
        max_fds = max_fds.max(lp.open_fds());
        max_sockets = max_sockets.max(lp.socket_fds());
    }
    // listener + at most one upstream socket (the test's own requests are closed).
    assert!(max_sockets <= 2, "socket fds reached {max_sockets}");
    assert!(max_fds <= first + 1, "fds grew from {first} to {max_fds}");
    lp
}

#[test]
fn silent_upstream_is_a_request_timeout() {
    let node = MockNode::start(Behavior::Silent);
    assert_fault(&node.url(), "request_timeout", &[]);
}

#[test]
fn never_accepting_upstream_is_a_connect_timeout() {
    let node = MockNode::start(Behavior::NeverAccept);
    assert_fault(&node.url(), "connect_timeout", &[]);
}

#[test]
fn trickling_upstream_is_a_request_timeout() {
    let node = MockNode::start(Behavior::Trickle(NodeData::fixture()));
    assert_fault(&node.url(), "request_timeout", &[]);
}

#[test]
fn half_closing_upstream_is_closed_early() {
    let node = MockNode::start(Behavior::HalfClose);
    assert_fault(&node.url(), "closed_early", &[]);
}

#[test]
fn resetting_upstream_is_a_reset() {
    let node = MockNode::start(Behavior::Reset);
    assert_fault(&node.url(), "reset", &[]);
}

#[test]
fn garbage_is_a_bad_response() {
    let node = MockNode::start(Behavior::Garbage);
    assert_fault(&node.url(), "bad_response", &[]);
}

#[test]
fn huge_body_is_refused_as_too_large() {
    let node = MockNode::start(Behavior::HugeBody);
    assert_fault(&node.url(), "body_too_large", &[]);
}

#[test]
fn bad_chunk_size_is_a_bad_response() {
    let node = MockNode::start(Behavior::BadChunk);
    assert_fault(&node.url(), "bad_response", &[]);
}

#[test]
fn status_404_500_503_are_bad_status() {
    for code in [404u16, 500, 503] {
        let node = MockNode::start(Behavior::Status(code));
        assert_fault(&node.url(), "bad_status", &[]);
        let lp_detail = {
            let lp = Leanpoint::start(&["--lean-url", &node.url(), "--poll-ms", "150"]);
            let reply = lp.wait_for("/api/upstreams", Duration::from_secs(5), |r| {
                r.status == 200 && !r.json()["upstreams"][0]["last_error"].is_null()
            });
            reply.json()["upstreams"][0]["last_error"]
                .as_str()
                .unwrap_or("")
                .to_string()
        };
        assert!(
            lp_detail.contains(&format!("bad status {code}")),
            "{lp_detail}"
        );
    }
}

#[test]
fn text_instead_of_ssz_is_named() {
    // Its fork choice is fine (it votes, so the rounds agree), but the block and state
    // it serves are JSON: nothing is served, and the kind says why.
    let node = MockNode::start(Behavior::Text);
    let lp = assert_fault_kind(&node.url(), "text_instead_of_ssz", &[]);
    let status = lp.get("/status").json();
    assert_eq!(status["finalized_slot"], 18);
    assert_eq!(status["bundle_verified"], false);
    let state = lp.get("/lean/v0/states/finalized");
    assert_eq!(
        (state.status, state.text().as_str()),
        (503, "no_finalized_state\n")
    );
    assert!(common::inbound::metric_of(&lp, "leanpoint_bundle_verification_failures_total") >= 1.0);
}

#[test]
fn refused_connection_is_connect_refused() {
    // Bind and drop to find a port with nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    assert_fault(&format!("http://127.0.0.1:{port}"), "connect_refused", &[]);
}

#[test]
fn unresolvable_name_is_named() {
    assert_fault("http://no-such-host.invalid:5052", "name_not_resolved", &[]);
}

#[test]
fn healthy_upstream_is_agreed_and_served_byte_for_byte() {
    let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let lp = Leanpoint::start(&["--lean-url", &node.url(), "--poll-ms", "200"]);
    let status = lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"].as_u64() == Some(18) && r.json()["bundle_verified"] == true
    });
    let s = status.json();
    assert_eq!(s["finalized_slot"], 18);
    assert_eq!(s["justified_slot"], 19);
    assert_eq!(s["stale"], false);
    assert!(s["last_error"].is_null());
    let state = lp.get("/lean/v0/states/finalized");
    assert_eq!(state.status, 200);
    assert_eq!(state.body, NodeData::fixture().state);
    // Keep-alive: several rounds reuse one connection.
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(
        node.accepted.load(std::sync::atomic::Ordering::Relaxed),
        1,
        "one socket reused across rounds"
    );
    assert!(node.requests.load(std::sync::atomic::Ordering::Relaxed) >= 6);
}

#[test]
fn chunked_and_close_delimited_upstream_is_agreed() {
    let node = MockNode::start(Behavior::ChunkedClose(NodeData::fixture()));
    let lp = Leanpoint::start(&["--lean-url", &node.url(), "--poll-ms", "200"]);
    let status = lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"].as_u64() == Some(18) && r.json()["bundle_verified"] == true
    });
    assert_eq!(status.json()["justified_slot"], 19);
    assert_eq!(
        lp.get("/lean/v0/states/finalized").body,
        NodeData::fixture().state
    );
}
