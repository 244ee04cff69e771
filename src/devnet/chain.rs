//! The simulated chain, pure: one block per slot on each fork, roots derived from
//! (fork tag, slot) with SHA-256, the head advancing one slot every `slot_ms`, the
//! justified checkpoint two slots and the finalized one three slots behind the head
//! (as on a live 4-validator leanSpec node).

use crate::lean::{Checkpoint, Root};
use sha2::{Digest, Sha256};

/// Fork tag of the canonical chain.
pub const CANONICAL: u64 = 0;
/// Fork tag of the `forked` nodes' chain.
pub const ALTERNATE: u64 = 1;
/// Slots the justified checkpoint trails the head.
pub const JUSTIFIED_LAG: u64 = 2;
/// Slots the finalized checkpoint trails the head.
pub const FINALIZED_LAG: u64 = 3;

/// What every node's chain is derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainParams {
    /// `config.genesis_time` of the states (seconds).
    pub genesis_time: u64,
    /// Milliseconds per slot (> 0).
    pub slot_ms: u64,
    /// Head slot when the simulator starts.
    pub start_slot: u64,
    /// Validators in the state (1..=4096).
    pub validators: u64,
}

impl ChainParams {
    /// The canonical head `elapsed_ms` after the start.
    pub fn head_at(&self, elapsed_ms: u64) -> u64 {
        self.start_slot
            .saturating_add(elapsed_ms / self.slot_ms.max(1))
    }

    /// Milliseconds after the start at which the head after `head` begins.
    pub fn next_slot_at(&self, head: u64) -> u64 {
        head.saturating_sub(self.start_slot)
            .saturating_add(1)
            .saturating_mul(self.slot_ms.max(1))
    }

    /// The proposer of `slot`.
    pub fn proposer(&self, slot: u64) -> u64 {
        slot % self.validators.max(1)
    }
}

/// The root of the block at `slot` on fork `fork`.
pub fn block_root(fork: u64, slot: u64) -> Root {
    tagged_hash(b"lean-devnet/block", fork, slot)
}

/// The body root of the block at `slot` on fork `fork`.
pub fn body_root(fork: u64, slot: u64) -> Root {
    tagged_hash(b"lean-devnet/body", fork, slot)
}

fn tagged_hash(tag: &[u8], a: u64, b: u64) -> Root {
    let mut h = Sha256::new();
    h.update(tag);
    h.update(a.to_le_bytes());
    h.update(b.to_le_bytes());
    h.finalize().into()
}

/// A node's view of one fork with head `head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainView {
    pub fork: u64,
    pub head: Checkpoint,
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
}

impl ChainView {
    /// The view at head `head`: justified and finalized trail it (never below slot 0).
    pub fn at(fork: u64, head: u64) -> ChainView {
        let checkpoint = |slot: u64| Checkpoint {
            slot,
            root: block_root(fork, slot),
        };
        ChainView {
            fork,
            head: checkpoint(head),
            justified: checkpoint(head.saturating_sub(JUSTIFIED_LAG)),
            finalized: checkpoint(head.saturating_sub(FINALIZED_LAG)),
        }
    }
}

/// The block roots of one fork from slot 0, computed once and extended on demand.
#[derive(Debug, Clone)]
pub struct RootLog {
    fork: u64,
    roots: Vec<Root>,
}

impl RootLog {
    pub fn new(fork: u64) -> RootLog {
        RootLog {
            fork,
            roots: Vec::new(),
        }
    }

    /// Roots of slots `0..end`.
    pub fn roots_to(&mut self, end: u64) -> &[Root] {
        let end = usize::try_from(end).unwrap_or(usize::MAX);
        while self.roots.len() < end {
            let slot = self.roots.len() as u64;
            self.roots.push(block_root(self.fork, slot));
        }
        self.roots.get(..end).unwrap_or(&self.roots)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> ChainParams {
        ChainParams {
            genesis_time: 1_700_000_000,
            slot_ms: 300,
            start_slot: 4,
            validators: 4,
        }
    }

    #[test]
    fn head_advances_one_slot_per_slot_ms() {
        let p = params();
        assert_eq!(p.head_at(0), 4);
        assert_eq!(p.head_at(299), 4);
        assert_eq!(p.head_at(300), 5);
        assert_eq!(p.head_at(3_000), 14);
        assert_eq!(p.next_slot_at(4), 300);
        assert_eq!(p.next_slot_at(14), 3_300);
        assert_eq!(p.head_at(p.next_slot_at(9)), 10);
    }

    #[test]
    fn roots_depend_on_fork_and_slot_only() {
        assert_eq!(block_root(CANONICAL, 7), block_root(CANONICAL, 7));
        assert_ne!(block_root(CANONICAL, 7), block_root(CANONICAL, 8));
        assert_ne!(block_root(CANONICAL, 7), block_root(ALTERNATE, 7));
        assert_ne!(block_root(CANONICAL, 7), body_root(CANONICAL, 7));
    }

    #[test]
    fn checkpoints_trail_the_head() {
        let v = ChainView::at(CANONICAL, 21);
        assert_eq!(
            (v.head.slot, v.justified.slot, v.finalized.slot),
            (21, 19, 18)
        );
        assert_eq!(v.justified.root, block_root(CANONICAL, 19));
        assert_eq!(v.finalized.root, block_root(CANONICAL, 18));
        let genesis = ChainView::at(ALTERNATE, 1);
        assert_eq!((genesis.justified.slot, genesis.finalized.slot), (0, 0));
        assert_eq!(genesis.finalized.root, block_root(ALTERNATE, 0));
    }

    #[test]
    fn root_log_extends_and_matches_block_root() {
        let mut log = RootLog::new(ALTERNATE);
        assert!(log.roots_to(0).is_empty());
        assert_eq!(log.roots_to(3).len(), 3);
        let roots = log.roots_to(10).to_vec();
        assert_eq!(roots.len(), 10);
        for (slot, root) in roots.iter().enumerate() {
            assert_eq!(*root, block_root(ALTERNATE, slot as u64));
        }
        assert_eq!(
            log.roots_to(5),
            &roots[..5],
            "a shorter prefix after growing"
        );
    }

    #[test]
    fn proposers_rotate() {
        let p = params();
        assert_eq!(
            (0..6).map(|s| p.proposer(s)).collect::<Vec<_>>(),
            [0, 1, 2, 3, 0, 1]
        );
    }
}
