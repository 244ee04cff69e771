//! Soak: leanpoint under `ulimit -n 64` against a simulated devnet mixing healthy,
//! lagging, silent, slow, flaky and garbage nodes, plus an inbound flood (slowloris and
//! connection churn). Open fds never reach the limit and do not trend up, `/healthz`
//! keeps answering, consensus holds and follows the chain, RSS stays flat, and the
//! process stops cleanly at the end. Bounded: `SOAK_SECS` (default 45; `make soak` runs
//! it for 10 minutes).
//!
//! `/metrics` is checked by value against what the test did and saw: rounds for the time
//! elapsed, errors per faulty node per round, requests counted against the replies the
//! flood got and the requests it sent, socket pools within the fd budget, inbound
//! connections and fds back to the baseline once the clients closed, the finalized slot
//! against what a healthy node serves, consensus held and fresh.

mod common;
#[path = "devnet/harness.rs"]
mod harness;

use common::prom::{scrape, Scrape};
use common::{http_get, parse_reply, Leanpoint};
use harness::Devnet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const NOFILE: usize = 64;
const UPSTREAMS: usize = 10;
const POLL_MS: u64 = 250;
const TIMEOUT_MS: u64 = 600;
const SLOT_MS: u64 = 500;
const STALE_MS: u64 = 5000;
const SLOWLORIS: usize = 16;

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

/// The finalized slot a healthy devnet node serves now.
fn served_finalized(devnet: &Devnet) -> u64 {
    let node = devnet
        .nodes
        .iter()
        .find(|n| n.profile == "healthy")
        .expect("a healthy node");
    let reply = http_get(node.addr, "/lean/v0/fork_choice");
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()["finalized"]["slot"]
        .as_u64()
        .expect("finalized slot")
}

/// Open fds that are neither inbound connections nor upstream sockets (listener, epoll,
/// signalfd, timers, stdio, ...), as leanpoint reports them.
fn fixed_fds(m: &Scrape) -> f64 {
    m.one("leanpoint_open_fds")
        - m.one("leanpoint_inbound_connections")
        - m.one("leanpoint_upstream_sockets_open")
}

