//! Tests of the lstar state roots: the live fixture and leanSpec's API vectors against
//! the roots their nodes published, agreement with `validate_state` on mutations,
//! split-point independence, list limits.

use super::*;
use crate::lean::lstar::{empty_body_root, signed_block_roots};
use crate::lean::root_hex;
use crate::lean::ssz::{validate_state, SszError};
use crate::lean::test_vectors::{genesis_4v, state_at_slot_3};

const LIVE: &[u8] = include_bytes!("../../../tests/fixtures/lean-api/live/states_finalized.ssz");
const LIVE_BLOCK: &[u8] =
    include_bytes!("../../../tests/fixtures/lean-api/live/blocks_finalized.ssz");

const LIVE_STATE_ROOT: &str = "0xc4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01";
const LIVE_BLOCK_ROOT: &str = "0x9f657880d54001cdfcd3cab094c0324a6d6d6e95f14a5426acb1098eeed0a8bf";

fn set_offset(s: &mut [u8], i: usize, v: u32) {
    s[208 + 4 * i..212 + 4 * i].copy_from_slice(&v.to_le_bytes());
}

fn offsets(s: &[u8]) -> [usize; 5] {
    std::array::from_fn(|i| {
        u32::from_le_bytes(s[208 + 4 * i..212 + 4 * i].try_into().unwrap()) as usize
    })
}

/// The `SszError` that corresponds to a `LayoutError`, if any.
fn as_ssz(e: &LayoutError) -> Option<SszError> {
    match *e {
        LayoutError::Text => Some(SszError::Text),
        LayoutError::TooShort(n) => Some(SszError::TooShort(n)),
        LayoutError::BadOffsets => Some(SszError::BadOffsets),
        LayoutError::BadSlot(s) => Some(SszError::BadSlot(s)),
        LayoutError::OverLimit(_) | LayoutError::BadBlock(_) => None,
    }
}

/// `state_roots` and `validate_state` agree: same summary, or the same error.
fn assert_agrees(bytes: &[u8], what: &str) {
    let ours = state_roots(bytes);
    let theirs = validate_state(bytes);
    match (&ours, &theirs) {
        (Ok(r), Ok(s)) => assert_eq!(&r.summary, s, "{what}"),
        (Err(e), Err(f)) => assert_eq!(as_ssz(e).as_ref(), Some(f), "{what}"),
        _ => panic!("{what}: state_roots {ours:?}, validate_state {theirs:?}"),
    }
}

/// Feeds `bytes` in pieces ending at the given cut points.
fn roots_in_pieces(bytes: &[u8], cuts: &[usize]) -> Result<StateRoots, LayoutError> {
    let mut h = StateHasher::default();
    let mut at = 0;
    for &c in cuts {
        h.update(&bytes[at..c]);
        at = c;
    }
    h.update(&bytes[at..]);
    assert_eq!(h.bytes_fed(), bytes.len());
    h.finish()
}

#[test]
fn live_state_roots() {
    let r = state_roots(LIVE).unwrap();
    assert_eq!(root_hex(&r.state_root), LIVE_STATE_ROOT);
    assert_eq!(root_hex(&r.block_root), LIVE_BLOCK_ROOT);
    assert_eq!(r.summary, validate_state(LIVE).unwrap());
    assert_eq!(r.header_slot, 18);
    assert_eq!(r.len, LIVE.len());
}

#[test]
fn live_state_and_block_agree() {
    let r = state_roots(LIVE).unwrap();
    let b = signed_block_roots(LIVE_BLOCK).unwrap();
    assert_eq!(b.state_root, r.state_root);
    assert_eq!(b.block_root, r.block_root);
    // The state's header is the block's, state root zeroed; filled in, it hashes to the
    // block root.
    assert_eq!(&LIVE[64..96], &[0; 32]);
    assert_eq!(b.body_root[..], LIVE[96..128]);
    let parent: Root = LIVE[32..64].try_into().unwrap();
    let body: Root = LIVE[96..128].try_into().unwrap();
    assert_eq!(
        header_root(18, 2, &parent, &r.state_root, &body),
        b.block_root
    );
    // A header whose state root is already set is its own block root.
    let mut s = LIVE.to_vec();
    s[64..96].copy_from_slice(&r.state_root);
    let filled = state_roots(&s).unwrap();
    assert_eq!(filled.block_root, b.block_root);
    assert_ne!(filled.state_root, r.state_root);
}

#[test]
fn spec_genesis_root() {
    // leanSpec's 4-validator genesis: its block root is the fork choice's genesis root.
    let g = genesis_4v();
    let r = state_roots(&g).unwrap();
    assert_eq!(
        root_hex(&r.block_root),
        "0xbc34b3027b81cea4e2789830683d654bce677d5ec8c72dfd2e1eaf61753e9d27"
    );
    assert_eq!(g[96..128], empty_body_root());
    assert_eq!(r.header_slot, 0);
}

