//! `lean-devnet` end to end: leanpoint polling a simulated devnet (3 healthy nodes, one
//! lagging, one silent) reaches agreement, follows the finalized slot as it advances and
//! reports the faulty nodes; each fault profile behaves as named on the wire; the
//! checkpoint bundle passes the checks a leanSpec client makes (and the `liar`'s fails
//! them); flags; a thousand nodes in one process.

mod common;
#[path = "devnet/harness.rs"]
mod harness;

use common::{http_get, http_request, HttpReply, Leanpoint};
use harness::{devnet_bin, Devnet};
use leanpoint::lean::json::{parse_checkpoint, parse_fork_choice};
use leanpoint::lean::lstar::{signed_block_roots, state_roots, BlockRoots, StateRoots};
use leanpoint::lean::ssz::validate_state;
use leanpoint::lean::{root_hex, Checkpoint};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

fn status_finalized(lp: &Leanpoint) -> u64 {
    let reply = lp.get("/status");
    if reply.status != 200 {
        return 0;
    }
    reply.json()["finalized_slot"].as_u64().unwrap_or(0)
}

fn upstream_field(lp: &Leanpoint, name: &str, field: &str) -> serde_json::Value {
    let reply = lp.get("/api/upstreams");
    if reply.status != 200 {
        return serde_json::Value::Null;
    }
    let json = reply.json();
    json["upstreams"]
        .as_array()
        .and_then(|list| list.iter().find(|u| u["name"] == name))
        .map(|u| u[field].clone())
        .unwrap_or(serde_json::Value::Null)
}

/// Polls `probe` until `pred` holds or `timeout` passes; returns the last value.
fn eventually<T: std::fmt::Debug>(
    timeout: Duration,
    probe: impl Fn() -> T,
    pred: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        let value = probe();
        if pred(&value) || Instant::now() > deadline {
            return value;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn leanpoint_agrees_on_the_devnet_and_flags_its_faults() {
    let devnet = Devnet::start(
        5,
        &[
            "--profiles",
            "healthy,healthy,healthy,lagging,silent",
            "--slot-ms",
            "300",
        ],
    );
    let upstreams = devnet.upstreams.to_str().expect("utf-8 path").to_string();
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        &upstreams,
        "--poll-ms",
        "200",
        "--timeout-ms",
        "500",
    ]);

    // Agreement: a finalized slot above 0 and a consensus among the responders.
    let first = eventually(
        Duration::from_secs(10),
        || status_finalized(&lp),
        |slot| *slot > 0,
    );
    assert!(
        first > 0,
        "no agreed finalized slot: {}",
        lp.get("/status").text()
    );
    let consensus = eventually(
        Duration::from_secs(10),
        || lp.get("/api/upstreams"),
        |r| r.status == 200 && r.json()["consensus"]["has_consensus"] == true,
    );
    assert_eq!(
        consensus.json()["consensus"]["has_consensus"],
        true,
        "{}",
        consensus.text()
    );

    // The finalized slot follows the chain (one slot per 300 ms).
    let later = eventually(
        Duration::from_secs(6),
        || status_finalized(&lp),
        |slot| *slot >= first + 3,
    );
    assert!(later >= first + 3, "finalized stuck: {first} then {later}");

    // The silent node times out; the lagging one is behind the healthy ones.
    let kind = eventually(
        Duration::from_secs(6),
        || upstream_field(&lp, "node4", "last_error_kind"),
        |k| k == "request_timeout",
    );
    assert_eq!(kind, "request_timeout");
    let (lagging, healthy) = eventually(
        Duration::from_secs(6),
        || {
            (
                upstream_field(&lp, "node3", "last_finalized_slot").as_u64(),
                upstream_field(&lp, "node0", "last_finalized_slot").as_u64(),
            )
        },
        |(l, h)| matches!((l, h), (Some(l), Some(h)) if l < h),
    );
    assert!(
        matches!((lagging, healthy), (Some(l), Some(h)) if l < h),
        "lagging {lagging:?} healthy {healthy:?}"
    );
    assert_eq!(upstream_field(&lp, "node3", "healthy"), true, "it answers");
}