/// Errors of one upstream, all kinds.
fn errors_of(m: &Scrape, upstream: &str) -> f64 {
    m.family("leanpoint_upstream_errors_total")
        .iter()
        .filter(|s| {
            s.labels
                .iter()
                .any(|(k, v)| k == "upstream" && v == upstream)
        })
        .map(|s| s.value)
        .sum()
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
            &SLOT_MS.to_string(),
            "--slow-ms",
            "1500",
        ],
    );
    let mut lp = Leanpoint::start_with(
        &[
            "--upstreams-config",
            devnet.upstreams.to_str().unwrap(),
            "--poll-ms",
            &POLL_MS.to_string(),
            "--timeout-ms",
            &TIMEOUT_MS.to_string(),
            "--header-timeout-ms",
            "1000",
            "--idle-timeout-ms",
            "2000",
            "--stale-ms",
            &STALE_MS.to_string(),
        ],
        Some(NOFILE as u32),
    );
    let addr = lp.addr;
    let first = lp.wait_for("/status", Duration::from_secs(10), |r| {
        r.json()["finalized_slot"].as_u64() > Some(0)
    });
    let first_slot = first.json()["finalized_slot"].as_u64().unwrap_or(0);
    assert!(first_slot > 0, "no agreement: {}", first.text());

    // Before the flood: what the values after it are compared with.
    let base = scrape(&lp);
    let base_at = Instant::now();
    assert_eq!(base.one("leanpoint_fd_limit"), NOFILE as f64);
    assert_eq!(base.one("leanpoint_upstreams"), UPSTREAMS as f64);
    let upstream_pool = base.value("leanpoint_fd_budget", &[("pool", "upstream")]);
    let inbound_pool = base.value("leanpoint_fd_budget", &[("pool", "inbound")]);
    assert!(
        (1.0..=UPSTREAMS as f64).contains(&upstream_pool),
        "{upstream_pool}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let churned = Arc::new(AtomicU64::new(0));
    // Requests the flood sent (each may be answered) and replies it got whole.
    let sent = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    let mut flood = Vec::new();
    // Slowloris: 16 connections trickling a head that never ends, reconnecting when cut.
    for _ in 0..SLOWLORIS {
        let stop = stop.clone();
        flood.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                };
                // Never a whole request: closed at its head deadline, never answered
                // (not counted in `sent`).
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
        let (sent, answered) = (sent.clone(), answered.clone());
        flood.push(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
                    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                    sent.fetch_add(1, Ordering::Relaxed);
                    let _ = s
                        .write_all(b"GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                    let mut sink = Vec::new();
                    let _ = s.read_to_end(&mut sink);
                    if parse_reply(&sink).is_some_and(|r| r.status >= 100) {
                        answered.fetch_add(1, Ordering::Relaxed);
                    }
                    churned.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }

    let started = Instant::now();
    let (mut fds, mut rss) = (Vec::new(), Vec::new());
    let mut slowest_healthz = Duration::ZERO;
    let mut healthz_failures = 0;
    // Why /healthz was not 200: (status, body) -> count (0 = no answer).
    let mut healthz_reasons = std::collections::BTreeMap::<(u16, String), u32>::new();
    let mut samples = 0;
    let (mut max_upstream_sockets, mut max_inbound) = (0.0f64, 0.0f64);
    while started.elapsed() < Duration::from_secs(secs) {
        fds.push(lp.open_fds() as u64);
        rss.push(lp.rss_kib());
        let t = Instant::now();
        let reply = http_get(addr, "/healthz");
        slowest_healthz = slowest_healthz.max(t.elapsed());
        sent.fetch_add(1, Ordering::Relaxed);
        if reply.status != 0 {
            answered.fetch_add(1, Ordering::Relaxed);
        }
        if reply.status != 200 {
            healthz_failures += 1;
            let why = String::from_utf8_lossy(&reply.body).trim().to_string();
            *healthz_reasons.entry((reply.status, why)).or_insert(0) += 1;
        }
        // The pools as leanpoint counts them, under load.
        let metrics = lp.get("/metrics");
        sent.fetch_add(1, Ordering::Relaxed);
        if metrics.status == 200 {
            answered.fetch_add(1, Ordering::Relaxed);
            let m = Scrape::parse(&metrics.text()).unwrap_or_else(|e| panic!("{e}"));
            max_upstream_sockets =
                max_upstream_sockets.max(m.one("leanpoint_upstream_sockets_open"));
            max_inbound = max_inbound.max(m.one("leanpoint_inbound_connections"));
        }
        samples += 1;
        assert!(lp.child_alive(), "leanpoint died during the soak");
        std::thread::sleep(Duration::from_millis(500));
    }
    stop.store(true, Ordering::Relaxed);
    for t in flood {
        let _ = t.join();
    }
    let (sent, answered) = (
        sent.load(Ordering::Relaxed),
        answered.load(Ordering::Relaxed),
    );

    // Every client has closed: leanpoint's inbound connections drop to the one scraping.
    let closed_deadline = Instant::now() + Duration::from_secs(5);
    let mut scrapes_after = 1;
    while scrape(&lp).one("leanpoint_inbound_connections") > 1.0 && Instant::now() < closed_deadline
    {
        std::thread::sleep(Duration::from_millis(100));
        scrapes_after += 1;
    }
    // leanpoint reads /proc/self/fd at most every 100 ms: let its count catch up.
    std::thread::sleep(Duration::from_millis(300));
    let served_before = served_finalized(&devnet);
    let after = scrape(&lp);
    scrapes_after += 1;
    let served_after = served_finalized(&devnet);
    let proc_fds = lp.open_fds() as f64;
    let elapsed_ms = base_at.elapsed().as_millis() as f64;
    let delta = |name: &str| after.one(name) - base.one(name);
    let rounds = delta("leanpoint_poll_rounds_total");
    let requests = delta("leanpoint_inbound_requests_total");
    let finalized = after.one("leanpoint_finalized_slot");
    let errors_delta = |profile: &str| -> Vec<f64> {
        devnet
            .nodes
            .iter()
            .filter(|n| n.profile == profile)
            .map(|n| errors_of(&after, &n.name) - errors_of(&base, &n.name))
            .collect()
    };
    eprintln!(
        "soak metrics: {rounds} rounds in {elapsed_ms} ms ({} without consensus); {requests} requests answered \
         (the flood sent {sent}, got {answered} replies; {scrapes_after} scrapes after it); upstream sockets max \
         {max_upstream_sockets} of {upstream_pool}, inbound max {max_inbound} of {inbound_pool}, inbound after {}; \
         fixed fds {} -> {}, open fds {} (proc {proc_fds}); finalized {finalized} (justified {}, served {served_before}..={served_after}, \
         bundle {} verified {}, {} bundles); \
         errors during the soak: healthy {:?} lagging {:?} flaky {:?} silent {:?} slow {:?} garbage {:?}",
        delta("leanpoint_error_total"),
        after.one("leanpoint_inbound_connections"),
        fixed_fds(&base),
        fixed_fds(&after),
        after.one("leanpoint_open_fds"),
        after.one("leanpoint_justified_slot"),
        after.one("leanpoint_bundle_slot"),
        after.one("leanpoint_bundle_verified"),
        delta("leanpoint_bundles_verified_total"),
        errors_delta("healthy"),
        errors_delta("lagging"),
        errors_delta("flaky"),
        errors_delta("silent"),
        errors_delta("slow"),
        errors_delta("garbage"),
    );

    // Rounds: every poll of this devnet ends by its first request's deadline (the silent
    // and slow nodes) or sooner, so a round lasts about --timeout-ms and the next one
    // starts then (--poll-ms is shorter); twice that allows for the load. A round never
    // starts sooner than --poll-ms after the previous one, except at once after a fetch
    // whose member moved on (at most once per finalized slot).
    let slots_moved = finalized - base.one("leanpoint_finalized_slot");
    assert!(
        rounds >= (elapsed_ms / (2 * TIMEOUT_MS) as f64).floor() - 1.0,
        "{rounds} rounds in {elapsed_ms} ms"
    );
    assert!(
        rounds <= (elapsed_ms / POLL_MS as f64).ceil() + slots_moved + 1.0,
        "{rounds} rounds in {elapsed_ms} ms"
    );
    // Each silent or slow node fails once per round (its first request times out), the
    // garbage node too (its first reply is not HTTP): never more (a poll ends at its
    // first failure), and in nearly every round (a round asks every upstream; allow for
    // the polls in flight at either scrape). The healthy nodes never fail on their own:
    // allow a timeout now and then on a loaded machine.
    for profile in ["silent", "slow", "garbage"] {
        for e in errors_delta(profile) {
            assert!(
                e <= rounds + 2.0 && e >= rounds * 0.9 - 2.0,
                "{profile}: {e} errors in {rounds} rounds"
            );
        }
    }
    for e in errors_delta("healthy") {
        assert!(
            e <= rounds / 10.0,
            "a healthy node failed {e} times in {rounds} rounds"
        );
    }
    assert!(delta("leanpoint_error_total") <= rounds);
    // Requests: at least every reply the flood got (the scrapes after `after` and the
    // baseline's own request aside), at most every whole request it sent.
    assert!(
        requests >= answered as f64,
        "{requests} requests counted, {answered} replies received"
    );
    assert!(
        requests <= (sent + scrapes_after + 1) as f64,
        "{requests} requests counted, {sent} sent"
    );
    // Pools: never more upstream sockets than the pool, nor inbound connections.
    assert!(
        max_upstream_sockets <= upstream_pool,
        "{max_upstream_sockets} upstream sockets, pool {upstream_pool}"
    );
    assert!(
        after.one("leanpoint_upstream_sockets_open") <= upstream_pool,
        "{} upstream sockets after, pool {upstream_pool}",
        after.one("leanpoint_upstream_sockets_open")
    );
    assert!(
        max_inbound <= inbound_pool,
        "{max_inbound} inbound connections, pool {inbound_pool}"
    );
    // The clients closed: only the scrape's own connection is left, and the fds other
    // than sockets are what they were before the flood (leanpoint's count and the
    // test's own count of /proc/<pid>/fd agree).
    assert_eq!(after.one("leanpoint_inbound_connections"), 1.0);
    assert!(
        (fixed_fds(&after) - fixed_fds(&base)).abs() <= 2.0,
        "fds other than sockets: {} before the flood, {} after",
        fixed_fds(&base),
        fixed_fds(&after)
    );
    assert!(
        (after.one("leanpoint_open_fds") - proc_fds).abs() <= 2.0,
        "leanpoint counts {} fds, /proc {proc_fds}",
        after.one("leanpoint_open_fds")
    );
    // Consensus: fresh, agreed, verified, and what the healthy nodes serve: never ahead
    // of them, behind by at most what --stale-ms allows; justified one or two slots
    // ahead of finalized, as the devnet's chain has it (read in two requests).
    assert_eq!(after.one("leanpoint_has_consensus"), 1.0);
    assert_eq!(after.one("leanpoint_stale"), 0.0);
    // The bundle follows the chain: one fetch per new checkpoint at most, none of them
    // failing verification (no node of this devnet lies). A bundle fetched early (a
    // strict majority of those polled agrees before the silent node times out) is served
    // only once the round publishes the agreement: never ahead of the agreed slot.
    let bundles = delta("leanpoint_bundles_verified_total");
    assert!(
        bundles >= 1.0 && bundles <= slots_moved,
        "{bundles} bundles verified while finalized moved {slots_moved} slots"
    );
    assert_eq!(delta("leanpoint_bundle_verification_failures_total"), 0.0);
    let bundle_slot = after.one("leanpoint_bundle_slot");
    assert!(
        bundle_slot <= finalized && bundle_slot >= finalized - (STALE_MS / SLOT_MS) as f64,
        "bundle of slot {bundle_slot}, finalized {finalized}, the nodes serve {served_after}"
    );
    assert!(
        finalized <= served_after as f64
            && finalized >= served_before as f64 - (STALE_MS / SLOT_MS) as f64,
        "leanpoint_finalized_slot {finalized}, the nodes serve {served_before}..={served_after}"
    );
    assert!(
        (finalized + 1.0..=finalized + 2.0).contains(&after.one("leanpoint_justified_slot")),
        "justified {} finalized {finalized}",
        after.one("leanpoint_justified_slot")
    );

    let max_fds = fds.iter().copied().max().unwrap_or(0);
    let (fds_first, fds_last) = thirds(&fds);
    let (rss_first, rss_last) = thirds(&rss);
    let end = lp.get("/status").json();
    let ups = lp.get("/api/upstreams").json();
    let metrics = lp.get("/metrics").text();
    eprintln!(
        "soak {secs}s: fds max {max_fds} (first third {fds_first}, last third {fds_last}); rss KiB first {rss_first} last {rss_last}; \
         /healthz slowest {slowest_healthz:?}, {healthz_failures}/{samples} not 200 {healthz_reasons:?}; churned {} connections; finalized {} -> {}",
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
    // A load balancer probing through the flood sees a healthy node every time (the fd
    // reading and the inbound count it is compared with are of one moment: a reading
    // cached across churn once made 4 of 60 probes say fd_pressure).
    assert_eq!(
        healthz_failures, 0,
        "/healthz not ok in {healthz_failures} of {samples} samples: {healthz_reasons:?}"
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
    assert!(
        Scrape::parse(&metrics)
            .unwrap()
            .one("leanpoint_inbound_timed_out_total")
            >= base.one("leanpoint_inbound_timed_out_total") + SLOWLORIS as f64,
        "the slowloris connections were not timed out"
    );
    let status = lp
        .terminate(Duration::from_secs(2))
        .expect("stops on SIGTERM");
    assert!(status.success(), "{status:?}");
}
