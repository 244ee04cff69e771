//! Identical states are held once, even while they download: eight upstreams serving
//! the same 16 MiB state are polled round after round, and the leanpoint child's RSS
//! stays within a fraction of one state above its level after the first agreement
//! (storing each download would add 8 x 16 MiB at the peak of every round).

mod common;

use common::inbound::big_state;
use common::mock::{Behavior, MockNode, NodeData};
use common::{upstreams_for, Leanpoint};
use std::time::{Duration, Instant};

const STATE: usize = 16 * 1024 * 1024;

#[test]
fn eight_identical_16_mib_states_are_not_held_eight_times() {
    let mut data = NodeData::fixture();
    data.state = big_state(STATE);
    let nodes: Vec<MockNode> = (0..8)
        .map(|_| MockNode::start(Behavior::Healthy(data.clone())))
        .collect();
    let file = upstreams_for(&nodes, "n");
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "300",
        "--timeout-ms",
        "5000",
    ]);
    let agreed = lp.wait_for("/api/upstreams", Duration::from_secs(30), |r| {
        r.status == 200 && r.json()["consensus"]["agreeing_upstreams"] == 8
    });
    assert_eq!(
        agreed.json()["consensus"]["identical_state_upstreams"],
        8,
        "{}",
        agreed.text()
    );
    // One more round so the baseline includes every allocation that stays.
    std::thread::sleep(Duration::from_millis(800));
    let baseline = lp.rss_kib();
    let started = Instant::now();
    let mut peak = baseline;
    while started.elapsed() < Duration::from_secs(4) {
        peak = peak.max(lp.rss_kib());
        std::thread::sleep(Duration::from_millis(5));
    }
    let rounds = lp.get("/metrics").text();
    eprintln!("RSS baseline {baseline} KiB, peak {peak} KiB over 4 s of rounds");
    assert!(rounds.contains("leanpoint_poll_rounds_total"));
    assert!(
        peak <= baseline + 8 * 1024,
        "RSS rose from {baseline} KiB to {peak} KiB while polling identical states"
    );
    assert_eq!(lp.get("/lean/v0/states/finalized").body, data.state);
}