#[test]
fn each_profile_behaves_as_named() {
    let mut devnet = Devnet::start(
        8,
        &[
            "--profiles",
            "healthy,healthy,forked,lagging,slow,flaky,garbage,down",
            "--slot-ms",
            "60000",
            "--start-slot",
            "20",
            "--slow-ms",
            "400",
            "--flaky-percent",
            "50",
        ],
    );
    let addr = |name: &str| devnet.node(name).addr;
    let state = |name: &str| http_get(addr(name), "/lean/v0/states/finalized");

    // Healthy nodes serve byte-identical valid states and matching JSON.
    let (a, b) = (state("node0"), state("node1"));
    assert_eq!(a.status, 200);
    assert_eq!(a.header("content-type"), Some("application/octet-stream"));
    assert_eq!(a.body, b.body, "healthy nodes agree byte for byte");
    let summary = validate_state(&a.body).expect("leanpoint accepts the state");
    assert_eq!(summary.slot, 17);
    let justified =
        parse_checkpoint(&http_get(addr("node0"), "/lean/v0/checkpoints/justified").body)
            .expect("justified JSON");
    assert_eq!(justified.slot, 18);
    let fc = parse_fork_choice(&http_get(addr("node0"), "/lean/v0/fork_choice").body)
        .expect("fork choice JSON");
    assert_eq!((fc.head_slot, fc.finalized.slot), (Some(20), 17));
    assert_eq!(fc.justified, justified);
    let health = http_get(addr("node0"), "/lean/v0/health");
    assert_eq!(
        health.text(),
        r#"{"status":"healthy","service":"lean-rpc-api"}"#
    );
    let block = ssz_get(addr("node0"), BLOCK);
    assert_eq!(block.status, 200);
    assert_eq!(
        block.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(
        signed_block_roots(&block.body).expect("a SignedBlock").slot,
        17
    );

    // Forked: same slots, other roots. Lagging: three slots behind.
    let forked = state("node2");
    let forked_summary = validate_state(&forked.body).expect("forked state valid");
    assert_eq!(forked_summary.slot, summary.slot);
    assert_ne!(forked.body, a.body);
    let lagging = validate_state(&state("node3").body).expect("lagging state valid");
    assert_eq!(lagging.slot, summary.slot - 3);

    // Slow: answers, after its delay.
    let started = Instant::now();
    let slow = http_get(addr("node4"), "/lean/v0/health");
    assert_eq!(slow.status, 200);
    assert!(
        started.elapsed() >= Duration::from_millis(380),
        "{:?}",
        started.elapsed()
    );

    // Flaky: some connections reset, the others served.
    let statuses: Vec<u16> = (0..30)
        .map(|_| http_get(addr("node5"), "/lean/v0/health").status)
        .collect();
    let served = statuses.iter().filter(|s| **s == 200).count();
    assert!(served > 0 && served < 30, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 0),
        "{statuses:?}"
    );

    // Garbage: bytes that are not HTTP, then the end of the stream.
    let mut s = TcpStream::connect(addr("node6")).expect("connect garbage");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /lean/v0/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).expect("closed after the garbage");
    assert!(!got.is_empty() && !got.starts_with(b"HTTP/"), "{got:?}");

    // Down: nothing listens.
    assert!(TcpStream::connect(addr("node7")).is_err());

    // Keep-alive and pipelining through the shared shell.
    let mut s = TcpStream::connect(addr("node1")).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(
        b"GET /lean/v0/health HTTP/1.1\r\nHost: x\r\n\r\n\
          GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("both answers, then close");
    let raw = String::from_utf8_lossy(&raw);
    let first = raw.find("HTTP/1.1 200 OK").expect("first answer");
    let second = raw.find("HTTP/1.1 404 Not Found").expect("second answer");
    assert!(first < second, "{raw}");

    // SIGTERM stops it cleanly.
    let status = devnet
        .terminate(Duration::from_secs(5))
        .expect("exits on SIGTERM");
    assert!(status.success(), "{status:?}");
}

