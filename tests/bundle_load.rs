//! What the verified bundle costs, with 16 MiB states on real loopback sockets (load
//! tests: run apart, one at a time, see `make test`):
//! - steady state (checkpoint unchanged): only fork choice and justified checkpoint are
//!   fetched, at most 64 KiB per upstream per round; a finalization advance costs one
//!   block and one state in total, whatever the number of upstreams;
//! - sixteen upstreams each serving a different 16 MiB state (fifteen liars and one
//!   honest node, last in the file: the liars of the first majority to answer are asked
//!   in turn before it): resident memory stays under two states plus the idle baseline,
//!   because only one bundle is ever in flight.
//!
//! The figures printed (`--no-capture`) are those of docs/benchmarks.md.

mod common;

use common::inbound::{big_state, metric_of};
use common::mock::{Behavior, NodeData};
use common::{polling, wait_verified, Leanpoint};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const MIB: usize = 1024 * 1024;
const STATE: usize = 16 * MIB;

fn fetched(lp: &Leanpoint, request: &str) -> f64 {
    metric_of(
        lp,
        &format!("leanpoint_upstream_fetched_bytes_total{{request=\"{request}\"}}"),
    )
}

/// A 16 MiB state at the fixture's slot whose roots all differ with `k`.
fn big_variant(k: u8) -> Vec<u8> {
    let mut state = big_state(STATE);
    state[1] ^= k;
    state
}

#[test]
fn steady_state_is_light_and_an_advance_costs_one_state() {
    const UPSTREAMS: usize = 4;
    let first = NodeData::with_state(big_variant(1));
    let shared: Vec<Arc<Mutex<NodeData>>> = (0..UPSTREAMS)
        .map(|_| Arc::new(Mutex::new(first.clone())))
        .collect();
    let behaviors = shared.iter().map(|d| Behavior::Live(d.clone())).collect();
    let (_nodes, lp) = polling(behaviors, "250", &[]);
    wait_verified(&lp, Duration::from_secs(30));
    let rounds = |lp: &Leanpoint| metric_of(lp, "leanpoint_poll_rounds_total");
    let (r0, json0, states0, blocks0) = (
        rounds(&lp),
        fetched(&lp, "json"),
        fetched(&lp, "state"),
        fetched(&lp, "block"),
    );
    assert_eq!(
        states0, STATE as f64,
        "the first bundle: one state in total"
    );
    std::thread::sleep(Duration::from_secs(3));
    let (r1, json1, states1) = (rounds(&lp), fetched(&lp, "json"), fetched(&lp, "state"));
    let steady_rounds = r1 - r0;
    assert!(steady_rounds >= 8.0, "{steady_rounds} rounds");
    let per_upstream_round = (json1 - json0) / steady_rounds / UPSTREAMS as f64;
    eprintln!(
        "steady state: {steady_rounds} rounds, {:.0} bytes per upstream per round, {} state bytes",
        per_upstream_round,
        states1 - states0
    );
    assert!(
        per_upstream_round <= 64.0 * 1024.0,
        "{per_upstream_round} B"
    );
    assert_eq!(
        states1, states0,
        "no state fetched while the checkpoint is unchanged"
    );

    // Finalization advances: every upstream moves to the next bundle.
    let next = NodeData::with_state(big_variant(2));
    let next_root = leanpoint::lean::lstar::state_roots(&next.state)
        .unwrap()
        .block_root;
    for d in &shared {
        *d.lock().unwrap() = next.clone();
    }
    let root_hex = leanpoint::lean::root_hex(&next_root);
    lp.wait_for("/status", Duration::from_secs(30), |r| {
        r.json()["bundle_verified"] == true && r.json()["finalized_root"] == root_hex.as_str()
    });
    assert_eq!(lp.get("/lean/v0/states/finalized").body, next.state);
    let advance_states = fetched(&lp, "state") - states1;
    let advance_blocks = fetched(&lp, "block") - blocks0;
    eprintln!(
        "advance: {:.2} states and {advance_blocks} block bytes fetched in total for {UPSTREAMS} upstreams",
        advance_states / STATE as f64
    );
    assert!(
        advance_states <= 1.25 * STATE as f64,
        "{advance_states} state bytes for one advance"
    );
}

#[test]
fn sixteen_distinct_16_mib_states_stay_under_two_states_and_the_idle_baseline() {
    const UPSTREAMS: usize = 16;
    let honest = NodeData::with_state(big_variant(3));
    let mut behaviors: Vec<Behavior> = (0..UPSTREAMS - 1)
        .map(|k| {
            // The true block and fork choice, a state of its own.
            let mut liar = honest.clone();
            liar.state[100 + k] ^= 0x5a;
            Behavior::Healthy(liar)
        })
        .collect();
    // Asked last by the first fetch (the rotation starts at the first member).
    behaviors.push(Behavior::Healthy(honest.clone()));

    // The idle baseline: the same process and configuration with nothing listening.
    let refused: Vec<(String, String)> = (0..UPSTREAMS)
        .map(|i| {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            (format!("n{i}"), format!("http://127.0.0.1:{port}"))
        })
        .collect();
    let idle_file = common::upstreams_file(&refused);
    let idle = Leanpoint::start(&[
        "--upstreams-config",
        idle_file.to_str().unwrap(),
        "--poll-ms",
        "300",
    ]);
    std::thread::sleep(Duration::from_secs(1));
    let baseline = idle.rss_kib();
    drop(idle);

    let (_nodes, lp) = polling(behaviors, "300", &["--timeout-ms", "10000"]);
    let started = Instant::now();
    let mut peak = 0;
    let mut verified_at = None;
    while started.elapsed() < Duration::from_secs(40) {
        peak = peak.max(lp.rss_kib());
        match verified_at {
            None => {
                let s = lp.get("/status");
                if s.status == 200 && s.json()["bundle_verified"] == true {
                    verified_at = Some(started.elapsed());
                }
            }
            Some(at) if started.elapsed() > at + Duration::from_secs(2) => break,
            Some(_) => {}
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let verified_at = verified_at.expect("the honest bundle was verified");
    let failures = metric_of(&lp, "leanpoint_bundle_verification_failures_total");
    eprintln!(
        "16 distinct 16 MiB states: idle baseline {baseline} KiB, peak {peak} KiB (+{:.1} MiB), {failures} liars refused, verified after {verified_at:?}",
        (peak - baseline) as f64 / 1024.0
    );
    // Members are asked in configuration order, from the first strict majority of the 16
    // to answer: the liars among them, each once, before the honest one.
    assert!(
        (1.0..=(UPSTREAMS - 1) as f64).contains(&failures),
        "{failures} liars refused"
    );
    assert_eq!(lp.get("/lean/v0/states/finalized").body, honest.state);
    let bound = baseline + 2 * (STATE as u64 / 1024);
    assert!(
        peak < bound,
        "peak RSS {peak} KiB is not under two states + the idle baseline ({bound} KiB)"
    );
}
