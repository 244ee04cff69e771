//! Tests of the merkleizers against a naive reference written from the SSZ spec, which
//! materialises the padding up to the limit and hashes with `Sha256::digest`.

use super::*;
use sha2::{Digest, Sha256};

/// splitmix64, as in the property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    /// Random piece lengths adding up to `len`, 1-byte and empty pieces included.
    fn cuts(&mut self, len: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut left = len;
        while left > 0 {
            let n = match self.below(4) {
                0 => 0,
                1 => 1,
                _ => 1 + self.below(left.min(200)),
            }
            .min(left);
            out.push(n);
            left -= n;
        }
        out
    }
}

fn naive_pair(a: &Root, b: &Root) -> Root {
    let mut h = Sha256::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// `merkleize(chunks, limit)` of the SSZ spec, padding materialised.
fn naive_merkleize(chunks: &[Root], limit: usize) -> Root {
    assert!(chunks.len() <= limit.max(1));
    let mut layer = chunks.to_vec();
    layer.resize(limit.max(1).next_power_of_two(), [0; 32]);
    while layer.len() > 1 {
        layer = layer.chunks(2).map(|p| naive_pair(&p[0], &p[1])).collect();
    }
    layer[0]
}

/// `pack`: bytes into zero-padded 32-byte chunks.
fn naive_pack(bytes: &[u8]) -> Vec<Root> {
    bytes
        .chunks(32)
        .map(|c| {
            let mut r = [0; 32];
            r[..c.len()].copy_from_slice(c);
            r
        })
        .collect()
}

fn naive_mix(root: &Root, len: u64) -> Root {
    let mut l = [0; 32];
    l[..8].copy_from_slice(&len.to_le_bytes());
    naive_pair(root, &l)
}

/// hash_tree_root of a `Bitlist[limit]` from its serialization, bit by bit: `None` when
/// it does not decode (no delimiter) or exceeds the limit.
fn naive_bitlist(bytes: &[u8], limit: u64) -> Option<Root> {
    // The delimiter is the highest set bit of the last byte, which must hold one.
    if *bytes.last()? == 0 {
        return None;
    }
    let mut bits: Vec<bool> = bytes
        .iter()
        .flat_map(|b| (0..8).map(move |i| b >> i & 1 == 1))
        .collect();
    while bits.last() == Some(&false) {
        bits.pop();
    }
    bits.pop()?; // the delimiter
    if bits.len() as u64 > limit {
        return None;
    }
    let mut packed = vec![0u8; bits.len().div_ceil(8)];
    for (i, &bit) in bits.iter().enumerate() {
        packed[i / 8] |= u8::from(bit) << (i % 8);
    }
    let chunks = naive_pack(&packed);
    let root = naive_merkleize(&chunks, limit.div_ceil(256) as usize);
    Some(naive_mix(&root, bits.len() as u64))
}

fn random_chunks(rng: &mut Rng, n: usize) -> Vec<Root> {
    (0..n).map(|_| rng.bytes(32).try_into().unwrap()).collect()
}

#[test]
fn hash64_is_sha256() {
    let mut rng = Rng(1);
    for _ in 0..200 {
        let block: [u8; 64] = rng.bytes(64).try_into().unwrap();
        let expected: Root = Sha256::digest(block).into();
        assert_eq!(hash64(&block), expected);
    }
}

#[test]
fn zero_hashes() {
    assert_eq!(zero_hash(0), [0; 32]);
    for d in 0..=12 {
        assert_eq!(zero_hash(d), naive_merkleize(&[], 1 << d), "depth {d}");
    }
    assert_eq!(zero_hash(1000), zero_hash(LEVELS - 1));
}

#[test]
fn depths() {
    let cases = [
        (0, 0),
        (1, 0),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (10, 4),
        (1 << 18, 18),
    ];
    for (n, d) in cases {
        assert_eq!(depth_for(n), d, "{n}");
    }
}

#[test]
fn empty_list_and_bitlist_roots() {
    // List[Bytes32, 2^18] and Bitlist[2^18] (1024 chunks), empty: padding materialised.
    let list = naive_mix(&naive_merkleize(&[], 1 << 18), 0);
    assert_eq!(mix_in_length(&Merkleizer::new(18).finish(), 0), list);
    let bits = naive_bitlist(&[1], 1 << 18).unwrap();
    assert_eq!(bits, naive_mix(&naive_merkleize(&[], 1024), 0));
    assert_eq!(bitlist_root(&[1], 1 << 18), Ok(bits));
    // Bitlist[2^30]: 2^22 chunks, too many to materialise; the zero hash of depth 22.
    assert_eq!(
        bitlist_root(&[1], 1 << 30),
        Ok(naive_mix(&zero_hash(22), 0))
    );
}

#[test]
fn merkleizer_matches_naive() {
    let mut rng = Rng(2);
    for depth in 0..=6 {
        let limit = 1usize << depth;
        for n in 0..=limit {
            let chunks = random_chunks(&mut rng, n);
            let expected = naive_merkleize(&chunks, limit);
            // One chunk at a time.
            let mut m = Merkleizer::new(depth);
            for c in &chunks {
                m.push(c);
            }
            assert_eq!(m.finish(), expected, "depth {depth} n {n}");
            assert_eq!(m.count(), n as u64);
            // In runs through push_chunks, odd and even boundaries.
            let flat: Vec<u8> = chunks.concat();
            let mut m = Merkleizer::new(depth);
            let mut at = 0;
            while at < n {
                let k = 1 + rng.below(n - at);
                m.push_chunks(&flat[32 * at..32 * (at + k)]);
                at += k;
            }
            assert_eq!(m.finish(), expected, "depth {depth} n {n} in runs");
        }
    }
}

#[test]
fn merkleize_small_containers() {
    let mut rng = Rng(3);
    for n in 1..=17 {
        let chunks = random_chunks(&mut rng, n);
        assert_eq!(
            merkleize(&chunks),
            naive_merkleize(&chunks, n.next_power_of_two())
        );
    }
}

#[test]
fn merkleize_to_pads_to_the_depth_and_ignores_the_excess() {
    let mut rng = Rng(6);
    for depth in 0..=6 {
        let limit = 1usize << depth;
        let chunks = random_chunks(&mut rng, limit + 3);
        for n in [0, 1, limit / 2 + 1, limit] {
            let expected = naive_merkleize(&chunks[..n], limit);
            assert_eq!(merkleize_to(&chunks[..n], depth), expected, "{depth} {n}");
        }
        let full = naive_merkleize(&chunks[..limit], limit);
        assert_eq!(merkleize_to(&chunks, depth), full, "depth {depth}");
    }
    assert_eq!(merkleize_to(&[], 18), zero_hash(18));
}

#[test]
fn chunk_writer_matches_naive_pack() {
    let mut rng = Rng(4);
    for _ in 0..300 {
        let depth = rng.below(8);
        let len = rng.below((32 << depth) + 1);
        let bytes = rng.bytes(len);
        let expected = naive_merkleize(&naive_pack(&bytes), 1 << depth);
        let mut w = ChunkWriter::new(depth);
        let mut at = 0;
        for n in rng.cuts(len) {
            w.write(&bytes[at..at + n]);
            at += n;
        }
        assert_eq!(w.bytes(), len as u64);
        assert_eq!(w.finish(), expected, "depth {depth} len {len}");
    }
}

#[test]
fn bitlists_match_naive() {
    let mut rng = Rng(5);
    for i in 0..3000 {
        let limit = match i % 4 {
            0 => 1 + rng.below(16) as u64,
            1 => 1 + rng.below(3000) as u64,
            2 => 256 * (1 + rng.below(8) as u64),
            _ => 4096,
        };
        let max = BitlistWriter::max_bytes(limit) as usize;
        let len = rng.below(max + 3);
        let mut bytes = rng.bytes(len);
        // Often a delimiter in a plausible spot; sometimes a zero last byte.
        match rng.below(5) {
            0 => {}
            1 => {
                if let Some(b) = bytes.last_mut() {
                    *b = 0;
                }
            }
            _ => {
                if let Some(b) = bytes.last_mut() {
                    *b = (*b >> rng.below(8)).max(1);
                }
            }
        }
        let expected = naive_bitlist(&bytes, limit);
        let whole = bitlist_root(&bytes, limit);
        assert_eq!(whole.ok(), expected, "limit {limit} bytes {bytes:02x?}");
        // Streamed in random pieces, the same.
        let mut w = BitlistWriter::new(limit);
        let mut at = 0;
        let mut failed = false;
        for n in rng.cuts(len) {
            failed |= w.write(&bytes[at..at + n]).is_err();
            at += n;
        }
        let streamed = if failed { None } else { w.finish().ok() };
        assert_eq!(streamed.map(|(r, _)| r), expected, "limit {limit} streamed");
        if let Some(e) = whole.err() {
            let delimited = bytes.last().is_some_and(|&b| b != 0);
            let want = if delimited {
                BitlistError::OverLimit
            } else {
                BitlistError::NoDelimiter
            };
            // A body over the byte bound is refused before its last byte is looked at.
            if len <= max {
                assert_eq!(e, want);
            }
        }
    }
}

#[test]
fn bitlist_lengths_at_the_limit() {
    // Bitlist[16]: 16 bits fit (two bytes and 0x01), 17 do not.
    assert!(bitlist_root(&[0xff, 0xff, 0x01], 16).is_ok());
    assert_eq!(
        bitlist_root(&[0xff, 0xff, 0x03], 16),
        Err(BitlistError::OverLimit)
    );
    assert_eq!(
        bitlist_root(&[0xff, 0xff, 0x00, 0x01], 16),
        Err(BitlistError::OverLimit)
    );
    assert_eq!(bitlist_root(&[], 16), Err(BitlistError::NoDelimiter));
    assert_eq!(
        bitlist_root(&[0x05, 0x00], 16),
        Err(BitlistError::NoDelimiter)
    );
    // The delimiter removed: 0x01 after 32 bytes leaves exactly one chunk.
    let mut b = vec![0xaa; 32];
    b.push(0x01);
    assert_eq!(bitlist_root(&b, 512).ok(), naive_bitlist(&b, 512));
}
