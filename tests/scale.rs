//! Scale: 1000 simulated upstreams polled by one leanpoint under `ulimit -n 256` with
//! the default poll concurrency (64 sockets). Every upstream is polled every round;
//! the round duration and the CPU time per round are measured and printed.

mod common;
#[path = "devnet/harness.rs"]
mod harness;

use common::Leanpoint;
use harness::Devnet;
use std::time::{Duration, Instant};

/// utime + stime of a process in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find(|l| l.starts_with(name) && l[name.len()..].starts_with(' '))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or(0)
}

#[test]
fn a_thousand_upstreams_under_nofile_256() {
    let devnet = Devnet::start(1000, &["--slot-ms", "2000"]);
    let lp = Leanpoint::start_with(
        &[
            "--upstreams-config",
            devnet.upstreams.to_str().unwrap(),
            "--poll-ms",
            "3000",
            "--timeout-ms",
            "2000",
        ],
        Some(256),
    );
    let metrics = lp.get("/metrics").text();
    assert_eq!(metric(&metrics, "leanpoint_fd_limit"), 256);
    // Wait for a first full round, then measure a few rounds.
    let reply = lp.wait_for("/api/upstreams", Duration::from_secs(30), |r| {
        r.status == 200 && r.json()["consensus"]["responding_upstreams"].as_u64() == Some(1000)
    });
    assert_eq!(
        reply.json()["consensus"]["has_consensus"],
        true,
        "{}",
        reply.text()
    );
    let rounds_before = metric(&lp.get("/metrics").text(), "leanpoint_poll_rounds_total");
    let ticks_before = cpu_ticks(lp.pid());
    let started = Instant::now();
    let mut max_fds = 0;
    let mut round_ms = Vec::new();
    while started.elapsed() < Duration::from_secs(10) {
        max_fds = max_fds.max(lp.open_fds());
        let m = lp.get("/metrics").text();
        round_ms.push(metric(&m, "leanpoint_poll_round_duration_ms"));
        std::thread::sleep(Duration::from_millis(250));
    }
    let m = lp.get("/metrics").text();
    let rounds = metric(&m, "leanpoint_poll_rounds_total") - rounds_before;
    let ticks = cpu_ticks(lp.pid()) - ticks_before;
    // /proc reports CPU time in USER_HZ ticks, which the Linux ABI fixes at 100 per second.
    let tick_ms = 10;
    let ups = lp.get("/api/upstreams").json();
    let list = ups["upstreams"].as_array().cloned().unwrap_or_default();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let fresh = list
        .iter()
        .filter(|u| {
            u["last_success_ms"]
                .as_i64()
                .is_some_and(|t| now_ms - t < 7000)
        })
        .count();
    let max_round = round_ms.iter().copied().max().unwrap_or(0);
    eprintln!(
        "scale: 1000 upstreams, nofile 256: {rounds} rounds in 10 s, round duration max {max_round} ms, \
         CPU {} ms per round, max fds {max_fds}, {fresh}/1000 polled successfully in the last 7 s",
        (ticks * tick_ms).checked_div(rounds).unwrap_or(0)
    );
    assert!(rounds >= 3, "only {rounds} rounds in 10 s");
    assert!(max_fds < 256, "fds {max_fds}");
    assert_eq!(fresh, 1000, "every upstream is polled every round");
    assert_eq!(ups["consensus"]["responding_upstreams"], 1000);
    assert!(metric(&m, "leanpoint_upstream_sockets_open") <= 64);
}
