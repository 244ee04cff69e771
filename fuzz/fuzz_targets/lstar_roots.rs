//! The lstar hash tree roots (`lean::lstar`) on arbitrary bytes, read both as a state
//! and as a signed block. Checks: no panic; the state hasher gives the same outcome fed
//! whole, byte by byte and in three pseudo-random cuttings (seeded from the input);
//! `state_roots` agrees with `validate_state` (same summary or the same error, except
//! that only `state_roots` enforces the SSZ list limits); an accepted state's block root
//! is its header's root with the state root filled in; an accepted block's fields are
//! the bytes at the layout's positions and its root is its header's.
//!
//! Raw bodies make good seeds (`fuzz/seeds/lstar_roots/`: the live state and block).
#![no_main]

use leanpoint::lean::lstar::{
    encode_signed_block, header_root, signed_block_roots, state_roots, LayoutError, StateHasher,
    StateRoots,
};
use leanpoint::lean::ssz::{validate_state, SszError};
use libfuzzer_sys::fuzz_target;

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn root_at(b: &[u8], at: usize) -> [u8; 32] {
    b[at..at + 32].try_into().unwrap()
}

/// splitmix64 over a seed taken from the input, for the cut points.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        ((z ^ (z >> 31)) % n.max(1) as u64) as usize
    }
}

fn in_pieces(data: &[u8], rng: &mut Rng) -> Result<StateRoots, LayoutError> {
    let mut h = StateHasher::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = match rng.below(4) {
            0 => 0,
            1 => 1 + rng.below(3),
            _ => 1 + rng.below(rest.len()),
        };
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        h.update(piece);
        rest = tail;
    }
    assert_eq!(h.bytes_fed(), data.len());
    h.finish()
}

fn check_state(data: &[u8]) {
    let whole = state_roots(data);
    let mut h = StateHasher::default();
    for b in data {
        h.update(std::slice::from_ref(b));
    }
    assert_eq!(h.finish(), whole, "byte by byte");
    let seed = data
        .iter()
        .fold(data.len() as u64, |s, &b| s.rotate_left(5) ^ u64::from(b));
    let mut rng = Rng(seed);
    for _ in 0..3 {
        assert_eq!(in_pieces(data, &mut rng), whole, "in pieces");
    }

    match (&whole, validate_state(data)) {
        (Ok(r), Ok(summary)) => {
            assert_eq!(r.summary, summary);
            assert_eq!(r.len, data.len());
            assert_eq!(r.header_slot, u64_at(data, 16));
            let header_state_root = root_at(data, 64);
            let filled = if header_state_root == [0; 32] {
                r.state_root
            } else {
                header_state_root
            };
            let block_root = header_root(
                u64_at(data, 16),
                u64_at(data, 24),
                &root_at(data, 32),
                &filled,
                &root_at(data, 96),
            );
            assert_eq!(r.block_root, block_root);
        }
        (Err(LayoutError::OverLimit(_)), Ok(_) | Err(SszError::BadSlot(_))) => {}
        (Err(LayoutError::Text), Err(SszError::Text))
        | (Err(LayoutError::BadOffsets), Err(SszError::BadOffsets)) => {}
        (Err(LayoutError::TooShort(a)), Err(SszError::TooShort(b))) => assert_eq!(*a, b),
        (Err(LayoutError::BadSlot(a)), Err(SszError::BadSlot(b))) => assert_eq!(*a, b),
        (ours, theirs) => panic!("state_roots {ours:?}, validate_state {theirs:?}"),
    }
}

fn check_block(data: &[u8]) {
    let Ok(b) = signed_block_roots(data) else {
        return;
    };
    // Accepted: the two offsets are 8 and the proof's; the block starts at 8.
    assert_eq!(b.slot, u64_at(data, 8));
    assert_eq!(b.proposer_index, u64_at(data, 16));
    assert_eq!(b.parent_root, root_at(data, 24));
    assert_eq!(b.state_root, root_at(data, 56));
    assert_eq!(
        b.block_root,
        header_root(
            b.slot,
            b.proposer_index,
            &b.parent_root,
            &b.state_root,
            &b.body_root
        )
    );
    let encoded = encode_signed_block(b.slot, b.proposer_index, &b.parent_root, &b.state_root);
    if data.len() == encoded.len() && data[92..] == encoded[92..] {
        // An empty body and an empty proof: exactly what the encoder writes.
        assert_eq!(data, &encoded[..]);
        assert_eq!(signed_block_roots(&encoded), Ok(b));
    }
}

fuzz_target!(|data: &[u8]| {
    check_state(data);
    check_block(data);
});