const BLOCK: &str = "/lean/v0/blocks/finalized";
const STATE: &str = "/lean/v0/states/finalized";
const FORK_CHOICE: &str = "/lean/v0/fork_choice";
const JUSTIFIED: &str = "/lean/v0/checkpoints/justified";

/// `GET path` as a checkpoint-syncing client sends it (exactly
/// `Accept: application/octet-stream`).
fn ssz_get(addr: SocketAddr, path: &str) -> HttpReply {
    http_request(
        addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: t\r\nAccept: application/octet-stream\r\n\
             Connection: close\r\n\r\n"
        ),
    )
}

/// What a leanSpec client does with a checkpoint source: fetch the block, then the
/// state, abort on a non-2xx, decode both, require `block.state_root ==
/// hash_tree_root(state)`.
fn checkpoint_sync(addr: SocketAddr) -> Result<(BlockRoots, StateRoots), String> {
    let block = ssz_get(addr, BLOCK);
    if !(200..300).contains(&block.status) {
        return Err(format!("block: status {}", block.status));
    }
    let state = ssz_get(addr, STATE);
    if !(200..300).contains(&state.status) {
        return Err(format!("state: status {}", state.status));
    }
    let block = signed_block_roots(&block.body).map_err(|e| format!("block: {e:?}"))?;
    let state = state_roots(&state.body).map_err(|e| format!("state: {e:?}"))?;
    if block.state_root != state.state_root {
        return Err(format!(
            "block.state_root {} != hash_tree_root(state) {}",
            root_hex(&block.state_root),
            root_hex(&state.state_root)
        ));
    }
    Ok((block, state))
}

fn fork_choice(addr: SocketAddr) -> serde_json::Value {
    let reply = http_get(addr, FORK_CHOICE);
    assert_eq!(reply.status, 200, "{addr}: {}", reply.text());
    reply.json()
}

fn finalized_of(fc: &serde_json::Value) -> Checkpoint {
    let body = serde_json::to_vec(fc).unwrap();
    parse_fork_choice(&body).expect("fork choice").finalized
}

/// A devnet whose slots do not move during the test: head 20, finalized 17.
fn still_devnet(profiles: &str) -> Devnet {
    let nodes = profiles.split(',').count();
    Devnet::start(
        nodes,
        &[
            "--profiles",
            profiles,
            "--slot-ms",
            "600000",
            "--start-slot",
            "20",
        ],
    )
}

#[test]
fn healthy_nodes_serve_a_bundle_a_client_verifies() {
    let devnet = still_devnet("healthy,healthy,forked");
    let addr = |name: &str| devnet.node(name).addr;

    let (block, state) = checkpoint_sync(addr("node0")).expect("a verified bundle");
    let fc = fork_choice(addr("node0"));
    let finalized = finalized_of(&fc);
    assert_eq!(finalized.slot, 17);
    assert_eq!(block.slot, 17);
    assert_eq!(
        block.block_root, finalized.root,
        "block root = finalized root"
    );
    assert_eq!(
        state.block_root, finalized.root,
        "the state's header, its root filled in, hashes to the same root"
    );
    assert_eq!(state.summary.slot, 17);
    assert_eq!(state.header_slot, 17);

    // The fork choice is one chain of true roots from the finalized block to the head.
    let nodes = fc["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 4);
    assert_eq!(nodes[0]["root"], root_hex(&finalized.root));
    assert_eq!(nodes[0]["parent_root"], root_hex(&block.parent_root));
    for pair in nodes.windows(2) {
        assert_eq!(pair[1]["parent_root"], pair[0]["root"]);
    }
    assert_eq!(fc["head"], nodes[3]["root"]);
    assert_eq!(fc["justified"]["root"], nodes[1]["root"]);
    let justified = parse_checkpoint(&http_get(addr("node0"), JUSTIFIED).body).unwrap();
    assert_eq!(justified.slot, 18);
    assert_eq!(fc["justified"]["root"], root_hex(&justified.root));

    // HEAD: the same head, no body.
    let head = http_request(
        addr("node0"),
        "HEAD /lean/v0/blocks/finalized HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(
            ssz_get(addr("node0"), BLOCK)
                .body
                .len()
                .to_string()
                .as_str()
        )
    );

    // Another healthy node serves the same bytes; the forked one a bundle as consistent,
    // of other roots at the same slot.
    assert_eq!(
        ssz_get(addr("node1"), BLOCK).body,
        ssz_get(addr("node0"), BLOCK).body
    );
    assert_eq!(
        ssz_get(addr("node1"), STATE).body,
        ssz_get(addr("node0"), STATE).body
    );
    let (forked_block, forked_state) = checkpoint_sync(addr("node2")).expect("forked bundle");
    let forked_finalized = finalized_of(&fork_choice(addr("node2")));
    assert_eq!(forked_block.block_root, forked_finalized.root);
    assert_eq!(forked_state.block_root, forked_finalized.root);
    assert_eq!(forked_finalized.slot, 17);
    assert_ne!(forked_finalized.root, finalized.root);
}

