//! The lstar `SignedBlock { block: Block, proof: MultiMessageAggregate }`: decoding it
//! (whole body: blocks are small) to its roots, and encoding one with an empty body and
//! an empty proof for the devnet simulator.
//!
//! `Block { slot, proposer_index, parent_root, state_root, body: BlockBody }` is 84 fixed
//! bytes (the body behind a u32 offset); `BlockBody { attestations:
//! List[AggregatedAttestation, 4096] }`; `AggregatedAttestation { aggregation_bits:
//! Bitlist[4096], data: AttestationData }`; `MultiMessageAggregate { proof:
//! ByteList[512 KiB] }`, whose empty value encodes to the offset `04 00 00 00` alone.

use super::containers::{
    attestation_data_root, header_root, root_of, u32_of, u64_of, ATTESTATION_DATA_SIZE,
};
use super::merkle::{bitlist_root, depth_for, mix_in_length, zero_hash, BitlistError, Merkleizer};
use super::LayoutError;
use crate::lean::ssz::{looks_like_text, MAX_PLAUSIBLE_SLOT};
use crate::lean::Root;

/// Bound of a block's attestation list (`VALIDATOR_REGISTRY_LIMIT`).
pub const ATTESTATIONS_LIMIT: u64 = 1 << 12;

/// Bound of an attestation's aggregation bits, in bits (`VALIDATOR_REGISTRY_LIMIT`).
pub const AGGREGATION_BITS_LIMIT: u64 = 1 << 12;

/// Bound of the proof bytes of a `MultiMessageAggregate` (`ByteList512KiB`).
pub const PROOF_LIMIT: usize = 512 * 1024;

/// Fixed part of a `Block`: slot, proposer index, parent and state roots, body offset.
const BLOCK_FIXED: usize = 84;

/// Fixed part of an `AggregatedAttestation`: the bits' offset and the data.
const ATTESTATION_FIXED: usize = 4 + ATTESTATION_DATA_SIZE;

/// The smallest `SignedBlock`: two offsets, a block with an empty body, an empty proof.
const SIGNED_BLOCK_MIN: usize = 8 + BLOCK_FIXED + 4 + 4;

/// What a valid `SignedBlock` decodes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockRoots {
    /// hash_tree_root(Block), equal to the root of its header.
    pub block_root: Root,
    pub slot: u64,
    pub proposer_index: u64,
    pub parent_root: Root,
    pub state_root: Root,
    /// hash_tree_root(BlockBody).
    pub body_root: Root,
}

/// Decodes an SSZ lstar `SignedBlock` and computes its block and body roots.
///
/// Refused: an empty or text body, fewer bytes than the smallest block (`TooShort`), any
/// offset or size that does not parse as the layout (`BadBlock`), lists or bitlists
/// over their limits (`OverLimit`), a slot ≥ 2^40 (`BadSlot`). The proof's bytes are
/// checked for shape and size only.
pub fn signed_block_roots(bytes: &[u8]) -> Result<BlockRoots, LayoutError> {
    if bytes.is_empty() {
        return Err(LayoutError::TooShort(0));
    }
    if looks_like_text(bytes) {
        return Err(LayoutError::Text);
    }
    if bytes.len() < SIGNED_BLOCK_MIN {
        return Err(LayoutError::TooShort(bytes.len()));
    }
    let (block_at, proof_at) = (u32_of(bytes), u32_of(&bytes[4..]));
    if block_at != 8 || proof_at < block_at || proof_at > bytes.len() {
        return Err(LayoutError::BadBlock("signed block offsets"));
    }
    let block = &bytes[block_at..proof_at];
    check_proof(&bytes[proof_at..])?;

    let fixed = block
        .get(..BLOCK_FIXED)
        .ok_or(LayoutError::BadBlock("block shorter than its fixed part"))?;
    let slot = u64_of(fixed);
    let proposer_index = u64_of(&fixed[8..]);
    let parent_root = root_of(&fixed[16..]);
    let state_root = root_of(&fixed[48..]);
    if u32_of(&fixed[80..]) != BLOCK_FIXED {
        return Err(LayoutError::BadBlock("block body offset"));
    }
    if slot >= MAX_PLAUSIBLE_SLOT {
        return Err(LayoutError::BadSlot(slot));
    }
    let body_root = body_root(&block[BLOCK_FIXED..])?;
    Ok(BlockRoots {
        block_root: header_root(slot, proposer_index, &parent_root, &state_root, &body_root),
        slot,
        proposer_index,
        parent_root,
        state_root,
        body_root,
    })
}

