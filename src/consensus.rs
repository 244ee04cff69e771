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
///
/// The majority key is the candidate, plus the state digest when
/// [`ConsensusOptions::require_identical_state`] is set. It runs in O(n) to find the
/// majority (Boyer–Moore vote, then a count) and O(w log w) to group the `w` winners
/// by digest; the answer does not depend on the order of `votes`.
pub fn decide(votes: &[Vote], options: ConsensusOptions) -> Option<Decision> {
    let key = |v: &Vote| {
        let digest = options.require_identical_state.then_some(v.state_digest);
        (v.candidate, digest)
    };
    // Boyer–Moore: if some key holds a strict majority, it is the survivor.
    let mut survivor = None;
    let mut lead = 0usize;
    for vote in votes {
        let k = key(vote);
        if lead == 0 {
            survivor = Some(k);
            lead = 1;
        } else if survivor == Some(k) {
            lead += 1;
        } else {
            lead -= 1;
        }
    }
    let winner = survivor?;
    let mut winners: Vec<([u8; 32], usize)> = votes
        .iter()
        .filter(|v| key(v) == winner)
        .map(|v| (v.state_digest, v.upstream))
        .collect();
    let responders = votes.len();
    let agreeing = winners.len();
    if agreeing <= responders / 2 {
        return None;
    }
    // Sorted by (digest, upstream): each digest is one run, led by its lowest upstream.
    winners.sort_unstable();
    // (group size, digest, lowest upstream) of the group to serve.
    let mut best: Option<(usize, [u8; 32], usize)> = None;
    for run in winners.chunk_by(|a, b| a.0 == b.0) {
        let Some(&(digest, first)) = run.first() else {
            continue;
        };
        // Strictly larger only: on a tie the earlier run (smaller digest) stays.
        if best.is_none_or(|(size, _, _)| run.len() > size) {
            best = Some((run.len(), digest, first));
        }
    }
    let (identical, state_digest, state_from) = best?;
    Some(Decision {
        candidate: winner.0,
        agreeing,
        responders,
        state_digest,
        identical,
        state_from,
    })
}

#[cfg(test)]
#[path = "consensus_tests.rs"]
mod tests;