#[test]
fn a_liar_serves_a_state_only_root_verification_catches() {
    let devnet = still_devnet("healthy,liar");
    let (honest, liar) = (devnet.node("node0").addr, devnet.node("node1").addr);

    // Everything but the state is the truth.
    for path in [BLOCK, FORK_CHOICE, JUSTIFIED, "/lean/v0/health"] {
        let (a, b) = (ssz_get(honest, path), ssz_get(liar, path));
        assert_eq!((a.status, b.status), (200, 200), "{path}");
        assert_eq!(a.body, b.body, "{path}");
    }
    // The state: layout-valid, same slots and checkpoints, one byte off.
    let (truth, lie) = (ssz_get(honest, STATE).body, ssz_get(liar, STATE).body);
    assert_eq!(truth.len(), lie.len());
    assert_eq!(truth.iter().zip(&lie).filter(|(a, b)| a != b).count(), 1);
    assert_eq!(validate_state(&lie), validate_state(&truth));
    let lie_roots = state_roots(&lie).expect("layout-valid");
    assert_eq!(lie_roots.summary, state_roots(&truth).unwrap().summary);

    // Only the roots give it away.
    checkpoint_sync(honest).expect("the honest bundle verifies");
    let err = checkpoint_sync(liar).expect_err("the lie is caught");
    assert!(err.contains("block.state_root"), "{err}");
    let finalized = finalized_of(&fork_choice(liar));
    assert_ne!(lie_roots.block_root, finalized.root);
}

