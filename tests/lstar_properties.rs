//! Property tests of the lstar hash tree roots (`lean::lstar`) on deterministic random
//! inputs (splitmix64 from the parser property tests, fixed seeds): the root of a state
//! does not depend on how its body is cut into pieces (1-byte pieces included), on the
//! live fixture and on random valid states of random sizes; every byte of a valid state
//! matters to its root; the summary agrees with `validate_state`; random mutations of
//! states and blocks never panic. The coverage-guided counterpart is
//! `fuzz/fuzz_targets/lstar_roots.rs`.

#[path = "parser_properties/gen.rs"]
#[allow(dead_code)]
mod gen;

use gen::Rng;
use leanpoint::lean::lstar::{
    encode_signed_block, header_root, signed_block_roots, state_roots, LayoutError, StateHasher,
    StateRoots,
};
use leanpoint::lean::ssz::{validate_state, SszError};

const LIVE_STATE: &[u8] = include_bytes!("fixtures/lean-api/live/states_finalized.ssz");
const LIVE_BLOCK: &[u8] = include_bytes!("fixtures/lean-api/live/blocks_finalized.ssz");

/// Feeds `bytes` to a hasher in pieces of the given lengths, the rest as a last piece.
fn in_pieces(bytes: &[u8], lengths: &[usize]) -> Result<StateRoots, LayoutError> {
    let mut h = StateHasher::new();
    let mut at = 0;
    for &n in lengths {
        let end = (at + n).min(bytes.len());
        h.update(&bytes[at..end]);
        at = end;
    }
    h.update(&bytes[at..]);
    assert_eq!(h.bytes_fed(), bytes.len());
    h.finish()
}

fn byte_by_byte(bytes: &[u8]) -> Result<StateRoots, LayoutError> {
    in_pieces(bytes, &vec![1; bytes.len()])
}

/// A bitlist of `bits` random bits: whole bytes, then the last byte with the delimiter.
fn bitlist(rng: &mut Rng, bits: usize) -> Vec<u8> {
    let mut b = rng.bytes(bits / 8);
    let k = bits % 8;
    b.push((rng.next_u64() as u8 & ((1u8 << k) - 1)) | (1 << k));
    b
}

/// A random valid lstar state within every SSZ limit; `scale` bounds the list lengths.
fn valid_state(rng: &mut Rng, scale: usize) -> Vec<u8> {
    let slot = match rng.below(3) {
        0 => rng.below(100) as u64,
        _ => rng.next_u64() % (1 << 40),
    };
    let below = |rng: &mut Rng| rng.next_u64() % (slot + 1);
    let mut s = Vec::new();
    s.extend_from_slice(&rng.next_u64().to_le_bytes()); // genesis time
    s.extend_from_slice(&slot.to_le_bytes());
    s.extend_from_slice(&below(rng).to_le_bytes()); // header slot
    s.extend_from_slice(&rng.next_u64().to_le_bytes()); // proposer
    s.extend_from_slice(&rng.bytes(32)); // parent root
    if rng.one_in(2) {
        s.extend_from_slice(&[0; 32]); // state root, zeroed as in a post-state
    } else {
        s.extend_from_slice(&rng.bytes(32));
    }
    s.extend_from_slice(&rng.bytes(32)); // body root
    for _ in 0..2 {
        s.extend_from_slice(&rng.bytes(32));
        s.extend_from_slice(&below(rng).to_le_bytes());
    }
    let counts = [
        rng.below(scale.min(1 << 18) + 1),
        rng.below(scale.min(1 << 18) + 1),
        rng.below(scale.min(1 << 12) / 8 + 1),
        rng.below(scale.min(1 << 18) + 1),
        rng.below(8 * scale + 1),
    ];
    let parts = [
        rng.bytes(32 * counts[0]),
        bitlist(rng, counts[1]),
        rng.bytes(112 * counts[2]),
        rng.bytes(32 * counts[3]),
        bitlist(rng, counts[4]),
    ];
    let mut offset = 228u32;
    for p in &parts {
        s.extend_from_slice(&offset.to_le_bytes());
        offset += p.len() as u32;
    }
    for p in &parts {
        s.extend_from_slice(p);
    }
    s
}

/// Some states: small and mid-sized random ones, `gen::state`'s, and with `large` a
/// few of up to some 1.3 MB.
fn states(rng: &mut Rng, n: usize, large: bool) -> Vec<Vec<u8>> {
    (0..n)
        .map(|i| match i % 25 {
            0 | 10 => gen::state(rng).0,
            24 if large => valid_state(rng, 20_000),
            _ => {
                let scale = 1 << rng.below(11);
                valid_state(rng, scale)
            }
        })
        .collect()
}

