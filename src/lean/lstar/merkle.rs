//! SSZ merkleization with SHA-256: the pair hash on one 64-byte block, the zero hashes
//! per depth, and the streaming merkleizers (chunks, packed bytes, bitlists) that hash
//! as the bytes arrive and keep O(tree depth) memory.
//!
//! Padding up to a list's limit is never materialised: a subtree of zero chunks of
//! depth `d` is the precomputed `zero_hash(d)`.

use std::sync::OnceLock;

use sha2::digest::generic_array::GenericArray;

use crate::lean::Root;

/// Levels a [`Merkleizer`] can hold: trees of depth up to 31, where the deepest SSZ
/// type here (`Bitlist[2^30]`, 2^22 chunks) needs 22.
const LEVELS: usize = 32;

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The padding block of every 64-byte message: `0x80`, zeros, and the bit length 512
/// as a big-endian u64.
const PAD: [u8; 64] = {
    let mut p = [0u8; 64];
    p[0] = 0x80;
    p[62] = 0x02;
    p
};

/// SHA-256 of one 64-byte message: the data block and the constant padding block go
/// straight through `sha2::compress256` (the hardware SHA path when the CPU has one;
/// a non-generic function, so it is optimised even in test builds).
pub(crate) fn hash64(block: &[u8; 64]) -> Root {
    let mut state = IV;
    let blocks = [GenericArray::from(*block), GenericArray::from(PAD)];
    sha2::compress256(&mut state, &blocks);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// The parent of two nodes: SHA-256 of their concatenation.
pub(crate) fn hash_pair(left: &Root, right: &Root) -> Root {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(left);
    block[32..].copy_from_slice(right);
    hash64(&block)
}

/// The root of a tree of depth `depth` whose leaves are all zero chunks
/// (`zero_hash(0)` is the zero chunk). Depths beyond the table give its deepest entry,
/// never a panic; no SSZ type here comes close.
pub(crate) fn zero_hash(depth: usize) -> Root {
    static TABLE: OnceLock<[Root; LEVELS]> = OnceLock::new();
    let table = TABLE.get_or_init(|| {
        let mut t = [[0u8; 32]; LEVELS];
        for d in 1..LEVELS {
            t[d] = hash_pair(&t[d - 1], &t[d - 1]);
        }
        t
    });
    table
        .get(depth)
        .or(table.last())
        .copied()
        .unwrap_or([0; 32])
}

/// A u64 as an SSZ chunk (little endian, zero padded).
pub(crate) fn u64_chunk(v: u64) -> Root {
    let mut c = [0u8; 32];
    c[..8].copy_from_slice(&v.to_le_bytes());
    c
}

/// `mix_in_length`: the root of a list or bitlist from the root of its data and its
/// length (elements, or bits for a bitlist).
pub(crate) fn mix_in_length(root: &Root, len: u64) -> Root {
    hash_pair(root, &u64_chunk(len))
}

/// The smallest depth whose tree holds `n` leaves: ceil(log2(n)), 0 for n ≤ 1.
pub(crate) fn depth_for(n: u64) -> usize {
    (n.max(1).next_power_of_two().trailing_zeros()) as usize
}

/// Merkleizes a short, fixed list of chunks (the fields of a small container),
/// zero-padded to the next power of two.
pub(crate) fn merkleize(chunks: &[Root]) -> Root {
    merkleize_to(chunks, depth_for(chunks.len() as u64))
}

/// The root of `chunks` zero-padded to `2^depth` leaves (`depth` at most 31): a list's
/// data padded to its limit, or part of a container. Chunks beyond `2^depth` are
/// ignored.
pub(crate) fn merkleize_to(chunks: &[Root], depth: usize) -> Root {
    let mut m = Merkleizer::new(depth);
    let cap = 1usize.checked_shl(m.depth as u32).unwrap_or(usize::MAX);
    for c in chunks.iter().take(cap) {
        m.push(c);
    }
    m.finish()
}

/// A streaming merkleizer over the chunks of a tree of fixed depth: a binary counter of
/// pending subtree roots (`stack[l]` holds a complete subtree of 2^l chunks when bit `l`
/// of `count` is set), finalised against the zero hashes up to the depth.
#[derive(Clone)]
pub(crate) struct Merkleizer {
    depth: usize,
    count: u64,
    stack: [Root; LEVELS],
}

impl Merkleizer {
    /// A tree of `depth` levels (at most 31): up to 2^depth chunks.
    pub(crate) fn new(depth: usize) -> Self {
        Merkleizer {
            depth: depth.min(LEVELS - 1),
            count: 0,
            stack: [[0; 32]; LEVELS],
        }
    }

    /// Chunks pushed so far.
    pub(crate) fn count(&self) -> u64 {
        self.count
    }

    /// Appends one chunk.
    pub(crate) fn push(&mut self, chunk: &Root) {
        self.push_node(0, *chunk);
    }

    /// Appends whole 32-byte chunks taken from `data` (a trailing partial chunk is
    /// ignored: callers pass multiples of 32). Pairs of chunks on an even boundary are
    /// hashed straight from `data`.
    pub(crate) fn push_chunks(&mut self, mut data: &[u8]) {
        if self.count % 2 == 1 {
            if let Some((chunk, rest)) = data.split_first_chunk::<32>() {
                self.push(chunk);
                data = rest;
            }
        }
        while let Some((pair, rest)) = data.split_first_chunk::<64>() {
            self.push_node(1, hash64(pair));
            data = rest;
        }
        if let Some((chunk, _)) = data.split_first_chunk::<32>() {
            self.push(chunk);
        }
    }

    /// Appends a complete subtree of 2^level chunks; `count` must be a multiple of
    /// 2^level (it is for the callers above).
    fn push_node(&mut self, level: usize, mut node: Root) {
        let mut l = level;
        while l + 1 < LEVELS && (self.count >> l) & 1 == 1 {
            if let Some(left) = self.stack.get(l) {
                node = hash_pair(left, &node);
            }
            l += 1;
        }
        if let Some(slot) = self.stack.get_mut(l) {
            *slot = node;
        }
        self.count = self.count.wrapping_add(1 << level.min(LEVELS - 1));
    }

    /// The root of the tree: the chunks pushed, zero chunks after them. The caller keeps
    /// `count ≤ 2^depth` (beyond that the result is meaningless, but nothing panics).
    pub(crate) fn finish(&self) -> Root {
        let mut acc: Option<Root> = None;
        for (l, left) in self.stack.iter().enumerate().take(self.depth) {
            let bit = (self.count >> l) & 1 == 1;
            acc = match (bit, acc) {
                (true, Some(right)) => Some(hash_pair(left, &right)),
                (true, None) => Some(hash_pair(left, &zero_hash(l))),
                (false, Some(node)) => Some(hash_pair(&node, &zero_hash(l))),
                (false, None) => None,
            };
        }
        match acc {
            Some(root) => root,
            None if (self.count >> self.depth) & 1 == 1 => {
                self.stack.get(self.depth).copied().unwrap_or([0; 32])
            }
            None => zero_hash(self.depth),
        }
    }
}

/// Packs a byte stream into 32-byte chunks (the last one zero padded) and merkleizes
/// them: the data of a list of basic values or of a bitlist.
#[derive(Clone)]
pub(crate) struct ChunkWriter {
    tree: Merkleizer,
    partial: [u8; 32],
    partial_len: usize,
    bytes: u64,
}

impl ChunkWriter {
    pub(crate) fn new(depth: usize) -> Self {
        ChunkWriter {
            tree: Merkleizer::new(depth),
            partial: [0; 32],
            partial_len: 0,
            bytes: 0,
        }
    }

    /// Bytes written so far.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn write(&mut self, mut data: &[u8]) {
        self.bytes = self.bytes.saturating_add(data.len() as u64);
        if self.partial_len > 0 {
            let n = (32 - self.partial_len).min(data.len());
            let (head, rest) = data.split_at(n);
            self.partial[self.partial_len..self.partial_len + n].copy_from_slice(head);
            self.partial_len += n;
            data = rest;
            if self.partial_len < 32 {
                return;
            }
            self.tree.push(&self.partial);
            self.partial_len = 0;
        }
        let whole = data.len() / 32 * 32;
        let (chunks, tail) = data.split_at(whole);
        self.tree.push_chunks(chunks);
        self.partial[..tail.len()].copy_from_slice(tail);
        self.partial_len = tail.len();
    }

    /// The root of the chunks written, the last partial chunk zero padded (not mixed
    /// with a length).
    pub(crate) fn finish(&self) -> Root {
        if self.partial_len == 0 {
            return self.tree.finish();
        }
        let mut tree = self.tree.clone();
        let mut last = [0u8; 32];
        last[..self.partial_len].copy_from_slice(&self.partial[..self.partial_len]);
        tree.push(&last);
        tree.finish()
    }
}

