//! What leanpoint knows, free of I/O: per-upstream records, the agreed checkpoint, the
//! verified bundle (block and state) served for it, the history of agreements, the
//! timeline of every upstream's slots, and the counters behind `/metrics`. The poll
//! scheduler writes it; the server reads it.

pub mod blob;
pub mod error_kind;
pub mod http_stats;
pub mod round;
pub mod standing;
pub mod timeline;

use crate::config::UpstreamSpec;
use crate::fd_budget::FdBudget;
use crate::lean::ssz::StateSummary;
use crate::lean::{Checkpoint, Root};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::rc::Rc;

pub use blob::Blob;
pub use error_kind::{UpstreamError, UpstreamErrorKind};
pub use http_stats::HttpStats;
pub use standing::Standing;
pub use timeline::Timeline;

/// How long the previous bundle stays held after an advance, so that a client that got
/// its block can still get the matching state (`server::pairing`).
pub const PREVIOUS_BUNDLE_MS: i64 = 10_000;

/// What leanpoint knows about one upstream.
#[derive(Debug, Clone)]
pub struct UpstreamRecord {
    pub spec: UpstreamSpec,
    /// Resolved address, once known.
    pub addr: Option<SocketAddr>,
    /// The finalized checkpoint it claimed in its last vote (from its fork choice, or
    /// derived from its own state when it serves no fork choice).
    pub finalized: Option<Checkpoint>,
    /// Last justified checkpoint it reported.
    pub last_justified: Option<Checkpoint>,
    /// Whether `last_justified` came from its justified endpoint (false: from its fork
    /// choice or its state).
    pub justified_from_endpoint: bool,
    /// Head slot from its fork choice.
    pub head_slot: Option<u64>,
    /// Whether it serves `/lean/v0/fork_choice` (None until asked).
    pub serves_fork_choice: Option<bool>,
    /// Wall time of the last successful poll (one that gave a vote).
    pub last_success_ms: Option<i64>,
    /// Failed requests since start.
    pub error_count: u64,
    /// Failures by kind, indexed by `UpstreamErrorKind::index()`.
    pub errors_by_kind: [u64; UpstreamErrorKind::COUNT],
    pub last_error: Option<UpstreamError>,
    /// The last bundle it served that failed verification.
    pub last_mismatch: Option<UpstreamError>,
    /// Latency of the last complete poll (all its requests).
    pub last_latency_ms: Option<u64>,
    /// A request to this upstream is in progress.
    pub in_flight: bool,
    /// Whether its last poll gave a vote.
    pub healthy: bool,
    /// The fork-choice body last fetched, served as is.
    pub fork_choice: Option<Rc<[u8]>>,
}

impl UpstreamRecord {
    /// A record for `spec`; a misconfigured entry starts with its problem as last error
    /// (it is never polled, so that is all it will ever show).
    pub fn new(spec: UpstreamSpec) -> Self {
        let last_error = spec.problem.clone().map(|detail| UpstreamError {
            kind: UpstreamErrorKind::Misconfigured,
            detail,
            at_ms: 0,
        });
        UpstreamRecord {
            spec,
            addr: None,
            finalized: None,
            last_justified: None,
            justified_from_endpoint: false,
            head_slot: None,
            serves_fork_choice: None,
            last_success_ms: None,
            error_count: 0,
            errors_by_kind: [0; UpstreamErrorKind::COUNT],
            last_error,
            last_mismatch: None,
            last_latency_ms: None,
            in_flight: false,
            healthy: false,
            fork_choice: None,
        }
    }

    /// Records a failure of kind `error.kind`.
    pub fn record_error(&mut self, error: UpstreamError) {
        self.error_count += 1;
        self.errors_by_kind[error.kind.index()] += 1;
        if error.kind == UpstreamErrorKind::CheckpointMismatch {
            self.last_mismatch = Some(error.clone());
        }
        self.last_error = Some(error);
    }

    /// The finalized slot it claimed last.
    pub fn last_finalized_slot(&self) -> Option<u64> {
        self.finalized.map(|c| c.slot)
    }
}

/// The checkpoint the majority agreed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreed {
    pub finalized: Checkpoint,
    /// The justified checkpoint reported (never lower than the one reported before).
    pub justified: Checkpoint,
    /// Wall time this finalized checkpoint was first agreed.
    pub first_agreed_ms: i64,
    /// The upstreams holding it in the round that last agreed, ascending.
    pub members: Vec<usize>,
    pub responders: usize,
}

impl Agreed {
    pub fn agreeing(&self) -> usize {
        self.members.len()
    }
}

