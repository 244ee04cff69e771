//! Strict-majority consensus over one poll round, a pure deterministic function.
//!
//! The candidate is (justified slot, justified root, finalized slot). A candidate wins
//! when strictly more than half of this round's responders hold it (2 of 4 is no
//! consensus). The state to serve is chosen among the winners' byte-identical groups:
//! the largest group, ties broken by the smallest digest, so the same inputs always give
//! the same answer and the bytes served are bytes a winner sent.

/// The key upstreams must agree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Candidate {
    pub justified_slot: u64,
    /// `None` when the upstream's justified endpoint failed (slot then falls back to the
    /// finalized slot).
    pub justified_root: Option<[u8; 32]>,
    pub finalized_slot: u64,
}

/// One responder's vote this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// Index of the upstream in the configuration.
    pub upstream: usize,
    pub candidate: Candidate,
    /// Digest (SHA-256) of the state bytes it returned.
    pub state_digest: [u8; 32],
}

/// Options of the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConsensusOptions {
    /// Also require the state digest itself to be part of the majority key.
    pub require_identical_state: bool,
}

/// A winning decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub candidate: Candidate,
    /// Responders holding the winning candidate.
    pub agreeing: usize,
    /// Responders this round (the denominator).
    pub responders: usize,
    /// The digest of the state to serve.
    pub state_digest: [u8; 32],
    /// How many winners returned exactly those bytes.
    pub identical: usize,
    /// The upstream (lowest index) among those whose bytes are served.
    pub state_from: usize,
}

/// Decides; `None` when no candidate has a strict majority (or nobody responded).
pub fn decide(votes: &[Vote], options: ConsensusOptions) -> Option<Decision> {
    let _ = (votes, options);
    todo!()
}
