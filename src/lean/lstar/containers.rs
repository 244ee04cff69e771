//! The lstar fork's small fixed-size containers and their hash tree roots: block
//! header, checkpoint, validator, attestation data; the field offsets of each.

use super::merkle::{hash64, hash_pair, merkleize, u64_chunk, zero_hash};
use crate::lean::Root;

/// Size of one SSZ `Validator` (two 52-byte public keys and a u64 index).
pub const VALIDATOR_SIZE: usize = 112;

/// Size of one SSZ `Checkpoint` (root, slot).
pub const CHECKPOINT_SIZE: usize = 40;

/// Size of one SSZ `AttestationData` (slot and three checkpoints).
pub const ATTESTATION_DATA_SIZE: usize = 128;

/// Size of an XMSS public key in a `Validator`.
const PUBLIC_KEY_SIZE: usize = 52;

/// hash_tree_root of a `BlockHeader { slot, proposer_index, parent_root, state_root,
/// body_root }` (also the root of the `Block` it heads).
pub fn header_root(
    slot: u64,
    proposer_index: u64,
    parent_root: &Root,
    state_root: &Root,
    body_root: &Root,
) -> Root {
    merkleize(&[
        u64_chunk(slot),
        u64_chunk(proposer_index),
        *parent_root,
        *state_root,
        *body_root,
    ])
}

/// hash_tree_root of a `Checkpoint { root, slot }`.
pub(crate) fn checkpoint_root(root: &Root, slot: u64) -> Root {
    hash_pair(root, &u64_chunk(slot))
}

/// hash_tree_root of an SSZ `Checkpoint` in its 40 encoded bytes.
pub(crate) fn checkpoint_root_at(bytes: &[u8; CHECKPOINT_SIZE]) -> Root {
    let (root, slot) = bytes.split_at(32);
    hash_pair(&root_of(root), &u64_chunk(u64_of(slot)))
}

/// hash_tree_root of an SSZ `Validator` in its 112 encoded bytes:
/// `{attestation_public_key: Bytes52, proposal_public_key: Bytes52, index: u64}`.
pub(crate) fn validator_root(v: &[u8; VALIDATOR_SIZE]) -> Root {
    let (keys, index) = v.split_at(2 * PUBLIC_KEY_SIZE);
    let (attestation_key, proposal_key) = keys.split_at(PUBLIC_KEY_SIZE);
    let left = hash_pair(&bytes52_root(attestation_key), &bytes52_root(proposal_key));
    let right = hash_pair(&u64_chunk(u64_of(index)), &zero_hash(0));
    hash_pair(&left, &right)
}

/// hash_tree_root of a `Bytes52`: two chunks, the second zero padded.
fn bytes52_root(key: &[u8]) -> Root {
    let mut block = [0u8; 64];
    let n = key.len().min(PUBLIC_KEY_SIZE);
    block[..n].copy_from_slice(&key[..n]);
    hash64(&block)
}

/// hash_tree_root of an SSZ `AttestationData { slot, head, target, source }` in its
/// 128 encoded bytes.
pub(crate) fn attestation_data_root(d: &[u8; ATTESTATION_DATA_SIZE]) -> Root {
    let (slot, checkpoints) = d.split_at(8);
    let mut leaves = [u64_chunk(u64_of(slot)), [0; 32], [0; 32], [0; 32]];
    for (leaf, cp) in leaves[1..]
        .iter_mut()
        .zip(checkpoints.chunks_exact(CHECKPOINT_SIZE))
    {
        if let Ok(cp) = <&[u8; CHECKPOINT_SIZE]>::try_from(cp) {
            *leaf = checkpoint_root_at(cp);
        }
    }
    merkleize(&leaves)
}

/// A little-endian u64 from the first 8 bytes of `b` (0 if shorter).
pub(crate) fn u64_of(b: &[u8]) -> u64 {
    b.first_chunk::<8>().map_or(0, |a| u64::from_le_bytes(*a))
}

/// A little-endian u32 offset from the first 4 bytes of `b` (0 if shorter).
pub(crate) fn u32_of(b: &[u8]) -> usize {
    b.first_chunk::<4>()
        .map_or(0, |a| u32::from_le_bytes(*a) as usize)
}

/// A root from the first 32 bytes of `b` (zero if shorter).
pub(crate) fn root_of(b: &[u8]) -> Root {
    b.first_chunk::<32>().copied().unwrap_or([0; 32])
}
