//! `lean-devnet` end to end: leanpoint polling a simulated devnet (3 healthy nodes, one
//! lagging, one silent) reaches agreement, follows the finalized slot as it advances and
//! reports the faulty nodes; each fault profile behaves as named on the wire; flags;
//! a thousand nodes in one process.

mod common;
#[path = "devnet/harness.rs"]
mod harness;

use common::{http_get, Leanpoint};
use harness::{devnet_bin, Devnet};
use leanpoint::lean::json::{parse_checkpoint, parse_fork_choice};
use leanpoint::lean::ssz::validate_state;
use std::io::{Read, Write};
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
    assert_eq!(
        http_get(addr("node0"), "/lean/v0/blocks/finalized").status,
        404
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
    assert!(
        help.contains("--upstreams-out") && help.contains("silent"),
        "{help}"
    );
}
