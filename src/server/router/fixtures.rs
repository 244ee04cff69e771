//! Application states built by hand for the router and metrics tests: none agreed,
//! agreed and fresh, stale, and upstreams with errors.

use crate::app::{
    Agreed, AppState, Blob, Bundle, HistoryEntry, RoundView, UpstreamError, UpstreamErrorKind,
};
use crate::config::{HttpUrl, UpstreamSpec};
use crate::fd_budget::FdBudget;
use crate::lean::ssz::StateSummary;
use crate::lean::Checkpoint;
use std::rc::Rc;

/// The context the router tests route in: `app` at [`NOW`], 10 fds open, no static
/// folder, no pairing, no shared timeline body.
pub fn context(app: &AppState) -> super::RouteContext<'_> {
    super::RouteContext {
        app,
        now_ms: NOW,
        gauges: crate::metrics::LoopGauges {
            open_fds: 10,
            ..Default::default()
        },
        static_dir: None,
        pairing: None,
        timeline_cache: None,
    }
}

/// Wall time the tests run at.
pub const NOW: i64 = 1_700_000_000_000;
/// `--stale-ms` of the fixtures.
pub const STALE_MS: u64 = 30_000;

pub fn spec(name: &str, port: u16) -> UpstreamSpec {
    UpstreamSpec {
        name: name.to_string(),
        url: format!("http://127.0.0.1:{port}"),
        target: HttpUrl {
            host: "127.0.0.1".to_string(),
            port,
            prefix: String::new(),
        },
        path: "/status".to_string(),
        problem: None,
    }
}

pub fn budget() -> FdBudget {
    FdBudget {
        limit: 1024,
        reserved: 12,
        upstream_pool: 3,
        inbound_pool: 1009,
    }
}

/// Upstreams configured, no round completed yet.
pub fn fresh_app(names: &[&str]) -> AppState {
    let specs = names
        .iter()
        .enumerate()
        .map(|(i, n)| spec(n, 5052 + i as u16))
        .collect();
    AppState::new(specs, STALE_MS, 16, budget(), 90)
}

/// The agreed finalized checkpoint of `agreed_app`.
pub const FINALIZED: Checkpoint = Checkpoint {
    slot: 100,
    root: [0xbb; 32],
};
/// The reported justified checkpoint of `agreed_app`.
pub const JUSTIFIED: Checkpoint = Checkpoint {
    slot: 101,
    root: [0xaa; 32],
};

/// A bundle of `checkpoint` with made-up bytes (routing does not verify).
pub fn bundle(checkpoint: Checkpoint) -> Rc<Bundle> {
    let mut state = vec![0u8; 300];
    state[..8].copy_from_slice(&checkpoint.slot.to_le_bytes());
    let summary = StateSummary {
        genesis_time: 1_700_000_000,
        slot: checkpoint.slot,
        latest_justified: Checkpoint {
            slot: checkpoint.slot - 1,
            root: [0x11; 32],
        },
        latest_finalized: Checkpoint {
            slot: checkpoint.slot - 2,
            root: [0x22; 32],
        },
    };
    let state_root = [0x5e; 32];
    Rc::new(Bundle {
        checkpoint,
        block: Rc::new(Blob::new(vec![7u8; 120], [0xb1; 32])),
        state: Rc::new(Blob::new(state, state_root)),
        block_root: checkpoint.root,
        state_root,
        summary,
        from: "zeam_0".to_string(),
        verified_ms: NOW - 900,
    })
}

/// Three upstreams, the last round agreed at `NOW - 1000` on finalized 100 / justified
/// 101 (2 of 3 agreeing) with its bundle verified, one upstream failing, two history
/// entries.
pub fn agreed_app() -> AppState {
    let mut app = fresh_app(&["zeam_0", "ream_0", "qlean_0"]);
    for u in app.upstreams.iter_mut().take(2) {
        u.healthy = true;
        u.last_success_ms = Some(NOW - 1000);
        u.last_justified = Some(JUSTIFIED);
        u.justified_from_endpoint = true;
        u.finalized = Some(FINALIZED);
        u.serves_fork_choice = Some(true);
        u.head_slot = Some(103);
        u.last_latency_ms = Some(12);
    }
    app.upstreams[0].fork_choice = Some(Rc::from(&b"{\"nodes\":[]}"[..]));
    app.upstreams[0].addr = Some("127.0.0.1:5052".parse().unwrap());
    app.upstreams[2].in_flight = true;
    for kind in [
        UpstreamErrorKind::ConnectRefused,
        UpstreamErrorKind::ConnectRefused,
        UpstreamErrorKind::BadStatus,
    ] {
        app.upstreams[2].record_error(UpstreamError {
            kind,
            detail: "bad status 503 on \"/lean/v0/states/finalized\"\n".to_string(),
            at_ms: NOW - 900,
        });
    }
    app.round = RoundView {
        total_upstreams: 3,
        responding_upstreams: 2,
        has_consensus: true,
        completed: true,
    };
    app.last_updated_ms = NOW - 1000;
    app.last_success_ms = NOW - 1000;
    app.error_count = 4;
    app.counters.rounds = 9;
    app.counters.last_round_ms = 37;
    app.history.push_back(HistoryEntry {
        finalized: Checkpoint {
            slot: 96,
            root: [0x33; 32],
        },
        justified: Checkpoint {
            slot: 97,
            root: [0x34; 32],
        },
        first_agreed_ms: NOW - 60_000,
        agreeing: 3,
        responders: 3,
    });
    app.history.push_back(HistoryEntry {
        finalized: FINALIZED,
        justified: JUSTIFIED,
        first_agreed_ms: NOW - 5000,
        agreeing: 2,
        responders: 2,
    });
    app.agreed = Some(Agreed {
        finalized: FINALIZED,
        justified: JUSTIFIED,
        first_agreed_ms: NOW - 5000,
        members: vec![0, 1],
        responders: 2,
    });
    app.bundle = Some(bundle(FINALIZED));
    app.fork_choice_from = Some(0);
    app
}

/// `agreed_app` whose last success is older than `STALE_MS`, and whose last round had
/// no consensus.
pub fn stale_app() -> AppState {
    let mut app = agreed_app();
    app.last_success_ms = NOW - STALE_MS as i64 - 1;
    app.round.has_consensus = false;
    app.last_error = Some("1/3 upstreams unreachable, no consensus".to_string());
    app
}
