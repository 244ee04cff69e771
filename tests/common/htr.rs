//! Digests of served bodies computed apart from leanpoint, with the `sha2` crate directly:
//! the SHA-256 of bytes, and the SSZ `hash_tree_root` of an lstar `State`. Nothing here
//! calls leanpoint's own hashing (`lean::lstar`, `app::blob`), so a test comparing a
//! served `ETag` with these digests checks leanpoint against a second implementation.
//!
//! The `State` layout (leanSpec fork "lstar", little endian), written out here so the
//! tests need nothing outside the repository:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | `config: GenesisConfig { genesis_time: u64 }` |
//! | 8..16 | `slot: u64` |
//! | 16..128 | `latest_block_header { slot, proposer_index: u64, parent_root, state_root, body_root: Bytes32 }` |
//! | 128..168 | `latest_justified: Checkpoint { root: Bytes32, slot: u64 }` |
//! | 168..208 | `latest_finalized: Checkpoint` |
//! | 208..228 | five u32 offsets of the variable fields, the first 228 |
//!
//! then `historical_block_hashes: List[Bytes32, 2^18]`, `justified_slots: Bitlist[2^18]`,
//! `validators: List[Validator, 2^12]` (`Validator { attestation_public_key: Bytes52,
//! proposal_public_key: Bytes52, index: u64 }`, 112 bytes), `justifications_roots:
//! List[Bytes32, 2^18]`, `justifications_validators: Bitlist[2^30]`. Roots are SHA-256
//! merkleization of 32-byte chunks, zero-padded to the limit (in chunks) of each list,
//! with the length mixed in for lists and bitlists (a bitlist's bits end before its
//! delimiter, the last byte's highest set bit).

use sha2::{Digest, Sha256};

type Chunk = [u8; 32];

