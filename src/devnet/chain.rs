//! The simulated chain, pure: one block per slot on each fork, the head advancing one
//! slot every `slot_ms`, the justified checkpoint two slots and the finalized one three
//! slots behind the head (as on a live 4-validator leanSpec node).
//!
//! Roots are true SSZ hash tree roots: the block at slot `s` has `parent_root` = the
//! root of block `s-1` (zero at genesis), `state_root` = the root of its post-state,
//! an empty body, and its root is the root of that header. Each post-state holds the
//! roots of the blocks before it, so the roots are computed in order, once per slot per
//! fork, and kept (`ForkChain`). The history root is kept incrementally, so a slot costs
//! a few dozen hashes whatever the length of the history: computing `n` slots is linear
//! (about 6 µs a slot in a release build), not quadratic.
//!
//! The canonical and the alternate fork share the genesis block; a `flapping` node moves
//! from one to the other every few slots (`fork_at`). From slot 1 on, each
//! post-state of the alternate fork also holds one justification still collecting
//! votes (its parent, one vote), so its states and block roots differ from the
//! canonical ones.

use super::merkle::Accumulator;
use super::state::{encode_state, Header, PostState, StateConstants, HISTORY_DEPTH};
use crate::lean::lstar::{empty_body_root, header_root};
use crate::lean::{Checkpoint, Root};
use std::rc::Rc;

/// Fork tag of the canonical chain.
pub const CANONICAL: u64 = 0;
/// Fork tag of the `forked` nodes' chain.
pub const ALTERNATE: u64 = 1;
/// Not a chain: the tag of the `flapping` nodes, which serve [`CANONICAL`] and
/// [`ALTERNATE`] in turns of [`FLAP_SLOTS`] slots ([`fork_at`] says which).
pub const FLAPPING: u64 = 2;
/// Slots a `flapping` node stays on one fork before it moves to the other.
pub const FLAP_SLOTS: u64 = 4;
/// Slots the justified checkpoint trails the head.
pub const JUSTIFIED_LAG: u64 = 2;
/// Slots the finalized checkpoint trails the head.
pub const FINALIZED_LAG: u64 = 3;

/// The chain a node of fork tag `fork` serves at head `head`: `fork` itself, except for
/// [`FLAPPING`]: the canonical chain for heads `0..FLAP_SLOTS`, the alternate one for
/// the next `FLAP_SLOTS`, and so on. On the alternate fork its finalized checkpoint has
/// the canonical slot and another root: a minority checkpoint.
pub fn fork_at(fork: u64, head: u64) -> u64 {
    match fork {
        FLAPPING if (head / FLAP_SLOTS).is_multiple_of(2) => CANONICAL,
        FLAPPING => ALTERNATE,
        other => other,
    }
}

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

    /// The head `elapsed_ms` after the start as seen by a node that sees each new slot
    /// `late_ms` after the others (before the start too: then it is behind
    /// `start_slot`, never below 0).
    pub fn late_head_at(&self, elapsed_ms: u64, late_ms: u64) -> u64 {
        match elapsed_ms.checked_sub(late_ms) {
            Some(seen) => self.head_at(seen),
            None => {
                let behind = (late_ms - elapsed_ms).div_ceil(self.slot_ms.max(1));
                self.start_slot.saturating_sub(behind)
            }
        }
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

/// A node's view of one fork with head `head`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainView {
    pub fork: u64,
    pub head: Checkpoint,
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
}

/// One fork's blocks from genesis: their roots and their post-states' roots, computed
/// in order on demand and kept.
#[derive(Debug, Clone)]
pub struct ForkChain {
    fork: u64,
    params: ChainParams,
    constants: Rc<StateConstants>,
    body_root: Root,
    /// Roots of the blocks at slots `0..len`.
    roots: Vec<Root>,
    /// Roots of their post-states.
    state_roots: Vec<Root>,
    /// `roots` as a Merkle tree, for the history root of the next state.
    history: Accumulator,
}

