//! The fd-leak incident replayed: 16 upstreams, 12 of them silent or broken, polled at a
//! short interval under a strict nofile limit. The child's fds stay within the budget and
//! flat, the healthy majority is agreed and served byte for byte, and a 2-2 split is
//! never served.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::{upstreams_for, Leanpoint};
use std::time::{Duration, Instant};

#[test]
fn sixteen_upstreams_twelve_broken_fds_flat_majority_served() {
    let mut nodes = Vec::new();
    for _ in 0..4 {
        nodes.push(MockNode::start(Behavior::Healthy(NodeData::fixture())));
    }
    let broken = [
        Behavior::Silent,
        Behavior::Silent,
        Behavior::NeverAccept,
        Behavior::NeverAccept,
        Behavior::Trickle(NodeData::fixture()),
        Behavior::HalfClose,
        Behavior::Reset,
        Behavior::Garbage,
        Behavior::Status(500),
        Behavior::Text,
        Behavior::HugeBody,
        Behavior::BadChunk,
    ];
    for b in broken {
        nodes.push(MockNode::start(b));
    }
    let file = upstreams_for(&nodes, "node");
    let lp = Leanpoint::start_with(
        &[
            "--upstreams-config",
            file.to_str().unwrap(),
            "--poll-ms",
            "200",
            "--timeout-ms",
            "300",
        ],
        Some(64),
    );
    let status = lp.wait_for("/status", Duration::from_secs(10), |r| {
        r.json()["finalized_slot"].as_u64() == Some(18) && r.json()["bundle_verified"] == true
    });
    assert_eq!(status.json()["justified_slot"], 19, "{}", status.text());

    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < Duration::from_secs(8) {
        samples.push(lp.open_fds());
        std::thread::sleep(Duration::from_millis(100));
    }
    let max = *samples.iter().max().unwrap();
    assert!(max < 64, "fds reached the limit: {max}");
    let half = samples.len() / 2;
    let first_max = *samples[..half].iter().max().unwrap();
    let second_max = *samples[half..].iter().max().unwrap();
    assert!(
        second_max <= first_max + 1,
        "fds trend up: {first_max} then {second_max}"
    );

    let ups = lp.get("/api/upstreams").json();
    // The four healthy nodes, and the one that answers JSON on the block and state: its
    // fork choice is fine, so it votes (its bundle is refused when it is asked).
    assert_eq!(ups["consensus"]["responding_upstreams"], 5, "{ups}");
    assert_eq!(ups["consensus"]["has_consensus"], true);
    let state = lp.get("/lean/v0/states/finalized");
    assert_eq!(state.status, 200);
    assert_eq!(state.body, NodeData::fixture().state);
    assert_eq!(lp.get("/healthz").status, 200);
}

#[test]
fn two_against_two_is_never_served() {
    let nodes = [
        MockNode::start(Behavior::Healthy(NodeData::fixture())),
        MockNode::start(Behavior::Healthy(NodeData::fixture())),
        MockNode::start(Behavior::Healthy(NodeData::forked())),
        MockNode::start(Behavior::Healthy(NodeData::forked())),
    ];
    let file = upstreams_for(&nodes, "n");
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "150",
    ]);
    let status = lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["error_count"].as_u64() >= Some(3)
    });
    let s = status.json();
    assert_eq!(s["finalized_slot"], 0, "{s}");
    assert_eq!(s["last_error"], "no consensus reached among upstreams");
    assert_eq!(lp.get("/lean/v0/states/finalized").status, 503);
    assert_eq!(lp.get("/healthz").text(), "no_consensus\n");
    let ups = lp.get("/api/upstreams").json();
    assert_eq!(ups["consensus"]["has_consensus"], false);
    assert_eq!(ups["consensus"]["responding_upstreams"], 4);
}