#[test]
fn spec_state_at_slot_3_root() {
    // Anchored at slot 3: the block root is the fork choice's (only) node.
    let r = state_roots(&state_at_slot_3()).unwrap();
    assert_eq!(
        root_hex(&r.block_root),
        "0x6f9fdb04b07a5e2b119625c88d81121bc2e6ab3a16c60ba43fd34f73297aca34"
    );
    assert_eq!((r.summary.slot, r.header_slot), (3, 3));
}

#[test]
fn root_does_not_depend_on_split_points() {
    let whole = state_roots(LIVE).unwrap();
    for cut in 0..=LIVE.len() {
        assert_eq!(roots_in_pieces(LIVE, &[cut]), Ok(whole), "cut {cut}");
    }
    let every: Vec<usize> = (1..LIVE.len()).collect();
    assert_eq!(roots_in_pieces(LIVE, &every), Ok(whole));
    let g = genesis_4v();
    let every: Vec<usize> = (1..g.len()).collect();
    assert_eq!(roots_in_pieces(&g, &every), state_roots(&g));
}

#[test]
fn agrees_with_validate_state_on_fixtures() {
    for s in [LIVE.to_vec(), genesis_4v(), state_at_slot_3()] {
        assert_agrees(&s, "fixture");
    }
}

#[test]
fn agrees_with_validate_state_on_byte_corruptions() {
    for s in [LIVE.to_vec(), genesis_4v()] {
        for at in 0..s.len() {
            for v in [0x00, 0x01, 0x02, 0x7b, 0x80, 0xe4, 0xff] {
                let mut m = s.clone();
                m[at] = v;
                assert_agrees(&m, &format!("byte {at} = {v:#x}"));
            }
        }
    }
}

#[test]
fn agrees_with_validate_state_on_truncations_and_extensions() {
    for s in [LIVE.to_vec(), genesis_4v()] {
        for len in 0..=s.len() {
            assert_agrees(&s[..len], &format!("truncated to {len}"));
        }
        for tail in [&[0x01][..], &[0x00], &[0x00, 0x80], &[0xff; 40]] {
            let mut m = s.clone();
            m.extend_from_slice(tail);
            assert_agrees(&m, &format!("extended by {tail:x?}"));
        }
    }
}

#[test]
fn agrees_with_validate_state_on_offset_changes() {
    let base = offsets(LIVE);
    for (i, &at) in base.iter().enumerate() {
        for delta in [-113i64, -112, -33, -32, -1, 1, 31, 32, 112, 400, 1 << 20] {
            let v = at as i64 + delta;
            let Ok(v) = u32::try_from(v) else { continue };
            let mut m = LIVE.to_vec();
            set_offset(&mut m, i, v);
            assert_agrees(&m, &format!("offset {i} = {v}"));
        }
        for v in [0, 228, 1253, 1254, u32::MAX] {
            let mut m = LIVE.to_vec();
            set_offset(&mut m, i, v);
            assert_agrees(&m, &format!("offset {i} = {v}"));
        }
    }
}

#[test]
fn agrees_with_validate_state_on_text_and_slots() {
    let html = b"<html><head><title>503 Service Unavailable</title></head><body>\
        <h1>Service Unavailable</h1><p>The node is not ready yet, please retry later.</p>\
        <p>Padding so that this page is longer than the fixed part of a state, which is two \
        hundred and twenty-eight bytes.</p></body></html>\r\n";
    for text in [
        &br#"{"slot":18}"#[..],
        html,
        b"Service Unavailable\n",
        "\u{e9}tat: pas pr\u{ea}t".as_bytes(),
        &[b'a'; 4096],
        &[b'a'; 513],
        &[b'a'; 512],
    ] {
        assert_eq!(state_roots(text), Err(LayoutError::Text));
        assert_agrees(text, "text");
    }
    // A multi-byte character cut by the sniff window: text only when more follows.
    let mut cut = vec![b'a'; 511];
    cut.extend_from_slice("\u{e9}".as_bytes());
    assert_agrees(&cut, "cut character, 513 bytes");
    assert_agrees(&cut[..512], "cut character, 512 bytes");
    for (at, v) in [(8, 1u64 << 40), (16, 19), (160, 20), (200, 21)] {
        let mut m = LIVE.to_vec();
        m[at..at + 8].copy_from_slice(&v.to_le_bytes());
        assert!(matches!(state_roots(&m), Err(LayoutError::BadSlot(_))));
        assert_agrees(&m, "slot");
    }
}

