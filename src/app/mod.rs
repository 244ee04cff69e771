//! What leanpoint knows, free of I/O: per-upstream records, the agreed checkpoint and
//! its state bytes, the history of agreements, and the counters behind `/metrics`.
//! The upstream engine writes it at the end of each poll and round; the server reads it.

pub mod error_kind;
pub mod round;
pub mod state_blob;

use crate::config::UpstreamSpec;
use crate::consensus::Candidate;
use crate::fd_budget::FdBudget;
use crate::lean::Checkpoint;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;

pub use error_kind::{UpstreamError, UpstreamErrorKind};
pub use state_blob::StateBlob;

/// What leanpoint knows about one upstream.
#[derive(Debug, Clone)]
pub struct UpstreamRecord {
    pub spec: UpstreamSpec,
    /// Resolved address, once known.
    pub addr: Option<SocketAddr>,
    /// Last justified checkpoint it reported (the fallback uses the finalized slot).
    pub last_justified: Option<Checkpoint>,
    /// Whether `last_justified` came from its justified endpoint (false: fallback).
    pub justified_from_endpoint: bool,
    /// Last finalized slot (the slot of its state).
    pub last_finalized_slot: Option<u64>,
    /// Head slot from its fork choice.
    pub head_slot: Option<u64>,
    /// Wall time of the last successful poll.
    pub last_success_ms: Option<i64>,
    /// Failed polls (and failed secondary requests) since start.
    pub error_count: u64,
    /// Failures by kind, indexed by `UpstreamErrorKind::index()`.
    pub errors_by_kind: [u64; UpstreamErrorKind::COUNT],
    pub last_error: Option<UpstreamError>,
    /// Latency of the last complete poll (all its requests).
    pub last_latency_ms: Option<u64>,
    /// A poll of this upstream is in progress.
    pub in_flight: bool,
    /// Whether its last poll returned a valid state.
    pub healthy: bool,
    /// The fork-choice body last fetched, served as is.
    pub fork_choice: Option<Rc<[u8]>>,
    /// The state it returned last (shared with identical states of other upstreams).
    pub state: Option<Rc<StateBlob>>,
}

impl UpstreamRecord {
    pub fn new(spec: UpstreamSpec) -> Self {
        UpstreamRecord {
            spec,
            addr: None,
            last_justified: None,
            justified_from_endpoint: false,
            last_finalized_slot: None,
            head_slot: None,
            last_success_ms: None,
            error_count: 0,
            errors_by_kind: [0; UpstreamErrorKind::COUNT],
            last_error: None,
            last_latency_ms: None,
            in_flight: false,
            healthy: false,
            fork_choice: None,
            state: None,
        }
    }

    /// Records a failure of kind `error.kind`.
    pub fn record_error(&mut self, error: UpstreamError) {
        self.error_count += 1;
        self.errors_by_kind[error.kind.index()] += 1;
        self.last_error = Some(error);
    }
}

/// The checkpoint the majority agreed on, and the bytes served for it.
#[derive(Debug, Clone)]
pub struct Agreed {
    pub candidate: Candidate,
    pub state: Rc<StateBlob>,
    /// Wall time this candidate was first agreed.
    pub first_agreed_ms: i64,
    /// Responders holding it in the round that last agreed.
    pub agreeing: usize,
    pub responders: usize,
    /// How many of them returned byte-identical state.
    pub identical: usize,
}

/// One line of `/api/history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub candidate: Candidate,
    pub state_digest: [u8; 32],
    pub first_agreed_ms: i64,
    pub agreeing: usize,
    pub responders: usize,
}

/// The consensus view of the last completed round (`/api/upstreams` `consensus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundView {
    pub total_upstreams: usize,
    pub responding_upstreams: usize,
    pub has_consensus: bool,
    /// Whether any round has completed yet.
    pub completed: bool,
}

/// Counters of the process, for `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counters {
    pub rounds: u64,
    /// Duration of the last poll round in ms.
    pub last_round_ms: u64,
    pub inbound_open: usize,
    pub inbound_accepted: u64,
    /// Idle keep-alive connections closed to admit new ones.
    pub inbound_shed: u64,
    /// Inbound connections closed by a deadline (head, idle or write stall).
    pub inbound_timed_out: u64,
    /// Accepts refused by EMFILE/ENFILE.
    pub accept_errors: u64,
    pub upstream_sockets_open: usize,
    pub upstream_requests_in_flight: usize,
    pub requests_served: u64,
    /// State downloads byte-identical to a state already held (compared, not stored).
    pub states_matched: u64,
    /// State downloads that were stored (new bytes).
    pub states_stored: u64,
}

/// Everything the endpoints show.
#[derive(Debug)]
pub struct AppState {
    pub upstreams: Vec<UpstreamRecord>,
    pub agreed: Option<Agreed>,
    /// Wall time the last round completed (0 before the first).
    pub last_updated_ms: i64,
    /// Wall time of the last round with consensus (0 before the first).
    pub last_success_ms: i64,
    /// Rounds that ended without consensus.
    pub error_count: u64,
    pub last_error: Option<String>,
    pub round: RoundView,
    pub history: VecDeque<HistoryEntry>,
    pub history_len: usize,
    pub stale_ms: u64,
    pub fd_budget: FdBudget,
    pub fd_pressure_percent: u8,
    pub counters: Counters,
    /// Bumped whenever data shown by the endpoints changes (render caches key on it).
    pub version: u64,
}

impl AppState {
    pub fn new(
        upstreams: Vec<UpstreamSpec>,
        stale_ms: u64,
        history_len: usize,
        fd_budget: FdBudget,
        fd_pressure_percent: u8,
    ) -> Self {
        AppState {
            upstreams: upstreams.into_iter().map(UpstreamRecord::new).collect(),
            agreed: None,
            last_updated_ms: 0,
            last_success_ms: 0,
            error_count: 0,
            last_error: None,
            round: RoundView::default(),
            history: VecDeque::new(),
            history_len,
            stale_ms,
            fd_budget,
            fd_pressure_percent,
            counters: Counters::default(),
            version: 0,
        }
    }

    /// Whether the agreed data is stale at wall time `now_ms` (also before any agreement).
    pub fn is_stale(&self, now_ms: i64) -> bool {
        self.last_success_ms == 0
            || now_ms.saturating_sub(self.last_success_ms)
                > i64::try_from(self.stale_ms).unwrap_or(i64::MAX)
    }

    /// Index of the upstream named `name`.
    pub fn upstream_index(&self, name: &str) -> Option<usize> {
        self.upstreams.iter().position(|u| u.spec.name == name)
    }

    /// Whether `open_fds` exceeds the pressure share of the budget.
    pub fn fd_pressure(&self, open_fds: usize) -> bool {
        open_fds * 100 > self.fd_budget.limit * self.fd_pressure_percent as usize
    }
}
