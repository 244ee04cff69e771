//! When the finalized state changes, the first upstream to return the new state becomes
//! the reference that later state requests of the same round are compared against, so
//! with more upstreams than upstream sockets most downloads of a new state are matched
//! rather than stored (`leanpoint_state_downloads_total{outcome}`).

mod common;
#[path = "devnet/harness.rs"]
mod harness;

use common::Leanpoint;
use harness::Devnet;
use std::time::Duration;

fn counter(lp: &Leanpoint, outcome: &str) -> u64 {
    let needle = format!("leanpoint_state_downloads_total{{outcome=\"{outcome}\"}} ");
    lp.get("/metrics")
        .text()
        .lines()
        .find_map(|l| {
            l.strip_prefix(needle.as_str())
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or_else(|| panic!("no {needle}"))
}

#[test]
fn later_downloads_of_a_new_state_are_matched_not_stored() {
    let devnet = Devnet::start(8, &["--slot-ms", "1000"]);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        devnet.upstreams.to_str().unwrap(),
        "--poll-ms",
        "250",
        "--poll-concurrency",
        "2",
    ]);
    lp.wait_for("/status", Duration::from_secs(10), |r| {
        r.json()["finalized_slot"].as_u64() > Some(0)
    });
    let (m0, s0) = (counter(&lp, "matched"), counter(&lp, "stored"));
    std::thread::sleep(Duration::from_secs(5));
    let (matched, stored) = (counter(&lp, "matched") - m0, counter(&lp, "stored") - s0);
    eprintln!("over 5 s: {matched} matched, {stored} stored");
    // About 5 new states in 5 s, each stored once or twice (two sockets) and matched by
    // the other upstreams; storing every download would be 8 per new state.
    assert!(
        matched + stored >= 40,
        "too few polls: {matched} + {stored}"
    );
    assert!(
        stored * 8 <= matched + stored,
        "{stored} of {} downloads stored",
        matched + stored
    );
}
