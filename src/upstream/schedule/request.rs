//! What the scheduler asks of an upstream and what comes back: the five requests (their
//! paths, `Accept` headers, body limits and whether the state hasher reads the body),
//! the reply the shell hands back, and the actions the scheduler emits.

use crate::lean::lstar::{LayoutError, StateRoots};

/// One request to one upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Request {
    /// `fork_choice`: the finalized checkpoint this upstream votes for (every round).
    ForkChoice,
    /// `checkpoints/justified` (every round).
    Justified,
    /// The state of an upstream without fork choice, hashed as it arrives and not kept:
    /// its root gives the vote.
    VoteState,
    /// The finalized block of the bundle being fetched.
    Block,
    /// The finalized state of the bundle being fetched (kept and hashed as it arrives).
    State,
}

impl Request {
    /// Path under the upstream's prefix.
    pub fn path(self) -> &'static str {
        match self {
            Request::ForkChoice => "/lean/v0/fork_choice",
            Request::Justified => "/lean/v0/checkpoints/justified",
            Request::VoteState | Request::State => "/lean/v0/states/finalized",
            Request::Block => "/lean/v0/blocks/finalized",
        }
    }

    /// The exact `Accept` header (ream needs exactly `application/octet-stream`).
    pub fn accept(self) -> &'static str {
        match self {
            Request::ForkChoice | Request::Justified => "application/json",
            _ => "application/octet-stream",
        }
    }

    /// Whether the body is a state, fed to the incremental hasher while it arrives.
    pub fn hashes_state(self) -> bool {
        matches!(self, Request::VoteState | Request::State)
    }

    /// Whether the body is kept (a vote state is only hashed).
    pub fn keeps_body(self) -> bool {
        self != Request::VoteState
    }

    /// Whether the body is SSZ (a block or a state) rather than JSON.
    pub fn is_ssz(self) -> bool {
        !matches!(self, Request::ForkChoice | Request::Justified)
    }
}

/// A complete HTTP response to a request, as the shell read it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    /// The body (empty when the request does not keep it).
    pub body: Vec<u8>,
    /// Body bytes received (kept or not).
    pub body_len: usize,
    /// For a state request: what the incremental hasher made of the body.
    pub state: Option<Result<StateRoots, LayoutError>>,
}

impl Reply {
    /// A 200 reply carrying `body` (tests and the simulation tier).
    pub fn ok(body: Vec<u8>) -> Self {
        Reply {
            status: 200,
            content_type: None,
            body_len: body.len(),
            body,
            state: None,
        }
    }
}

/// What the shell must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send `request` to `upstream` (which has nothing else in flight) and report the
    /// reply or the failure.
    Send { upstream: usize, request: Request },
    /// Call `on_tick` at monotonic ms `at` (replaces any earlier tick).
    ArmTick { at: u64 },
    /// The upstream set was replaced: new index `i` was old index `kept[i]` (None: new).
    /// Sockets and lookups of old indices not listed are to be dropped.
    Remap { kept: Vec<Option<usize>> },
}

/// The time of an input: monotonic ms for scheduling, wall ms for what is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub mono: u64,
    pub wall: i64,
}
