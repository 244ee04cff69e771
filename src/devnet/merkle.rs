//! The SSZ merkleization the simulator needs to give its chain true roots without
//! re-hashing whole states: SHA-256 pairs, zero subtrees, `mix_in_length`, and an
//! append-only accumulator for `historical_block_hashes`, so that the state root of
//! each new slot costs a few dozen hashes whatever the length of the history (a full
//! re-hash per slot would make a long start-up history quadratic).
//!
//! `lean::lstar` hashes whole states and blocks as a client does; the tests check that
//! both agree (and against the live fixture), so the two cannot drift apart silently.

use crate::lean::Root;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The all-zero chunk.
pub const ZERO: Root = [0; 32];

/// Deepest zero subtree kept (bitlists of 2^30 bits are 2^22 chunks deep).
const MAX_DEPTH: usize = 40;

/// SHA-256 of `a || b`.
pub fn hash_pair(a: &Root, b: &Root) -> Root {
    let mut h = Sha256::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// The root of a subtree of `2^depth` zero chunks (`depth` at most 40).
pub fn zero_hash(depth: usize) -> Root {
    static ZEROS: OnceLock<[Root; MAX_DEPTH + 1]> = OnceLock::new();
    let zeros = ZEROS.get_or_init(|| {
        let mut z = [ZERO; MAX_DEPTH + 1];
        for d in 1..=MAX_DEPTH {
            z[d] = hash_pair(&z[d - 1], &z[d - 1]);
        }
        z
    });
    zeros[depth.min(MAX_DEPTH)]
}

/// A `u64` as its chunk (little endian, zero padded).
pub fn u64_chunk(v: u64) -> Root {
    let mut c = ZERO;
    c[..8].copy_from_slice(&v.to_le_bytes());
    c
}

/// `hash(root, length)`: the root of a list or bitlist.
pub fn mix_in_length(root: &Root, len: u64) -> Root {
    hash_pair(root, &u64_chunk(len))
}

/// The root of `chunks` padded with zero chunks to `2^depth` leaves. Chunks beyond
/// `2^depth` are ignored (callers never pass that many).
pub fn merkleize(chunks: &[Root], depth: usize) -> Root {
    if chunks.is_empty() {
        return zero_hash(depth);
    }
    let cap = 1usize.checked_shl(depth as u32).unwrap_or(usize::MAX);
    let mut layer: Vec<Root> = chunks.iter().take(cap).copied().collect();
    for d in 0..depth {
        if layer.len() % 2 == 1 {
            layer.push(zero_hash(d));
        }
        layer = layer.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
    }
    layer.first().copied().unwrap_or(ZERO)
}

/// `bytes` packed into chunks (the last one zero padded).
pub fn pack_bytes(bytes: &[u8]) -> Vec<Root> {
    bytes
        .chunks(32)
        .map(|part| {
            let mut c = ZERO;
            c[..part.len()].copy_from_slice(part);
            c
        })
        .collect()
}

/// Depth of a tree of `limit` chunks (`limit` rounded up to a power of two).
pub fn depth_for(limit: u64) -> usize {
    limit.max(1).next_power_of_two().trailing_zeros() as usize
}

/// The root of an SSZ bitlist given in its encoding (with the delimiter bit) whose limit
/// is `limit_bits`; `None` when the encoding has no delimiter.
pub fn bitlist_root(encoded: &[u8], limit_bits: u64) -> Option<Root> {
    let (&last, _) = encoded.split_last()?;
    if last == 0 {
        return None;
    }
    let top = 7 - last.leading_zeros() as usize;
    let len = (encoded.len() - 1) * 8 + top;
    let mut bits = encoded.to_vec();
    if let Some(byte) = bits.last_mut() {
        *byte &= !(1u8 << top);
    }
    // Only the bytes holding the `len` bits are chunked.
    bits.truncate(len.div_ceil(8));
    let depth = depth_for(limit_bits.div_ceil(256));
    Some(mix_in_length(
        &merkleize(&pack_bytes(&bits), depth),
        len as u64,
    ))
}

/// The root of a `List[Bytes32, 2^depth]`.
pub fn roots_list_root(roots: &[Root], depth: usize) -> Root {
    mix_in_length(&merkleize(roots, depth), roots.len() as u64)
}

/// The root of a `Checkpoint { root, slot }`.
pub fn checkpoint_root(root: &Root, slot: u64) -> Root {
    hash_pair(root, &u64_chunk(slot))
}

/// The root of a `BlockHeader` (equal to that of the block it heads).
pub fn header_root(
    slot: u64,
    proposer_index: u64,
    parent_root: &Root,
    state_root: &Root,
    body_root: &Root,
) -> Root {
    merkleize(
        &[
            u64_chunk(slot),
            u64_chunk(proposer_index),
            *parent_root,
            *state_root,
            *body_root,
        ],
        3,
    )
}

/// The root of one 112-byte `Validator { attestation_public_key: Bytes52,
/// proposal_public_key: Bytes52, index: u64 }`.
pub fn validator_root(record: &[u8]) -> Root {
    let key = |bytes: &[u8]| merkleize(&pack_bytes(bytes), 1);
    let (keys, index) = record.split_at(record.len().min(104));
    let (a, b) = keys.split_at(keys.len().min(52));
    let mut index_chunk = ZERO;
    let n = index.len().min(8);
    index_chunk[..n].copy_from_slice(&index[..n]);
    merkleize(&[key(a), key(b), index_chunk], 2)
}

/// An append-only Merkle tree of `2^depth` leaves (the deposit contract's): `push` and
/// `root` cost `depth` hashes each, whatever the number of leaves.
#[derive(Debug, Clone)]
pub struct Accumulator {
    depth: usize,
    /// `branch[h]`: the root of the last complete left subtree of height `h`.
    branch: Vec<Root>,
    count: u64,
    /// The root once all `2^depth` leaves are in.
    full: Option<Root>,
}

impl Accumulator {
    pub fn new(depth: usize) -> Accumulator {
        Accumulator {
            depth,
            branch: vec![ZERO; depth],
            count: 0,
            full: None,
        }
    }

    /// Leaves pushed.
    pub fn len(&self) -> u64 {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Appends `leaf` (ignored once the tree is full).
    pub fn push(&mut self, leaf: Root) {
        if self.depth < 64 && self.count >= 1u64 << self.depth {
            return;
        }
        self.count += 1;
        let mut node = leaf;
        let mut size = self.count;
        for h in 0..self.depth {
            if size & 1 == 1 {
                self.branch[h] = node;
                return;
            }
            node = hash_pair(&self.branch[h], &node);
            size >>= 1;
        }
        // The last leaf: `node` is the root of the full tree.
        self.full = Some(node);
    }

    /// The root of the leaves so far, zero padded (no length mixed in).
    pub fn root(&self) -> Root {
        if let Some(root) = self.full {
            return root;
        }
        let mut node = ZERO;
        let mut size = self.count;
        for h in 0..self.depth {
            node = if size & 1 == 1 {
                hash_pair(&self.branch[h], &node)
            } else {
                hash_pair(&node, &zero_hash(h))
            };
            size >>= 1;
        }
        node
    }

    /// The root of the list of the leaves so far (length mixed in).
    pub fn list_root(&self) -> Root {
        mix_in_length(&self.root(), self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(i: u64) -> Root {
        let mut h = Sha256::new();
        h.update(i.to_le_bytes());
        h.finalize().into()
    }

    /// The naive definition: pad to 2^depth leaves, hash pairs up.
    fn naive(chunks: &[Root], depth: usize) -> Root {
        let mut layer = chunks.to_vec();
        layer.resize(1 << depth, ZERO);
        while layer.len() > 1 {
            layer = layer.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
        }
        layer[0]
    }

    #[test]
    fn merkleize_pads_with_zero_subtrees() {
        for depth in 0..6 {
            for n in 0..=(1usize << depth) {
                let chunks: Vec<Root> = (0..n as u64).map(leaf).collect();
                assert_eq!(
                    merkleize(&chunks, depth),
                    naive(&chunks, depth),
                    "{n}/{depth}"
                );
            }
        }
        assert_eq!(zero_hash(3), naive(&[], 3));
        assert_eq!(merkleize(&[leaf(1)], 0), leaf(1));
    }

    #[test]
    fn accumulator_matches_merkleize_at_every_length() {
        let mut acc = Accumulator::new(5);
        let mut leaves = Vec::new();
        assert_eq!(acc.root(), zero_hash(5));
        for i in 0..32 {
            leaves.push(leaf(i));
            acc.push(leaf(i));
            assert_eq!(acc.root(), naive(&leaves, 5), "after {} leaves", i + 1);
            assert_eq!(acc.list_root(), roots_list_root(&leaves, 5));
        }
        acc.push(leaf(99));
        assert_eq!(acc.len(), 32, "full");
        assert_eq!(acc.root(), naive(&leaves, 5));
        let mut tiny = Accumulator::new(0);
        tiny.push(leaf(7));
        assert_eq!(tiny.root(), leaf(7));
        let mut deep = Accumulator::new(18);
        let mut leaves = Vec::new();
        for i in 0..37 {
            deep.push(leaf(i));
            leaves.push(leaf(i));
        }
        assert_eq!(deep.root(), merkleize(&leaves, 18));
    }

    #[test]
    fn bitlists_drop_the_delimiter_and_mix_the_length() {
        // Empty bitlist: zero tree, length 0.
        assert_eq!(
            bitlist_root(&[0x01], 1 << 18),
            Some(mix_in_length(&zero_hash(10), 0))
        );
        // Three bits 1,0,1 -> chunk 0b101, length 3.
        let mut chunk = ZERO;
        chunk[0] = 0b101;
        assert_eq!(
            bitlist_root(&[0b1101], 1 << 18),
            Some(mix_in_length(&merkleize(&[chunk], 10), 3))
        );
        // Eight bits: the delimiter sits alone in a second byte.
        let mut chunk = ZERO;
        chunk[0] = 0xff;
        assert_eq!(
            bitlist_root(&[0xff, 0x01], 4096),
            Some(mix_in_length(&merkleize(&[chunk], 4), 8))
        );
        assert_eq!(bitlist_root(&[], 8), None);
        assert_eq!(bitlist_root(&[0x05, 0x00], 8), None);
        assert_eq!(depth_for((1u64 << 30).div_ceil(256)), 22);
    }

    #[test]
    fn header_and_checkpoint_roots() {
        let (p, s, b) = (leaf(1), leaf(2), leaf(3));
        assert_eq!(
            header_root(7, 3, &p, &s, &b),
            naive(&[u64_chunk(7), u64_chunk(3), p, s, b], 3)
        );
        assert_eq!(checkpoint_root(&p, 9), hash_pair(&p, &u64_chunk(9)));
    }
}