/// `state_roots` and `validate_state` agree: the same summary or the same error; the
/// list limits, which only `state_roots` checks, may refuse what `validate_state`
/// accepts or would refuse for its slots (checked after the limits).
fn assert_agrees(bytes: &[u8], ours: &Result<StateRoots, LayoutError>) {
    match (ours, validate_state(bytes)) {
        (Ok(r), Ok(summary)) => assert_eq!(r.summary, summary),
        (Err(LayoutError::OverLimit(_)), Ok(_) | Err(SszError::BadSlot(_))) => {}
        (Err(LayoutError::Text), Err(SszError::Text))
        | (Err(LayoutError::BadOffsets), Err(SszError::BadOffsets)) => {}
        (Err(LayoutError::TooShort(a)), Err(SszError::TooShort(b))) => assert_eq!(*a, b),
        (Err(LayoutError::BadSlot(a)), Err(SszError::BadSlot(b))) => assert_eq!(*a, b),
        (ours, theirs) => panic!("state_roots {ours:?}, validate_state {theirs:?}"),
    }
}

#[test]
fn fixture_root_does_not_depend_on_pieces() {
    let whole = state_roots(LIVE_STATE).unwrap();
    assert_eq!(byte_by_byte(LIVE_STATE), Ok(whole));
    let mut rng = Rng::new(0x157a);
    for _ in 0..500 {
        let cuts = rng.cuts(LIVE_STATE.len());
        assert_eq!(in_pieces(LIVE_STATE, &cuts), Ok(whole), "{cuts:?}");
    }
}

#[test]
fn valid_states_hash_the_same_in_any_pieces() {
    let mut rng = Rng::new(0x157b);
    for s in states(&mut rng, 150, true) {
        let whole = state_roots(&s).unwrap_or_else(|e| panic!("{e}: {} bytes", s.len()));
        assert_eq!(whole.len, s.len());
        assert_agrees(&s, &Ok(whole));
        assert!(validate_state(&s).is_ok());
        assert_eq!(
            whole.header_slot,
            u64::from_le_bytes(s[16..24].try_into().unwrap())
        );
        for _ in 0..3 {
            let cuts = rng.cuts(s.len());
            assert_eq!(in_pieces(&s, &cuts), Ok(whole));
        }
        // Large random pieces, as from a socket.
        let big: Vec<usize> = (0..8).map(|_| rng.range(1, 70_000)).collect();
        assert_eq!(in_pieces(&s, &big), Ok(whole));
        if s.len() <= 4096 {
            assert_eq!(byte_by_byte(&s), Ok(whole));
        }
        // The block root is the header's, its state root filled when zero.
        let h = |a: usize| -> [u8; 32] { s[a..a + 32].try_into().unwrap() };
        let u = |a: usize| u64::from_le_bytes(s[a..a + 8].try_into().unwrap());
        let filled = if h(64) == [0; 32] {
            whole.state_root
        } else {
            h(64)
        };
        assert_eq!(
            whole.block_root,
            header_root(u(16), u(24), &h(32), &filled, &h(96))
        );
    }
}

#[test]
fn every_byte_of_a_valid_state_matters() {
    let mut rng = Rng::new(0x157c);
    for s in states(&mut rng, 40, false) {
        let root = state_roots(&s).unwrap().state_root;
        for _ in 0..60 {
            let mut m = s.clone();
            let at = rng.below(m.len());
            m[at] ^= rng.range(1, 255) as u8;
            if let Ok(r) = state_roots(&m) {
                assert_ne!(r.state_root, root, "byte {at} of {}", s.len());
            }
        }
    }
}

#[test]
fn mutations_never_panic_and_agree_with_validate_state() {
    let mut rng = Rng::new(0x157d);
    let mut inputs = states(&mut rng, 150, false);
    inputs.push(LIVE_STATE.to_vec());
    for s in &inputs {
        for _ in 0..12 {
            let mut m = gen::mutate(&mut rng, s);
            if rng.one_in(3) && m.len() >= 228 {
                // Aim at the offsets.
                let at = 208 + rng.below(20);
                m[at] = rng.next_u64() as u8;
            }
            let whole = state_roots(&m);
            assert_agrees(&m, &whole);
            let cuts = rng.cuts(m.len());
            assert_eq!(in_pieces(&m, &cuts), whole);
        }
    }
}

#[test]
fn blocks_round_trip_and_mutations_never_panic() {
    let mut rng = Rng::new(0x157e);
    for _ in 0..300 {
        let slot = rng.next_u64() % (1 << 40);
        let proposer = rng.next_u64();
        let parent: [u8; 32] = rng.bytes(32).try_into().unwrap();
        let state: [u8; 32] = rng.bytes(32).try_into().unwrap();
        let b = encode_signed_block(slot, proposer, &parent, &state);
        let r = signed_block_roots(&b).unwrap();
        assert_eq!(
            (r.slot, r.proposer_index, r.parent_root, r.state_root),
            (slot, proposer, parent, state)
        );
        for base in [&b[..], LIVE_BLOCK] {
            let _ = signed_block_roots(&gen::mutate(&mut rng, base));
        }
    }
}
