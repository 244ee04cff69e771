//! Soak: leanpoint under `ulimit -n 64` against a simulated devnet mixing healthy,
//! lagging, silent, slow, flaky and garbage nodes, plus an inbound flood (slowloris and
//! connection churn). Open fds never reach the limit and do not trend up, `/healthz`
//! keeps answering, consensus holds and follows the chain, RSS stays flat, and the
//! process stops cleanly at the end. Bounded: `SOAK_SECS` (default 45; `make soak` runs
//! it for 10 minutes).

mod common;
#[path = "devnet/harness.rs"]
mod harness;

use common::{http_get, Leanpoint};
use harness::Devnet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOFILE: usize = 64;

fn soak_secs() -> u64 {
    std::env::var("SOAK_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(45)
}

/// Max of a slice's thirds: (first third, last third).
fn thirds(samples: &[u64]) -> (u64, u64) {
    let n = samples.len() / 3;
    let first = samples[..n.max(1)].iter().copied().max().unwrap_or(0);
    let last = samples[samples.len() - n.max(1)..]
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    (first, last)
}

#[test]
fn soak_under_nofile_64_with_faulty_nodes_and_an_inbound_flood() {
    let secs = soak_secs();
    let devnet = Devnet::start(
        10,
        &[
            "--profiles",
            "healthy,healthy,healthy,healthy,healthy,lagging,silent,slow,flaky,garbage",
            "--slot-ms",
            "500",
            "--slow-ms",
            "1500",
        ],
    );
    let mut lp = Leanpoint::start_with(
        &[
            "--upstreams-config",
            devnet.upstreams.to_str().unwrap(),
            "--poll-ms",
            "250",
            "--timeout-ms",
            "600",
            "--header-timeout-ms",
            "1000",
            "--idle-timeout-ms",
            "2000",
            "--stale-ms",
            "5000",
        ],
        Some(NOFILE as u32),
    );
    let addr = lp.addr;
    let first = lp.wait_for("/status", Duration::from_secs(10), |r| {
        r.json()["finalized_slot"].as_u64() > Some(0)
    });
    let first_slot = first.json()["finalized_slot"].as_u64().unwrap_or(0);
    assert!(first_slot > 0, "no agreement: {}", first.text());

    let stop = Arc::new(AtomicBool::new(false));
    let churned = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    // Slowloris: 16 connections trickling a head that never ends, reconnecting when cut.
    for _ in 0..16 {
        let stop = stop.clone();
        flood.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                let _ = s.write_all(b"GET /status HTTP/1.1\r\n");
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(200));
                    if s.write_all(b"X-Slow: 1\r\n").is_err() {
                        break;
                    }
                }
            }
        }));
    }
    // Churn: connect, one request, close, as fast as possible.
    for _ in 0..2 {
        let (stop, churned) = (stop.clone(), churned.clone());
        flood.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    let _ = s
                        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                    churned.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    let started = Instant::now();
    let (mut fds, mut rss) = (Vec::new(), Vec::new());
    let mut slowest_healthz = Duration::ZERO;
    let mut healthz_failures = 0;
    let mut samples = 0;
    while started.elapsed() < Duration::from_secs(secs) {
        fds.push(lp.open_fds() as u64);
        rss.push(lp.rss_kib());
        let t = Instant::now();
        let reply = http_get(addr, "/healthz");
        slowest_healthz = slowest_healthz.max(t.elapsed());
        if reply.status != 200 {
            healthz_failures += 1;
        }
        samples += 1;
        assert!(lp.child_alive(), "leanpoint died during the soak");
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, Ordering::Relaxed);
    for t in flood {
        let _ = t.join();
    }

    let max_fds = fds.iter().copied().max().unwrap_or(0);
    let (fds_first, fds_last) = thirds(&fds);
    let (rss_first, rss_last) = thirds(&rss);
    let end = lp.get("/status").json();
    let ups = lp.get("/api/upstreams").json();
    let metrics = lp.get("/metrics").text();
    eprintln!(
        "soak {secs}s: fds max {max_fds} (first third {fds_first}, last third {fds_last}); rss KiB first {rss_first} last {rss_last}; \
         /healthz slowest {slowest_healthz:?}, {healthz_failures}/{samples} not 200; churned {} connections; finalized {} -> {}",
        churned.load(Ordering::Relaxed),
        first_slot,
        end["finalized_slot"]
    );
    assert!(
        (max_fds as usize) < NOFILE,
        "fds reached the limit: {max_fds}"
    );
    assert!(
        fds_last <= fds_first + 2,
        "fds trend up: {fds_first} -> {fds_last}"
    );
    assert!(
        rss_last <= rss_first + 2048,
        "RSS grew: {rss_first} KiB -> {rss_last} KiB"
    );
    assert!(
        slowest_healthz < Duration::from_secs(2),
        "/healthz took {slowest_healthz:?}"
    );
    assert!(
        healthz_failures * 10 <= samples,
        "/healthz not ok in {healthz_failures} of {samples} samples"
    );
    assert!(
        churned.load(Ordering::Relaxed) > 100,
        "the churn flood was not served"
    );
    assert_eq!(ups["consensus"]["has_consensus"], true, "{ups}");
    assert!(
        end["finalized_slot"].as_u64() > Some(first_slot + 5),
        "consensus did not follow the chain: {end}"
    );
    assert!(metrics.contains("leanpoint_inbound_timed_out_total"));
    let status = lp
        .terminate(Duration::from_secs(2))
        .expect("stops on SIGTERM");
    assert!(status.success(), "{status:?}");
}
