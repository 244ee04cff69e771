//! The verified checkpoint bundle on real loopback sockets: a lean client checkpoint-
//! syncs from leanpoint as leanSpec does (block, then state, `block.state_root ==
//! hash_tree_root(state)`, block root = the agreed finalized root); upstreams that lie
//! about the state are never served; an upstream without fork choice votes with the
//! root of its own state; health does not flap while nodes disagree around each block.

mod common;

use common::htr;
use common::inbound::{big_state, metric_of};
use common::mock::{Behavior, NodeData};
use common::{http_request, polling, wait_verified, Leanpoint};
use leanpoint::lean::lstar::{signed_block_roots, state_roots};
use leanpoint::lean::root_hex;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a checkpoint-syncing lean client fetches, with `Accept` exactly as clients send it.
fn fetch(lp: &Leanpoint, path: &str) -> common::HttpReply {
    http_request(
        lp.addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: leanpoint\r\nAccept: application/octet-stream\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// A consistent bundle whose state differs from the fixture's by its genesis time (so
/// every root differs): another chain at the same slot.
fn variant(k: u8) -> NodeData {
    let mut state = NodeData::fixture().state;
    state[1] ^= k;
    NodeData::with_state(state)
}

fn upstream<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["upstreams"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == name))
        .unwrap_or(&serde_json::Value::Null)
}