impl ForkChain {
    pub fn new(params: ChainParams, fork: u64, constants: Rc<StateConstants>) -> ForkChain {
        ForkChain {
            fork,
            params,
            constants,
            body_root: empty_body_root(),
            roots: Vec::new(),
            state_roots: Vec::new(),
            history: Accumulator::new(HISTORY_DEPTH),
        }
    }

    pub fn fork(&self) -> u64 {
        self.fork
    }

    /// The roots of the blocks computed so far, from slot 0.
    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// Computes the blocks up to `slot` included.
    pub fn extend_to(&mut self, slot: u64) {
        while (self.roots.len() as u64) <= slot {
            let next = self.roots.len() as u64;
            let post = self.post_state_from(next);
            let state_root = self.constants.state_root(&post, &self.history.list_root());
            let h = post.header;
            let root = header_root(
                h.slot,
                h.proposer_index,
                &h.parent_root,
                &state_root,
                &h.body_root,
            );
            self.state_roots.push(state_root);
            self.roots.push(root);
            self.history.push(root);
        }
    }

    /// The root of the block at `slot`.
    pub fn block_root(&mut self, slot: u64) -> Root {
        self.extend_to(slot);
        self.roots[slot as usize]
    }

    /// The root of the post-state of the block at `slot`.
    pub fn state_root(&mut self, slot: u64) -> Root {
        self.extend_to(slot);
        self.state_roots[slot as usize]
    }

    /// The header of the block at `slot`, state root included.
    pub fn header(&mut self, slot: u64) -> (Header, Root) {
        self.extend_to(slot);
        (
            self.post_state_from(slot).header,
            self.state_roots[slot as usize],
        )
    }

    /// The post-state of the block at `slot`.
    pub fn post_state(&mut self, slot: u64) -> PostState<'_> {
        self.extend_to(slot);
        self.post_state_from(slot)
    }

    /// The SSZ encoding of the post-state of the block at `slot`.
    pub fn encode_state(&mut self, slot: u64) -> Vec<u8> {
        let params = self.params;
        encode_state(&params, &self.post_state(slot))
    }

    /// The view whose head is the block at `head`.
    pub fn view(&mut self, head: u64) -> ChainView {
        self.extend_to(head);
        let checkpoint = |slot: u64| Checkpoint {
            slot,
            root: self.roots[slot as usize],
        };
        ChainView {
            fork: self.fork,
            head: checkpoint(head),
            justified: checkpoint(head.saturating_sub(JUSTIFIED_LAG)),
            finalized: checkpoint(head.saturating_sub(FINALIZED_LAG)),
        }
    }

    /// The post-state at `slot` from the roots of the blocks before it (which must be
    /// known: `slot <= roots.len()`).
    fn post_state_from(&self, slot: u64) -> PostState<'_> {
        let s = slot as usize;
        let history = &self.roots[..s];
        let checkpoint = |lag: u64| {
            let at = slot.saturating_sub(lag);
            Checkpoint {
                slot: at,
                // At genesis the checkpoints name no block yet (as a real genesis).
                root: match slot {
                    0 => [0; 32],
                    _ => history[at as usize],
                },
            }
        };
        let parent_root = match s.checked_sub(1) {
            Some(p) => history[p],
            None => [0; 32],
        };
        PostState {
            slot,
            header: Header {
                slot,
                proposer_index: self.params.proposer(slot),
                parent_root,
                body_root: self.body_root,
            },
            justified: checkpoint(JUSTIFIED_LAG),
            finalized: checkpoint(FINALIZED_LAG),
            history,
            pending: match (self.fork, slot) {
                (CANONICAL, _) | (_, 0) => None,
                _ => Some(parent_root),
            },
        }
    }
}

#[cfg(test)]
#[path = "chain_tests.rs"]
mod tests;