/// Lowercase hex, no prefix.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The quoted strong ETag leanpoint documents for a digest: `"0x<64 hex digits>"`.
pub fn quoted_etag(digest: &[u8]) -> String {
    format!("\"0x{}\"", hex(digest))
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Chunk {
    Sha256::digest(bytes).into()
}

fn hash_pair(a: &Chunk, b: &Chunk) -> Chunk {
    let mut h = Sha256::new();
    h.update(a);
    h.update(b);
    h.finalize().into()
}

/// `zero[d]`: the root of a subtree of depth `d` of zero chunks.
fn zero_hashes(depth: usize) -> Vec<Chunk> {
    let mut z = vec![[0u8; 32]];
    for d in 0..depth {
        let next = hash_pair(&z[d], &z[d]);
        z.push(next);
    }
    z
}

/// `merkleize(chunks, limit)`: the tree over `limit` leaves (rounded up to a power of two)
/// with `chunks` first and zero chunks after.
fn merkleize(chunks: &[Chunk], limit: usize) -> Chunk {
    assert!(
        chunks.len() <= limit.max(1),
        "{} chunks over limit {limit}",
        chunks.len()
    );
    let depth = limit.max(1).next_power_of_two().trailing_zeros() as usize;
    let zero = zero_hashes(depth);
    if chunks.is_empty() {
        return zero[depth];
    }
    let mut layer = chunks.to_vec();
    for z in zero.iter().take(depth) {
        if layer.len() % 2 == 1 {
            layer.push(*z);
        }
        layer = layer.chunks(2).map(|p| hash_pair(&p[0], &p[1])).collect();
    }
    layer[0]
}

fn mix_in_length(root: &Chunk, len: usize) -> Chunk {
    let mut l = [0u8; 32];
    l[..8].copy_from_slice(&(len as u64).to_le_bytes());
    hash_pair(root, &l)
}

/// Bytes packed into zero-padded chunks.
fn pack(bytes: &[u8]) -> Vec<Chunk> {
    bytes
        .chunks(32)
        .map(|c| {
            let mut chunk = [0u8; 32];
            chunk[..c.len()].copy_from_slice(c);
            chunk
        })
        .collect()
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn uint(v: u64) -> Chunk {
    let mut c = [0u8; 32];
    c[..8].copy_from_slice(&v.to_le_bytes());
    c
}

fn bytes32(b: &[u8]) -> Chunk {
    b.try_into().expect("32 bytes")
}

/// `Checkpoint { root: Bytes32, slot: u64 }` at `b[..40]`.
fn checkpoint(b: &[u8]) -> Chunk {
    merkleize(&[bytes32(&b[..32]), uint(u64_at(b, 32))], 2)
}

/// `List[Bytes32, limit]`.
fn roots_list(b: &[u8], limit: usize) -> Chunk {
    assert_eq!(b.len() % 32, 0, "a list of roots");
    let items: Vec<Chunk> = b.chunks(32).map(bytes32).collect();
    mix_in_length(&merkleize(&items, limit), items.len())
}

/// `Bitlist[limit_bits]`: the bits before the delimiter (the last byte's highest set bit).
fn bitlist(b: &[u8], limit_bits: usize) -> Chunk {
    let last = *b.last().expect("a bitlist has its delimiter byte");
    assert_ne!(last, 0, "a bitlist ends with its delimiter");
    let bits = 8 * (b.len() - 1) + (7 - last.leading_zeros() as usize);
    let mut bytes = b.to_vec();
    *bytes.last_mut().unwrap() ^= 1 << (7 - last.leading_zeros());
    bytes.truncate(bits.div_ceil(8));
    let chunks = pack(&bytes);
    mix_in_length(&merkleize(&chunks, limit_bits.div_ceil(256)), bits)
}

/// `Validator { attestation_public_key: Bytes52, proposal_public_key: Bytes52, index: u64 }`.
fn validator(b: &[u8]) -> Chunk {
    let key = |k: &[u8]| merkleize(&pack(k), 2);
    merkleize(&[key(&b[..52]), key(&b[52..104]), uint(u64_at(b, 104))], 3)
}

/// `hash_tree_root` of an SSZ lstar `State`; panics on a body that is not one.
pub fn state_root(s: &[u8]) -> Chunk {
    assert!(s.len() >= 228, "state shorter than its fixed part");
    let off: Vec<usize> = (0..5)
        .map(|i| u32::from_le_bytes(s[208 + 4 * i..212 + 4 * i].try_into().unwrap()) as usize)
        .chain([s.len()])
        .collect();
    assert_eq!(off[0], 228, "first offset");
    assert!(off.windows(2).all(|w| w[0] <= w[1]), "offsets {off:?}");
    let field = |i: usize| &s[off[i]..off[i + 1]];
    let header = merkleize(
        &[
            uint(u64_at(s, 16)),
            uint(u64_at(s, 24)),
            bytes32(&s[32..64]),
            bytes32(&s[64..96]),
            bytes32(&s[96..128]),
        ],
        5,
    );
    let validators = field(2);
    assert_eq!(validators.len() % 112, 0, "validators of 112 bytes");
    let validator_roots: Vec<Chunk> = validators.chunks(112).map(validator).collect();
    let fields = [
        merkleize(&[uint(u64_at(s, 0))], 1), // config: GenesisConfig { genesis_time }
        uint(u64_at(s, 8)),                  // slot
        header,                              // latest_block_header
        checkpoint(&s[128..168]),            // latest_justified
        checkpoint(&s[168..208]),            // latest_finalized
        roots_list(field(0), 1 << 18),       // historical_block_hashes
        bitlist(field(1), 1 << 18),          // justified_slots
        mix_in_length(&merkleize(&validator_roots, 1 << 12), validator_roots.len()),
        roots_list(field(3), 1 << 18), // justifications_roots
        bitlist(field(4), 1 << 30),    // justifications_validators
    ];
    merkleize(&fields, fields.len())
}