#[test]
fn a_lean_client_checkpoint_syncs_from_leanpoint() {
    let honest = NodeData::fixture();
    let (_nodes, lp) = polling(
        vec![
            Behavior::Healthy(honest.clone()),
            Behavior::Healthy(honest.clone()),
            Behavior::Healthy(honest.clone()),
            Behavior::Healthy(NodeData::forked()),
        ],
        "300",
        &[],
    );
    let status = wait_verified(&lp, Duration::from_secs(10));
    let agreed_root = status.json()["finalized_root"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(agreed_root, common::mock::FIXTURE_FINALIZED_ROOT);

    // The client: block first, then the state; any non-2xx aborts.
    let block = fetch(&lp, "/lean/v0/blocks/finalized");
    assert_eq!(block.status, 200, "{}", block.text());
    assert_eq!(
        block.header("content-type"),
        Some("application/octet-stream")
    );
    let state = fetch(&lp, "/lean/v0/states/finalized");
    assert_eq!(state.status, 200);
    let block_roots = signed_block_roots(&block.body).expect("block decodes");
    let state_roots = state_roots(&state.body).expect("state decodes");
    assert_eq!(
        block_roots.state_root, state_roots.state_root,
        "block.state_root == htr(state)"
    );
    assert_eq!(root_hex(&block_roots.block_root), agreed_root);
    assert_eq!(block_roots.slot, 18);
    // The bytes are the honest upstreams' bytes, and the headers name the roots.
    assert_eq!(
        state.header("eth-consensus-block-root"),
        Some(agreed_root.as_str())
    );
    assert_eq!(
        state.header("eth-consensus-state-root"),
        Some(root_hex(&state_roots.state_root).as_str())
    );
    assert_eq!((block.body, state.body), (honest.block, honest.state));
    // A leanpoint can poll another leanpoint: fork choice of a majority member.
    let fc = lp.get("/lean/v0/fork_choice");
    assert_eq!((fc.status, fc.body), (200, honest.fork_choice));
}

#[test]
fn the_etags_are_digests_of_the_bytes_served_computed_apart_from_leanpoint() {
    // A state other than the fixture's (a history of some 2000 roots), so that neither tag
    // is a constant: the state's is `"0x<hash_tree_root(state)>"`, the block's
    // `"0x<SHA-256 of the signed block>"` (docs/api.md), both computed here, by
    // common::htr's own merkleization and by `sha2`, not by leanpoint's code.
    let data = NodeData::with_state(big_state(64 * 1024));
    let (_nodes, lp) = polling(vec![Behavior::Healthy(data.clone())], "300", &[]);
    wait_verified(&lp, Duration::from_secs(10));
    let state = fetch(&lp, "/lean/v0/states/finalized");
    assert_eq!(state.status, 200);
    assert_eq!(state.body, data.state);
    let root = htr::state_root(&state.body);
    assert_ne!(
        htr::hex(&root),
        "c4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01",
        "not the fixture's state"
    );
    let state_tag = htr::quoted_etag(&root);
    assert_eq!(state.header("etag"), Some(state_tag.as_str()));
    assert_eq!(
        state.header("eth-consensus-state-root"),
        Some(format!("0x{}", htr::hex(&root)).as_str())
    );
    let block = fetch(&lp, "/lean/v0/blocks/finalized");
    assert_eq!((block.status, &block.body), (200, &data.block));
    let block_tag = htr::quoted_etag(&Sha256::digest(&block.body));
    assert_eq!(block.header("etag"), Some(block_tag.as_str()));
    // Each tag built here revalidates its own body, and only its own.
    for (path, tag, other) in [
        ("/lean/v0/states/finalized", &state_tag, &block_tag),
        ("/lean/v0/blocks/finalized", &block_tag, &state_tag),
    ] {
        let conditional = |tag: &str| {
            http_request(
                lp.addr,
                &format!(
                    "GET {path} HTTP/1.1\r\nHost: t\r\nIf-None-Match: {tag}\r\nConnection: close\r\n\r\n"
                ),
            )
        };
        let not_modified = conditional(tag);
        assert_eq!(not_modified.status, 304, "{path}");
        assert!(not_modified.body.is_empty(), "{path}");
        assert_eq!(not_modified.header("etag"), Some(tag.as_str()), "{path}");
        assert_eq!(conditional(other).status, 200, "{path}");
    }
}

#[test]
fn three_liars_of_four_are_never_served() {
    let honest = NodeData::fixture();
    let liar = honest.tampered();
    assert_ne!(liar.state, honest.state);
    let (_nodes, lp) = polling(
        vec![
            Behavior::Healthy(liar.clone()),
            Behavior::Healthy(liar.clone()),
            Behavior::Healthy(liar),
            Behavior::Healthy(honest.clone()),
        ],
        "200",
        &[],
    );
    let started = Instant::now();
    let (mut served, mut refused) = (0, 0);
    while started.elapsed() < Duration::from_secs(4) {
        let r = lp.get("/lean/v0/states/finalized");
        match r.status {
            200 => {
                assert_eq!(
                    r.body, honest.state,
                    "only the honest bytes are ever served"
                );
                served += 1;
            }
            503 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        served > 0,
        "the honest bundle was never served ({refused} refusals)"
    );
    let ups = lp.get("/api/upstreams").json();
    let mismatched = (0..3)
        .filter(|i| {
            let u = upstream(&ups, &format!("n{i}"));
            u["last_mismatch"].is_string()
                && u["errors_by_kind"]["checkpoint_mismatch"].as_u64() >= Some(1)
        })
        .count();
    // Each liar is asked at most once per checkpoint; the rotation may reach the honest
    // node before some of them.
    assert!(metric_of(&lp, "leanpoint_bundle_verification_failures_total") as usize >= mismatched);
    assert!(
        upstream(&ups, "n3")["last_mismatch"].is_null(),
        "the honest node is not blamed: {ups}"
    );
    assert_eq!(lp.get("/status").json()["bundle_verified"], true);
}

#[test]
fn every_liar_is_skipped_and_the_honest_member_found_whatever_the_rotation() {
    // Five agreeing upstreams, four of them lying: whichever is asked first, the bundle
    // served is the honest one, and no liar is asked twice for the same checkpoint.
    let honest = NodeData::fixture();
    let mut behaviors: Vec<Behavior> = (1..5u8)
        .map(|k| {
            let mut liar = honest.clone();
            liar.state[1] ^= k;
            Behavior::Healthy(liar)
        })
        .collect();
    behaviors.insert(2, Behavior::Healthy(honest.clone()));
    let (_nodes, lp) = polling(behaviors, "150", &[]);
    wait_verified(&lp, Duration::from_secs(10));
    assert_eq!(lp.get("/lean/v0/states/finalized").body, honest.state);
    std::thread::sleep(Duration::from_millis(800));
    let ups = lp.get("/api/upstreams").json();
    for i in [0, 1, 3, 4] {
        let count = upstream(&ups, &format!("n{i}"))["errors_by_kind"]["checkpoint_mismatch"]
            .as_u64()
            .unwrap_or(0);
        assert!(
            count <= 1,
            "n{i} was asked {count} times for one checkpoint"
        );
    }
}

#[test]
fn an_upstream_without_fork_choice_votes_with_its_own_state_root() {
    let honest = NodeData::fixture();
    let (_nodes, lp) = polling(
        vec![
            Behavior::NoForkChoice(honest.clone()),
            Behavior::NoForkChoice(honest.clone()),
            Behavior::Healthy(NodeData::forked()),
        ],
        "200",
        &[],
    );
    let status = wait_verified(&lp, Duration::from_secs(10));
    let v = status.json();
    // The two without fork choice are the majority: their derived root won.
    assert_eq!(v["finalized_root"], common::mock::FIXTURE_FINALIZED_ROOT);
    assert_eq!(v["agreeing_upstreams"], 2);
    let ups = lp.get("/api/upstreams").json();
    let n0 = upstream(&ups, "n0");
    assert_eq!(n0["serves_fork_choice"], false);
    assert_eq!(n0["finalized_root"], common::mock::FIXTURE_FINALIZED_ROOT);
    assert_eq!(n0["last_finalized_slot"], 18);
    assert_eq!(n0["healthy"], true);
    assert_eq!(lp.get("/lean/v0/states/finalized").body, honest.state);
    assert!(
        metric_of(
            &lp,
            "leanpoint_upstream_fetched_bytes_total{request=\"vote_state\"}"
        ) > 0.0
    );
    // No fork choice among the members: none to serve.
    assert_eq!(lp.get("/lean/v0/fork_choice").status, 503);
}

#[test]
fn health_does_not_flap_while_nodes_disagree_around_each_block() {
    // Two nodes step to a new finalized checkpoint every 2 s; the second one 0.7 s after
    // the first, so for 0.7 s of every 2 s they disagree (1 of 2 is no majority).
    let chain: Vec<NodeData> = (1..=8u8).map(variant).collect();
    let a = Arc::new(Mutex::new(chain[0].clone()));
    let b = Arc::new(Mutex::new(chain[0].clone()));
    let behaviors = vec![Behavior::Live(a.clone()), Behavior::Live(b.clone())];
    let (_nodes, lp) = polling(behaviors, "500", &[]);
    wait_verified(&lp, Duration::from_secs(10));
    let stepper = std::thread::spawn(move || {
        for next in chain.iter().skip(1) {
            std::thread::sleep(Duration::from_millis(1300));
            *a.lock().unwrap() = next.clone();
            std::thread::sleep(Duration::from_millis(700));
            *b.lock().unwrap() = next.clone();
        }
    });
    let (mut ok, mut total) = (0usize, 0usize);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(14) {
        total += 1;
        ok += usize::from(lp.get("/healthz").status == 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    stepper.join().unwrap();
    let share = ok as f64 / total as f64;
    eprintln!(
        "/healthz 200 in {ok} of {total} samples ({:.1}%)",
        share * 100.0
    );
    assert!(
        share >= 0.98,
        "/healthz answered 200 in only {ok} of {total} samples"
    );
    let status = lp.get("/status").json();
    // The splits were rounds without consensus, counted where alerts belong...
    assert!(status["error_count"].as_u64() >= Some(3), "{status}");
    // ...and retried soon: the last checkpoint is agreed and verified.
    let last = variant(8);
    let roots = state_roots(&last.state).unwrap();
    let agreed = lp.wait_for("/status", Duration::from_secs(3), |r| {
        r.json()["bundle_verified"] == true
            && r.json()["finalized_root"] == root_hex(&roots.block_root).as_str()
    });
    assert_eq!(
        agreed.json()["state_root"],
        root_hex(&roots.state_root).as_str()
    );
}