/// hash_tree_root(BlockBody { attestations: [] }).
pub fn empty_body_root() -> Root {
    mix_in_length(&zero_hash(depth_for(ATTESTATIONS_LIMIT)), 0)
}

/// An SSZ `SignedBlock` with an empty body and an empty proof (100 bytes), as leanSpec
/// encodes `SignedBlock(block=Block(..., body=BlockBody(attestations=[])),
/// proof=MultiMessageAggregate(proof=b""))`. Its block root is
/// `header_root(slot, proposer_index, parent_root, state_root, &empty_body_root())`.
pub fn encode_signed_block(
    slot: u64,
    proposer_index: u64,
    parent_root: &Root,
    state_root: &Root,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(SIGNED_BLOCK_MIN);
    let offset = |v: usize| u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes();
    out.extend_from_slice(&offset(8));
    out.extend_from_slice(&offset(8 + BLOCK_FIXED + 4));
    out.extend_from_slice(&slot.to_le_bytes());
    out.extend_from_slice(&proposer_index.to_le_bytes());
    out.extend_from_slice(parent_root);
    out.extend_from_slice(state_root);
    out.extend_from_slice(&offset(BLOCK_FIXED));
    // BlockBody: the offset of its one (variable, empty) field.
    out.extend_from_slice(&offset(4));
    // MultiMessageAggregate: the offset of its one (variable, empty) field.
    out.extend_from_slice(&offset(4));
    out
}

/// A `MultiMessageAggregate`: one offset (= 4), then at most 512 KiB of proof bytes.
fn check_proof(proof: &[u8]) -> Result<(), LayoutError> {
    if proof.len() < 4 || u32_of(proof) != 4 {
        return Err(LayoutError::BadBlock("proof offset"));
    }
    if proof.len() - 4 > PROOF_LIMIT {
        return Err(LayoutError::OverLimit("proof"));
    }
    Ok(())
}

/// hash_tree_root of an encoded `BlockBody`.
fn body_root(body: &[u8]) -> Result<Root, LayoutError> {
    if body.len() < 4 || u32_of(body) != 4 {
        return Err(LayoutError::BadBlock("block body offset of attestations"));
    }
    attestations_root(&body[4..])
}

/// hash_tree_root of an encoded `List[AggregatedAttestation, 4096]`: a list of
/// variable-size elements, so an offset table (first offset = 4 × count) then the
/// elements. The root of the body container is that of its single field.
fn attestations_root(list: &[u8]) -> Result<Root, LayoutError> {
    let mut tree = Merkleizer::new(depth_for(ATTESTATIONS_LIMIT));
    if !list.is_empty() {
        let first = u32_of(list);
        if first == 0 || !first.is_multiple_of(4) || first > list.len() {
            return Err(LayoutError::BadBlock("attestation offsets"));
        }
        let count = first / 4;
        if count as u64 > ATTESTATIONS_LIMIT {
            return Err(LayoutError::OverLimit("attestations"));
        }
        let mut start = first;
        for i in 0..count {
            let end = if i + 1 < count {
                u32_of(list.get(4 * (i + 1)..).unwrap_or_default())
            } else {
                list.len()
            };
            let element = match list.get(start..end) {
                Some(e) if start <= end => e,
                _ => return Err(LayoutError::BadBlock("attestation offsets")),
            };
            tree.push(&aggregated_attestation_root(element)?);
            start = end;
        }
    }
    Ok(mix_in_length(&tree.finish(), tree.count()))
}

/// hash_tree_root of an encoded `AggregatedAttestation`.
fn aggregated_attestation_root(a: &[u8]) -> Result<Root, LayoutError> {
    let data = a
        .get(4..ATTESTATION_FIXED)
        .and_then(|d| <&[u8; ATTESTATION_DATA_SIZE]>::try_from(d).ok())
        .ok_or(LayoutError::BadBlock(
            "attestation shorter than its fixed part",
        ))?;
    if u32_of(a) != ATTESTATION_FIXED {
        return Err(LayoutError::BadBlock("aggregation bits offset"));
    }
    let bits =
        bitlist_root(&a[ATTESTATION_FIXED..], AGGREGATION_BITS_LIMIT).map_err(|e| match e {
            BitlistError::NoDelimiter => LayoutError::BadBlock("aggregation bits"),
            BitlistError::OverLimit => LayoutError::OverLimit("aggregation_bits"),
        })?;
    Ok(super::merkle::hash_pair(
        &bits,
        &attestation_data_root(data),
    ))
}

#[cfg(test)]
#[path = "block_tests.rs"]
mod tests;
