//! Application states built by hand for the router and metrics tests: none agreed,
//! agreed and fresh, stale, and upstreams with errors.

use crate::app::{
    Agreed, AppState, HistoryEntry, RoundView, StateBlob, UpstreamError, UpstreamErrorKind,
};
use crate::config::{HttpUrl, UpstreamSpec};
use crate::consensus::Candidate;
use crate::fd_budget::FdBudget;
use crate::lean::ssz::StateSummary;
use crate::lean::Checkpoint;
use std::rc::Rc;

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

pub fn blob(slot: u64) -> Rc<StateBlob> {
    let mut bytes = vec![0u8; 300];
    bytes[..8].copy_from_slice(&slot.to_le_bytes());
    let summary = StateSummary {
        genesis_time: 1_700_000_000,
        slot,
        latest_justified: Checkpoint {
            slot: slot + 1,
            root: [0x11; 32],
        },
        latest_finalized: Checkpoint {
            slot,
            root: [0x22; 32],
        },
    };
    Rc::new(StateBlob::new(bytes, summary))
}

/// Three upstreams, the last round agreed at `NOW - 1000` on justified 101 / finalized
/// 100 (2 of 3 agreeing), one upstream failing, two history entries.
pub fn agreed_app() -> AppState {
    let mut app = fresh_app(&["zeam_0", "ream_0", "qlean_0"]);
    let state = blob(100);
    let candidate = Candidate {
        justified_slot: 101,
        justified_root: Some([0xaa; 32]),
        finalized_slot: 100,
    };
    for u in app.upstreams.iter_mut().take(2) {
        u.healthy = true;
        u.last_success_ms = Some(NOW - 1000);
        u.last_justified = Some(Checkpoint {
            slot: 101,
            root: [0xaa; 32],
        });
        u.justified_from_endpoint = true;
        u.last_finalized_slot = Some(100);
        u.head_slot = Some(103);
        u.last_latency_ms = Some(12);
        u.state = Some(Rc::clone(&state));
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
        candidate: Candidate {
            justified_slot: 97,
            justified_root: None,
            finalized_slot: 96,
        },
        state_digest: [0x33; 32],
        first_agreed_ms: NOW - 60_000,
        agreeing: 3,
        responders: 3,
    });
    app.history.push_back(HistoryEntry {
        candidate,
        state_digest: state.digest,
        first_agreed_ms: NOW - 5000,
        agreeing: 2,
        responders: 2,
    });
    app.agreed = Some(Agreed {
        candidate,
        state,
        first_agreed_ms: NOW - 5000,
        agreeing: 2,
        responders: 2,
        identical: 2,
    });
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
