//! The simulated post-states, pure: what one holds (`PostState`), its SSZ encoding as
//! served at `/lean/v0/states/finalized` (fixed part of 228 bytes, five offsets, then the
//! history roots, the justified-slots bitlist, 112-byte validators, the justification
//! roots and bits; leanSpec's `State` container), and its hash tree root
//! computed from the same fields without re-hashing the history (`StateConstants`).
//! Deterministic: the same inputs always give the same bytes and root.

use super::chain::ChainParams;
use super::merkle::roots_list_root;
use crate::lean::lstar::containers::{checkpoint_root, header_root, validator_root};
use crate::lean::lstar::merkle::{bitlist_root, hash_pair, merkleize, merkleize_to, u64_chunk};
use crate::lean::lstar::{
    HISTORICAL_ROOTS_LIMIT, JUSTIFICATION_VALIDATORS_LIMIT, VALIDATOR_REGISTRY_LIMIT,
};
use crate::lean::ssz::{FIXED_PART, VALIDATOR_SIZE};
use crate::lean::{Checkpoint, Root};
use sha2::{Digest, Sha256};
use std::cell::RefCell;

/// The all-zero root.
const ZERO: Root = [0; 32];
/// Size of each of the two public keys of a validator record.
const PUBKEY_SIZE: usize = 52;
/// Depth of `historical_block_hashes` and `justifications_roots` (2^18 roots).
pub const HISTORY_DEPTH: usize = HISTORICAL_ROOTS_LIMIT.trailing_zeros() as usize;
/// Limit of `justified_slots` in bits.
const JUSTIFIED_SLOTS_LIMIT: u64 = HISTORICAL_ROOTS_LIMIT;
/// Depth of `validators` (2^12).
const VALIDATORS_DEPTH: usize = VALIDATOR_REGISTRY_LIMIT.trailing_zeros() as usize;
/// Limit of `justifications_validators` in bits (2^18 roots x 2^12 validators).
const JUSTIFICATION_BITS_LIMIT: u64 = JUSTIFICATION_VALIDATORS_LIMIT;

/// A block header without its state root (zero in the block's post-state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub slot: u64,
    pub proposer_index: u64,
    pub parent_root: Root,
    pub body_root: Root,
}

/// The post-state of the block at `slot`, apart from what the whole chain shares
/// (genesis time, validators: `ChainParams`).
#[derive(Debug, Clone, Copy)]
pub struct PostState<'a> {
    pub slot: u64,
    /// The block's header; the state holds it with a zero state root.
    pub header: Header,
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
    /// The roots of the blocks at slots `0..slot`.
    pub history: &'a [Root],
    /// A justification still collecting votes: its root, with one vote (validator 0's).
    pub pending: Option<Root>,
}

impl PostState<'_> {
    /// `justified_slots`: one bit per slot after the finalized one up to the state's
    /// slot, set for those at or below the justified slot.
    pub fn justified_slots(&self) -> Vec<u8> {
        let (finalized, justified) = (self.finalized.slot, self.justified.slot);
        bitlist(self.slot.saturating_sub(finalized), |i| {
            finalized + 1 + i <= justified
        })
    }

    fn pending_roots(&self) -> &[Root] {
        match &self.pending {
            Some(root) => std::slice::from_ref(root),
            None => &[],
        }
    }
}

/// `justifications_validators` for `pending` (validator 0 voted) under `params`.
fn pending_votes(params: &ChainParams, pending: bool) -> Vec<u8> {
    match pending {
        true => bitlist(params.validators, |i| i == 0),
        false => bitlist(0, |_| false),
    }
}

/// Encodes `post`.
pub fn encode_state(params: &ChainParams, post: &PostState<'_>) -> Vec<u8> {
    let validators = usize::try_from(params.validators).unwrap_or(0);
    let justified_slots = post.justified_slots();
    let pending = post.pending_roots();
    let votes = pending_votes(params, post.pending.is_some());

    let history_len = post.history.len() * 32;
    let validators_len = validators * VALIDATOR_SIZE;
    let total = FIXED_PART
        + history_len
        + justified_slots.len()
        + validators_len
        + pending.len() * 32
        + votes.len();
    let mut out = Vec::with_capacity(total);

    out.extend_from_slice(&params.genesis_time.to_le_bytes());
    out.extend_from_slice(&post.slot.to_le_bytes());
    let h = &post.header;
    out.extend_from_slice(&h.slot.to_le_bytes());
    out.extend_from_slice(&h.proposer_index.to_le_bytes());
    out.extend_from_slice(&h.parent_root);
    out.extend_from_slice(&ZERO);
    out.extend_from_slice(&h.body_root);
    for checkpoint in [post.justified, post.finalized] {
        out.extend_from_slice(&checkpoint.root);
        out.extend_from_slice(&checkpoint.slot.to_le_bytes());
    }
    let o1 = FIXED_PART;
    let o2 = o1 + history_len;
    let o3 = o2 + justified_slots.len();
    let o4 = o3 + validators_len;
    let o5 = o4 + pending.len() * 32;
    for offset in [o1, o2, o3, o4, o5] {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        out.extend_from_slice(&offset.to_le_bytes());
    }

    for root in post.history {
        out.extend_from_slice(root);
    }
    out.extend_from_slice(&justified_slots);
    for index in 0..params.validators {
        out.extend_from_slice(&validator_record(index));
    }
    for root in pending {
        out.extend_from_slice(root);
    }
    out.extend_from_slice(&votes);
    out
}