/// Why a bitlist does not decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BitlistError {
    /// No byte, or a last byte of zero (no delimiter bit).
    NoDelimiter,
    /// More bits than the limit.
    OverLimit,
}

/// A streaming SSZ `Bitlist[limit]`: its last byte, which carries the delimiter bit, is
/// held back until the end so the delimiter can be removed before chunking.
#[derive(Clone)]
pub(crate) struct BitlistWriter {
    chunks: ChunkWriter,
    held: Option<u8>,
    limit_bits: u64,
}

impl BitlistWriter {
    pub(crate) fn new(limit_bits: u64) -> Self {
        BitlistWriter {
            chunks: ChunkWriter::new(depth_for(limit_bits.div_ceil(256))),
            held: None,
            limit_bits,
        }
    }

    /// The most bytes a bitlist within the limit can take: `limit / 8` whole bytes of
    /// bits and one more for the delimiter.
    pub(crate) fn max_bytes(limit_bits: u64) -> u64 {
        limit_bits / 8 + 1
    }

    /// Appends bytes; refuses (and then ignores further input) once more than
    /// [`Self::max_bytes`] have arrived.
    pub(crate) fn write(&mut self, data: &[u8]) -> Result<(), BitlistError> {
        let Some((&last, body)) = data.split_last() else {
            return Ok(());
        };
        let before = self.chunks.bytes() + u64::from(self.held.is_some());
        if before.saturating_add(data.len() as u64) > Self::max_bytes(self.limit_bits) {
            return Err(BitlistError::OverLimit);
        }
        if let Some(b) = self.held.take() {
            self.chunks.write(&[b]);
        }
        self.chunks.write(body);
        self.held = Some(last);
        Ok(())
    }

    /// The bitlist's root (data root mixed with its length in bits) and that length.
    pub(crate) fn finish(mut self) -> Result<(Root, u64), BitlistError> {
        let last = match self.held {
            Some(b) if b != 0 => b,
            _ => return Err(BitlistError::NoDelimiter),
        };
        let top = 7 - last.leading_zeros() as u64;
        let bits = self.chunks.bytes() * 8 + top;
        if bits > self.limit_bits {
            return Err(BitlistError::OverLimit);
        }
        let rest = last & !(1u8 << top);
        if top > 0 {
            self.chunks.write(&[rest]);
        }
        Ok((mix_in_length(&self.chunks.finish(), bits), bits))
    }
}

/// The root of a whole bitlist held in memory (small ones: a block's aggregation bits).
pub(crate) fn bitlist_root(bytes: &[u8], limit_bits: u64) -> Result<Root, BitlistError> {
    if bytes.len() as u64 > BitlistWriter::max_bytes(limit_bits) {
        return Err(BitlistError::OverLimit);
    }
    let mut w = BitlistWriter::new(limit_bits);
    w.write(bytes)?;
    w.finish().map(|(root, _)| root)
}

#[cfg(test)]
#[path = "merkle_tests.rs"]
mod tests;
