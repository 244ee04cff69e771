//! Benches of the pure HTTP API: routing plus rendering of `/status` (the hot endpoint,
//! targeted at ~100k req/s with room to spare), `/api/upstreams` with 16 and 1000
//! upstreams, `/metrics` with 16 upstreams, and a full `/api/timeline` (16 upstreams
//! × 360 rounds).

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use leanpoint::app::{Agreed, AppState, Blob, Bundle, RoundView, UpstreamError, UpstreamErrorKind};
use leanpoint::config::{HttpUrl, UpstreamSpec};
use leanpoint::fd_budget::FdBudget;
use leanpoint::http1::request::Method;
use leanpoint::lean::ssz::StateSummary;
use leanpoint::lean::Checkpoint;
use leanpoint::server::router::{route, RouteContext, RouteInput};
use std::rc::Rc;

const NOW: i64 = 1_700_000_000_000;

/// `n` upstreams, all polled, one in ten failing, an agreement one second old.
fn app(n: usize) -> AppState {
    let specs = (0..n)
        .map(|i| UpstreamSpec {
            name: format!("node_{i}"),
            url: format!("http://10.0.{}.{}:5052", i / 250, i % 250),
            target: HttpUrl {
                host: format!("10.0.{}.{}", i / 250, i % 250),
                port: 5052,
                prefix: String::new(),
            },
            path: "/status".to_string(),
            problem: None,
        })
        .collect();
    let budget = FdBudget {
        limit: 65536,
        reserved: 12,
        upstream_pool: 64,
        inbound_pool: 4096,
    };
    let mut app = AppState::new(specs, 30_000, 64, budget, 90);
    let summary = StateSummary {
        genesis_time: 1_700_000_000,
        slot: 100,
        latest_justified: Checkpoint {
            slot: 101,
            root: [0x11; 32],
        },
        latest_finalized: Checkpoint {
            slot: 100,
            root: [0x22; 32],
        },
    };
    let finalized = Checkpoint {
        slot: 100,
        root: [0xbb; 32],
    };
    let justified = Checkpoint {
        slot: 101,
        root: [0xaa; 32],
    };
    for (i, u) in app.upstreams.iter_mut().enumerate() {
        if i % 10 == 9 {
            u.record_error(UpstreamError {
                kind: UpstreamErrorKind::ConnectTimeout,
                detail: "connect timed out after 5000 ms".to_string(),
                at_ms: NOW - 1500,
            });
            continue;
        }
        u.healthy = true;
        u.last_success_ms = Some(NOW - 1000);
        u.last_justified = Some(justified);
        u.justified_from_endpoint = true;
        u.finalized = Some(finalized);
        u.head_slot = Some(104);
        u.last_latency_ms = Some(3 + i as u64 % 40);
    }
    let responders = n - n / 10;
    app.round = RoundView {
        total_upstreams: n,
        responding_upstreams: responders,
        has_consensus: true,
        completed: true,
    };
    app.last_updated_ms = NOW - 1000;
    app.last_success_ms = NOW - 1000;
    app.agreed = Some(Agreed {
        finalized,
        justified,
        first_agreed_ms: NOW - 8000,
        members: (0..n).filter(|i| i % 10 != 9).collect(),
        responders,
    });
    app.bundle = Some(Rc::new(Bundle {
        checkpoint: finalized,
        block: Rc::new(Blob::new(vec![9u8; 237], [0xb1; 32])),
        state: Rc::new(Blob::new(vec![7u8; 4096], [0x5e; 32])),
        block_root: finalized.root,
        state_root: [0x5e; 32],
        summary,
        from: "node_0".to_string(),
        verified_ms: NOW - 7000,
    }));
    app
}

fn get(app: &AppState, target: &str) -> usize {
    let ctx = RouteContext {
        app,
        now_ms: NOW,
        gauges: leanpoint::metrics::LoopGauges {
            open_fds: 40,
            ..Default::default()
        },
        static_dir: None,
        pairing: None,
        timeline_cache: None,
    };
    let input = RouteInput {
        method: Method::Get,
        target,
        if_none_match: None,
        client: None,
    };
    route(black_box(input), &ctx).body.len()
}

fn benches(c: &mut Criterion) {
    let small = app(16);
    c.bench_function("route_status", |b| b.iter(|| get(&small, "/status")));
    let mut group = c.benchmark_group("route_upstreams");
    for n in [16usize, 1000] {
        let a = app(n);
        group.bench_with_input(BenchmarkId::from_parameter(n), &a, |b, a| {
            b.iter(|| get(a, "/api/upstreams"))
        });
    }
    group.finish();
    c.bench_function("route_metrics_16", |b| b.iter(|| get(&small, "/metrics")));
    // A full timeline: 16 upstreams, an hour of rounds at the default --poll-ms.
    let mut full = app(16);
    let rounds = leanpoint::app::timeline::TIMELINE_LEN as i64;
    for i in 0..rounds {
        let t = NOW - 10_000 * (rounds - i);
        full.timeline
            .record_round(&full.upstreams, full.agreed.as_ref(), true, t);
    }
    c.bench_function("route_timeline_16x360", |b| {
        b.iter(|| get(&full, "/api/timeline"))
    });
}

criterion_group!(render, benches);
criterion_main!(render);