/// The parts of a state root that are the same for every state of a chain, hashed once,
/// and the roots of the few `justified_slots` bitlists a chain uses, hashed once each.
#[derive(Debug, Clone)]
pub struct StateConstants {
    genesis_time: Root,
    validators: Root,
    /// Fields 8..16 (pending justification roots and votes, zero padding) without a
    /// pending justification.
    no_pending: Root,
    one_pending_vote: Root,
    /// `justified_slots` encodings and their roots (a handful per chain).
    justified_slots: RefCell<Vec<(Vec<u8>, Root)>>,
}

/// Most `justified_slots` roots remembered (a chain uses about four).
const JUSTIFIED_SLOTS_MEMO: usize = 16;

impl StateConstants {
    pub fn new(params: &ChainParams) -> StateConstants {
        let records: Vec<Root> = (0..params.validators)
            .map(|i| validator_root(&validator_record(i)))
            .collect();
        let votes = |pending| {
            bitlist_root(&pending_votes(params, pending), JUSTIFICATION_BITS_LIMIT).unwrap_or(ZERO)
        };
        let no_pending_roots = roots_list_root(&[], HISTORY_DEPTH);
        StateConstants {
            // `GenesisConfig { genesis_time }`: one chunk, its own root.
            genesis_time: u64_chunk(params.genesis_time),
            validators: roots_list_root(&records, VALIDATORS_DEPTH),
            no_pending: merkleize_to(&[no_pending_roots, votes(false)], 3),
            one_pending_vote: votes(true),
            justified_slots: RefCell::new(Vec::new()),
        }
    }

    /// The hash tree root of `post`, given the root of its history list (the caller
    /// keeps that one incrementally; it must be that of `post.history`).
    pub fn state_root(&self, post: &PostState<'_>, history_root: &Root) -> Root {
        let h = &post.header;
        // Ten fields, as two subtrees of eight leaves.
        let left = [
            self.genesis_time,
            u64_chunk(post.slot),
            header_root(
                h.slot,
                h.proposer_index,
                &h.parent_root,
                &ZERO,
                &h.body_root,
            ),
            checkpoint_root(&post.justified.root, post.justified.slot),
            checkpoint_root(&post.finalized.root, post.finalized.slot),
            *history_root,
            self.justified_slots_root(&post.justified_slots()),
            self.validators,
        ];
        let right = match &post.pending {
            Some(root) => merkleize_to(
                &[
                    roots_list_root(std::slice::from_ref(root), HISTORY_DEPTH),
                    self.one_pending_vote,
                ],
                3,
            ),
            None => self.no_pending,
        };
        hash_pair(&merkleize(&left), &right)
    }

    fn justified_slots_root(&self, bits: &[u8]) -> Root {
        let mut memo = self.justified_slots.borrow_mut();
        if let Some((_, root)) = memo.iter().find(|(b, _)| b == bits) {
            return *root;
        }
        let root = bitlist_root(bits, JUSTIFIED_SLOTS_LIMIT).unwrap_or(ZERO);
        if memo.len() < JUSTIFIED_SLOTS_MEMO {
            memo.push((bits.to_vec(), root));
        }
        root
    }
}

/// One `Validator`: attestation and proposal public keys (52 bytes each) and the index.
pub fn validator_record(index: u64) -> [u8; VALIDATOR_SIZE] {
    let mut record = [0u8; VALIDATOR_SIZE];
    let (keys, tail) = record.split_at_mut(2 * PUBKEY_SIZE);
    for (k, key) in keys.chunks_mut(PUBKEY_SIZE).enumerate() {
        // 52 bytes from two hashes of (index, which key, half).
        for (half, part) in key.chunks_mut(32).enumerate() {
            let mut h = Sha256::new();
            h.update(b"lean-devnet/pubkey");
            h.update(index.to_le_bytes());
            h.update([k as u8, half as u8]);
            let digest: [u8; 32] = h.finalize().into();
            let n = part.len();
            part.copy_from_slice(digest.get(..n).unwrap_or(&digest));
        }
    }
    tail.copy_from_slice(&index.to_le_bytes());
    record
}

/// `state` with one byte of the first validator's attestation key changed: still a
/// layout-valid state with the same slots and checkpoints, but another hash tree root.
/// A state without validators is returned unchanged.
pub fn tamper(state: &[u8]) -> Vec<u8> {
    let mut out = state.to_vec();
    let validators_at = out
        .get(216..220)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .and_then(|o| usize::try_from(o).ok());
    let end = out
        .get(220..224)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
        .and_then(|o| usize::try_from(o).ok());
    if let (Some(at), Some(end)) = (validators_at, end) {
        if at < end {
            if let Some(byte) = out.get_mut(at) {
                *byte ^= 0x01;
            }
        }
    }
    out
}

/// An SSZ bitlist of `len` bits (bit `i` is `bit(i)`), with its delimiter bit.
pub fn bitlist(len: u64, bit: impl Fn(u64) -> bool) -> Vec<u8> {
    let len = usize::try_from(len).unwrap_or(0);
    let mut out = vec![0u8; len / 8 + 1];
    for i in 0..len {
        if bit(i as u64) {
            if let Some(byte) = out.get_mut(i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
    }
    if let Some(byte) = out.get_mut(len / 8) {
        *byte |= 1 << (len % 8);
    }
    out
}

#[cfg(test)]
#[path = "state_tests.rs"]
pub(crate) mod tests;