#[test]
fn no_fork_choice_answers_404_there_and_the_rest_is_true() {
    let devnet = still_devnet("healthy,no-fork-choice");
    let (healthy, bare) = (devnet.node("node0").addr, devnet.node("node1").addr);

    assert_eq!(http_get(bare, FORK_CHOICE).status, 404);
    let head = http_request(
        bare,
        "HEAD /lean/v0/fork_choice HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(head.status, 404);
    for path in [BLOCK, STATE, JUSTIFIED, "/lean/v0/health"] {
        let (a, b) = (ssz_get(healthy, path), ssz_get(bare, path));
        assert_eq!(b.status, 200, "{path}");
        assert_eq!(a.body, b.body, "{path}");
    }
    // Without the fork choice, the finalized root comes from the state itself.
    let (block, state) = checkpoint_sync(bare).expect("a verified bundle");
    let finalized = finalized_of(&fork_choice(healthy));
    assert_eq!(state.block_root, finalized.root);
    assert_eq!(block.block_root, finalized.root);
}

#[test]
fn a_late_node_sees_each_slot_late_ms_after_the_others() {
    const SLOT_MS: u64 = 1000;
    const LATE_MS: u64 = 700; // the default
    let devnet = Devnet::start(
        2,
        &[
            "--profiles",
            "healthy,late",
            "--slot-ms",
            &SLOT_MS.to_string(),
        ],
    );
    let (healthy, late) = (devnet.node("node0").addr, devnet.node("node1").addr);
    // Finalized and justified from one answer (two could straddle a change).
    let checkpoints = |addr| {
        let reply = http_get(addr, FORK_CHOICE);
        assert_eq!(reply.status, 200, "{addr}: {}", reply.text());
        let fc = parse_fork_choice(&reply.body).expect("fork choice");
        (fc.finalized, fc.justified)
    };

    // Samples of (late, then healthy), 10 ms apart, over four slots.
    let mut behind = 0;
    let mut level = 0;
    let mut roots = std::collections::HashMap::new();
    let mut advanced_at = std::collections::HashMap::new();
    let mut delays = Vec::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(4 * SLOT_MS + 300) {
        let (late_fin, late_just) = checkpoints(late);
        let (fin, just) = checkpoints(healthy);
        let now = Instant::now();
        advanced_at.entry(fin.slot).or_insert(now);
        roots.insert(fin.slot, fin.root);
        roots.insert(just.slot, just.root);
        if let Some(first) = advanced_at.get(&late_fin.slot) {
            if !delays.iter().any(|(s, _)| *s == late_fin.slot) {
                delays.push((late_fin.slot, now.duration_since(*first)));
            }
        }
        assert!(
            late_fin.slot <= fin.slot,
            "late ahead: {late_fin:?} {fin:?}"
        );
        if late_fin.slot + 1 == fin.slot {
            behind += 1;
            assert_eq!(late_just.slot + 1, just.slot, "justified differs too");
        } else if late_fin == fin {
            level += 1;
            assert_eq!(late_just, just);
        }
        // The late node's checkpoints are true roots of the same chain.
        if let Some(root) = roots.get(&late_fin.slot) {
            assert_eq!(*root, late_fin.root, "slot {}", late_fin.slot);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    eprintln!("{behind} samples behind, {level} level; catch-up delays {delays:?}");
    assert!(behind > 0 && level > 0, "behind {behind}, level {level}");
    // About 70% of the samples fall in the late window (loose: the machine is shared).
    let share = behind as f64 / (behind + level) as f64;
    assert!(
        (0.4..0.95).contains(&share),
        "{share}: {behind} behind, {level} level"
    );
    // In some slot the late node caught up about LATE_MS after the healthy one advanced.
    let late = Duration::from_millis(LATE_MS);
    assert!(
        delays
            .iter()
            .any(|(_, d)| *d + Duration::from_millis(150) >= late
                && *d <= late + Duration::from_millis(300)),
        "{delays:?}"
    );
}

#[test]
fn a_thousand_nodes_in_one_process() {
    let devnet = Devnet::start(1000, &["--slot-ms", "1000"]);
    assert_eq!(devnet.nodes.len(), 1000);
    assert!(devnet.nodes.iter().all(|n| n.profile == "healthy"));
    let file = std::fs::read_to_string(&devnet.upstreams).expect("upstreams file");
    let specs = leanpoint::config::parse_upstreams_file("upstreams.json", &file).expect("valid");
    assert_eq!(specs.len(), 1000);
    let bodies: Vec<Vec<u8>> = ["node0", "node499", "node999"]
        .iter()
        .map(|n| {
            let reply = http_get(devnet.node(n).addr, "/lean/v0/states/finalized");
            assert_eq!(reply.status, 200, "{n}");
            reply.body
        })
        .collect();
    assert!(validate_state(&bodies[0]).is_ok());
    // Held connections on many nodes at once.
    let held: Vec<TcpStream> = devnet
        .nodes
        .iter()
        .step_by(4)
        .filter_map(|n| TcpStream::connect(n.addr).ok())
        .collect();
    assert_eq!(held.len(), 250);
    assert_eq!(
        http_get(devnet.node("node998").addr, "/lean/v0/health").status,
        200
    );
}

#[test]
fn bad_flags_exit_2_naming_the_flag_and_help_exits_0() {
    let out = Command::new(devnet_bin())
        .args(["--nodes", "many"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        "lean-devnet: --nodes: \"many\" is not a number"
    );
    assert_eq!(err.lines().count(), 1);

    let out = Command::new(devnet_bin())
        .args(["--profiles", "healthy,sleepy"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("lean-devnet: --profiles: "));

    let out = Command::new(devnet_bin())
        .arg("--help")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    for word in [
        "--upstreams-out",
        "--late-ms",
        "silent",
        "liar",
        "no-fork-choice",
    ] {
        assert!(help.contains(word), "{word}: {help}");
    }
}

#[test]
fn a_lean_client_checkpoint_syncs_from_leanpoint_while_the_devnet_moves_and_a_node_lies() {
    let devnet = Devnet::start(
        5,
        &[
            "--profiles",
            "healthy,liar,healthy,healthy,late",
            "--slot-ms",
            "800",
        ],
    );
    let upstreams = devnet.upstreams.to_str().expect("utf-8 path").to_string();
    let lp = Leanpoint::start(&["--upstreams-config", &upstreams, "--poll-ms", "200"]);
    let (mut synced, mut refused) = (0, 0);
    let mut roots = std::collections::BTreeSet::new();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(8) {
        match checkpoint_sync(lp.addr) {
            Ok((block, state)) => {
                // A verified pair, never the liar's state (its state does not hash to
                // the block's state_root, which is the only thing it lies about).
                assert_eq!(block.block_root, state.block_root);
                roots.insert(block.block_root);
                synced += 1;
            }
            Err(e) if e.contains("status 503") => refused += 1,
            Err(e) => panic!("a checkpoint sync failed: {e}"),
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    eprintln!(
        "{synced} syncs over {} checkpoints, {refused} refusals",
        roots.len()
    );
    assert!(synced > 50, "{synced} syncs, {refused} refusals");
    assert!(
        roots.len() >= 4,
        "the bundle followed finalization: {} roots",
        roots.len()
    );
    // The rotation asks the liar first now and then; its bundles are refused.
    let mismatches = eventually(
        Duration::from_secs(10),
        || {
            upstream_field(&lp, "node1", "errors_by_kind")["checkpoint_mismatch"]
                .as_u64()
                .unwrap_or(0)
        },
        |n| *n >= 1,
    );
    assert!(mismatches >= 1, "the liar was never caught");
    assert!(upstream_field(&lp, "node1", "last_mismatch").is_string());
    assert!(upstream_field(&lp, "node0", "last_mismatch").is_null());
}

#[test]
fn healthz_does_not_flap_with_a_node_that_sees_each_slot_late() {
    // Two nodes, one seeing each 2 s slot 0.7 s late: for 0.7 s of every 2 s their
    // finalized checkpoints differ and a round has no majority.
    let devnet = Devnet::start(
        2,
        &[
            "--profiles",
            "healthy,late",
            "--slot-ms",
            "2000",
            "--late-ms",
            "700",
        ],
    );
    let upstreams = devnet.upstreams.to_str().expect("utf-8 path").to_string();
    let lp = Leanpoint::start(&["--upstreams-config", &upstreams, "--poll-ms", "500"]);
    eventually(
        Duration::from_secs(10),
        || lp.get("/status").json()["bundle_verified"] == true,
        |ok| *ok,
    );
    let (mut ok, mut total) = (0usize, 0usize);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(12) {
        total += 1;
        ok += usize::from(lp.get("/healthz").status == 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    let status = lp.get("/status").json();
    eprintln!(
        "/healthz 200 in {ok} of {total} samples; {} rounds without consensus",
        status["error_count"]
    );
    assert!(
        ok * 100 >= total * 98,
        "/healthz 200 in only {ok} of {total}"
    );
    assert!(
        status["error_count"].as_u64() >= Some(2),
        "the splits happened: {status}"
    );
}