/// A verified checkpoint bundle: the `SignedBlock` whose root is the agreed finalized
/// root, and its post-state whose hash tree root is the block's `state_root`. Served as
/// a pair; replaced only by another verified pair.
#[derive(Debug)]
pub struct Bundle {
    pub checkpoint: Checkpoint,
    pub block: Rc<Blob>,
    pub state: Rc<Blob>,
    /// The block root (= `checkpoint.root`).
    pub block_root: Root,
    /// `hash_tree_root(state)` (= the block's `state_root`).
    pub state_root: Root,
    pub summary: StateSummary,
    /// The name of the upstream it was fetched from.
    pub from: String,
    /// Wall time it was verified.
    pub verified_ms: i64,
}

/// One line of `/api/history`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub finalized: Checkpoint,
    pub justified: Checkpoint,
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
    pub inbound_accepted: u64,
    /// Idle keep-alive connections closed to admit new ones.
    pub inbound_shed: u64,
    /// Inbound connections closed by a deadline (head, idle or write stall).
    pub inbound_timed_out: u64,
    /// Accepts refused by EMFILE/ENFILE.
    pub accept_errors: u64,
    pub requests_served: u64,
    /// Body bytes received from upstreams, by what was fetched.
    pub fetched: FetchedBytes,
    /// Bundles verified and installed.
    pub bundles_verified: u64,
    /// Bundles that failed verification (checkpoint mismatch or unknown layout).
    pub bundle_failures: u64,
}

/// Body bytes received from upstreams, by request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FetchedBytes {
    /// Fork choice and justified checkpoint (every round).
    pub json: u64,
    pub blocks: u64,
    /// States fetched for a bundle.
    pub states: u64,
    /// States hashed (not kept) to derive the vote of an upstream without fork choice.
    pub vote_states: u64,
}

/// Everything the endpoints show.
#[derive(Debug)]
pub struct AppState {
    pub upstreams: Vec<UpstreamRecord>,
    pub agreed: Option<Agreed>,
    /// The verified bundle served (of the agreed checkpoint, or of the previous one
    /// while the new one is fetched).
    pub bundle: Option<Rc<Bundle>>,
    /// The bundle served before `bundle`, for [`PREVIOUS_BUNDLE_MS`] after the advance.
    pub previous_bundle: Option<Rc<Bundle>>,
    /// The upstream whose fork choice `/lean/v0/fork_choice` serves (a member of the
    /// last majority).
    pub fork_choice_from: Option<usize>,
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
    /// Every upstream's slots and standing per round, and the agreed slot per round.
    pub timeline: Timeline,
    pub stale_ms: u64,
    pub fd_budget: FdBudget,
    pub fd_pressure_percent: u8,
    pub counters: Counters,
    /// Inbound requests answered, by route and status (`/metrics`).
    pub http: HttpStats,
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
        let upstreams: Vec<UpstreamRecord> =
            upstreams.into_iter().map(UpstreamRecord::new).collect();
        let timeline = Timeline::new(upstreams.iter().map(|u| u.spec.name.as_str()));
        AppState {
            upstreams,
            agreed: None,
            bundle: None,
            previous_bundle: None,
            fork_choice_from: None,
            last_updated_ms: 0,
            last_success_ms: 0,
            error_count: 0,
            last_error: None,
            round: RoundView::default(),
            history: VecDeque::new(),
            history_len,
            timeline,
            stale_ms,
            fd_budget,
            fd_pressure_percent,
            counters: Counters::default(),
            http: HttpStats::default(),
            version: 0,
        }
    }

    /// Whether the agreed data is stale at wall time `now_ms` (also before any agreement).
    pub fn is_stale(&self, now_ms: i64) -> bool {
        self.last_success_ms == 0
            || now_ms.saturating_sub(self.last_success_ms)
                > i64::try_from(self.stale_ms).unwrap_or(i64::MAX)
    }

    /// Whether the bundle served is the agreed checkpoint's.
    pub fn bundle_is_current(&self) -> bool {
        match (&self.agreed, &self.bundle) {
            (Some(a), Some(b)) => a.finalized == b.checkpoint,
            _ => false,
        }
    }

    /// Drops the previous bundle once [`PREVIOUS_BUNDLE_MS`] have passed since the
    /// current one was verified.
    pub fn expire_previous_bundle(&mut self, now_ms: i64) {
        let expired = self
            .bundle
            .as_ref()
            .is_none_or(|b| now_ms.saturating_sub(b.verified_ms) > PREVIOUS_BUNDLE_MS);
        if expired {
            self.previous_bundle = None;
        }
    }

    /// Index of the upstream named `name`.
    pub fn upstream_index(&self, name: &str) -> Option<usize> {
        self.upstreams.iter().position(|u| u.spec.name == name)
    }

    /// Whether, of `open_fds`, those outside the inbound pool exceed the pressure share
    /// of their budget (a full inbound pool is within budget: not pressure).
    pub fn fd_pressure(&self, open_fds: usize, inbound_open: usize) -> bool {
        self.fd_budget
            .under_pressure(open_fds, inbound_open, self.fd_pressure_percent)
    }
}
