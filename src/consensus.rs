//! Strict-majority consensus over one poll round, a pure deterministic function.
//!
//! The candidate is the finalized checkpoint (slot and root) each responder claims. A
//! candidate wins when strictly more than half of this round's responders hold it (2 of
//! 4 is no consensus). The justified checkpoint reported with it is the one a strict
//! majority of responders hold, else the lowest justified checkpoint among the agreeing
//! upstreams (one they have all reached). The same votes in any order give the same
//! decision.

use crate::lean::Checkpoint;

/// One responder's vote this round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Vote {
    /// Index of the upstream in the configuration.
    pub upstream: usize,
    /// The finalized checkpoint it claims (the candidate).
    pub finalized: Checkpoint,
    /// The justified checkpoint it reports.
    pub justified: Checkpoint,
}

/// A winning decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub finalized: Checkpoint,
    /// The justified checkpoint to report (see the module docs).
    pub justified: Checkpoint,
    /// The upstreams holding the winning candidate, ascending.
    pub members: Vec<usize>,
    /// Responders this round (the denominator).
    pub responders: usize,
}

impl Decision {
    /// How many responders hold the winning candidate.
    pub fn agreeing(&self) -> usize {
        self.members.len()
    }
}

/// The key a strict majority of `items` share, if any (Boyer–Moore, then a count).
fn strict_majority<K: Copy + PartialEq>(items: impl Iterator<Item = K> + Clone) -> Option<K> {
    let mut survivor = None;
    let mut lead = 0usize;
    for k in items.clone() {
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
    let (mut total, mut holding) = (0usize, 0usize);
    for k in items {
        total += 1;
        holding += usize::from(k == winner);
    }
    (holding > total / 2).then_some(winner)
}

/// Decides; `None` when no finalized checkpoint has a strict majority (or nobody
/// responded). O(n) plus a sort of the members.
pub fn decide(votes: &[Vote]) -> Option<Decision> {
    let finalized = strict_majority(votes.iter().map(|v| v.finalized))?;
    let mut members: Vec<usize> = votes
        .iter()
        .filter(|v| v.finalized == finalized)
        .map(|v| v.upstream)
        .collect();
    members.sort_unstable();
    let justified = strict_majority(votes.iter().map(|v| v.justified)).unwrap_or_else(|| {
        votes
            .iter()
            .filter(|v| v.finalized == finalized)
            .map(|v| v.justified)
            .min()
            .unwrap_or(finalized)
    });
    Some(Decision {
        finalized,
        justified,
        members,
        responders: votes.len(),
    })
}

#[cfg(test)]
#[path = "consensus_tests.rs"]
mod tests;