#[test]
fn random_mutations_agree_in_pieces() {
    let mut x: u64 = 7;
    let mut next = move |n: usize| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) % n as u64) as usize
    };
    for _ in 0..3000 {
        let mut m = LIVE.to_vec();
        for _ in 0..1 + next(4) {
            match next(3) {
                0 => {
                    let at = next(m.len());
                    m[at] = next(256) as u8;
                }
                1 => m.truncate(next(m.len() + 1)),
                _ => {
                    let at = 208 + next(20);
                    if let Some(b) = m.get_mut(at) {
                        *b = next(256) as u8;
                    }
                }
            }
            if m.is_empty() {
                break;
            }
        }
        assert_agrees(&m, "random mutation");
        let cuts: Vec<usize> = {
            let mut c: Vec<usize> = (0..next(6)).map(|_| next(m.len() + 1)).collect();
            c.sort_unstable();
            c
        };
        assert_eq!(roots_in_pieces(&m, &cuts), state_roots(&m), "cuts {cuts:?}");
    }
}

/// The genesis state with `field`'s bytes replaced by `bytes` and the later offsets moved.
fn with_field(field: usize, bytes: &[u8]) -> Vec<u8> {
    let g = genesis_4v();
    let o = offsets(&g);
    let end = o.get(field + 1).copied().unwrap_or(g.len());
    let mut s = g[..o[field]].to_vec();
    s.extend_from_slice(bytes);
    s.extend_from_slice(&g[end..]);
    let shift = bytes.len() as i64 - (end - o[field]) as i64;
    for (i, &at) in o.iter().enumerate().skip(field + 1) {
        set_offset(&mut s, i, (at as i64 + shift) as u32);
    }
    s
}

#[test]
fn list_limits() {
    // At the limit: accepted; one more element: OverLimit, where validate_state accepts.
    let cases: [(usize, usize, usize, &str); 3] = [
        (0, 32, 1 << 18, "historical_block_hashes"),
        (2, 112, 1 << 12, "validators"),
        (3, 32, 1 << 18, "justifications_roots"),
    ];
    for (field, size, limit, name) in cases {
        let at = with_field(field, &vec![0x11; size * limit]);
        assert!(state_roots(&at).is_ok(), "{name} at the limit");
        let over = with_field(field, &vec![0x11; size * (limit + 1)]);
        assert!(validate_state(&over).is_ok());
        assert_eq!(state_roots(&over), Err(LayoutError::OverLimit(name)));
    }
    // justified_slots: 2^18 bits fit, one more does not (bytes, then the last byte).
    let mut bits = vec![0xff; 1 << 15];
    bits.push(0x01);
    assert!(state_roots(&with_field(1, &bits)).is_ok());
    *bits.last_mut().unwrap() = 0x02;
    let over = with_field(1, &bits);
    assert_eq!(
        state_roots(&over),
        Err(LayoutError::OverLimit("justified_slots"))
    );
    bits.push(0x01);
    let over = with_field(1, &bits);
    assert_eq!(
        state_roots(&over),
        Err(LayoutError::OverLimit("justified_slots"))
    );
    // A bad offset outranks a limit, as validate_state sees only the former.
    let mut both = with_field(0, &vec![0x11; 32 * ((1 << 18) + 1)]);
    let n = both.len();
    both[n - 1] = 0;
    assert_eq!(state_roots(&both), Err(LayoutError::BadOffsets));
}

#[test]
fn bitlist_delimiter_is_removed() {
    // justified_slots of the live state is 0x01: an empty bitlist, equal to the
    // zero-hash root mixed with 0; a longer one differs with its length.
    let r1 = state_roots(&with_field(1, &[0x01])).unwrap();
    let r2 = state_roots(&with_field(1, &[0x02])).unwrap();
    let r3 = state_roots(&with_field(1, &[0x00, 0x01])).unwrap();
    assert_ne!(r1.state_root, r2.state_root);
    assert_ne!(r2.state_root, r3.state_root);
    assert_ne!(r1.state_root, r3.state_root);
}

#[test]
fn errors_are_one_line() {
    for e in [
        LayoutError::Text,
        LayoutError::TooShort(3),
        LayoutError::BadOffsets,
        LayoutError::BadSlot(1 << 40),
        LayoutError::OverLimit("validators"),
        LayoutError::BadBlock("proof offset"),
    ] {
        let s = e.to_string();
        assert!(!s.is_empty() && !s.contains('\n'), "{s}");
    }
}

#[test]
fn hasher_memory_is_small_and_fixed() {
    // The head (fixed part and text sniff), one field's merkleizer stack, five roots:
    // whatever the size of the body.
    let size = std::mem::size_of::<StateHasher>();
    assert!(size < 2048, "{size} bytes");
}
