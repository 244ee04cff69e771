//! Tests of SSZ `State` validation against a live state, leanSpec's API vectors and
//! mutations of them (truncation, broken offsets, text bodies, bad slots).

use super::*;
use crate::lean::test_vectors::{genesis_4v, state_at_slot_3};

const LIVE: &[u8] = include_bytes!("testdata/states_finalized.ssz");

const ZERO_CHECKPOINT: Checkpoint = Checkpoint {
    slot: 0,
    root: [0; 32],
};

fn root(hex: &str) -> [u8; 32] {
    let mut r = [0; 32];
    for (i, b) in r.iter_mut().enumerate() {
        *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap();
    }
    r
}

fn offsets(s: &[u8]) -> [u32; 5] {
    let mut o = [0; 5];
    for (i, x) in o.iter_mut().enumerate() {
        let at = 208 + 4 * i;
        *x = u32::from_le_bytes(s[at..at + 4].try_into().unwrap());
    }
    o
}

fn set_offset(s: &mut [u8], i: usize, v: u32) {
    let at = 208 + 4 * i;
    s[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn set_u64(s: &mut [u8], at: usize, v: u64) {
    s[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn live_state_summary() {
    assert_eq!(LIVE.len(), 1254);
    assert_eq!(offsets(LIVE), [228, 804, 805, 1253, 1253]);
    let s = validate_state(LIVE).unwrap();
    assert_eq!(s.genesis_time, 1_795_723_840);
    assert_eq!(s.slot, 18);
    assert_eq!(s.latest_justified.slot, 16);
    assert_eq!(
        s.latest_justified.root,
        root("09bed2dfd0f8ae728db2102cf26d5ba776b83f89a8dd0df6a37376a42fb02ee5")
    );
    assert_eq!(s.latest_finalized.slot, 15);
    assert_eq!(
        s.latest_finalized.root,
        root("6b5379fc19fb21667b13959e481132163ad6f1e2f454d2865f7bc259bfca471b")
    );
}

#[test]
fn spec_genesis_4v() {
    let g = genesis_4v();
    assert_eq!(g.len(), 678);
    assert_eq!(offsets(&g), [228, 228, 229, 677, 677]);
    let s = validate_state(&g).unwrap();
    assert_eq!((s.genesis_time, s.slot), (0, 0));
    assert_eq!(s.latest_justified, ZERO_CHECKPOINT);
    assert_eq!(s.latest_finalized, ZERO_CHECKPOINT);
}

#[test]
fn spec_state_at_slot_3() {
    let st = state_at_slot_3();
    let s = validate_state(&st).unwrap();
    assert_eq!(s.slot, 3);
    let genesis_root = root("bc34b3027b81cea4e2789830683d654bce677d5ec8c72dfd2e1eaf61753e9d27");
    assert_eq!(s.latest_justified.slot, 0);
    assert_eq!(s.latest_justified.root, genesis_root);
    assert_eq!(s.latest_finalized.slot, 0);
    assert_eq!(s.latest_finalized.root, genesis_root);
}

#[test]
fn every_truncation_is_rejected() {
    for st in [LIVE.to_vec(), genesis_4v()] {
        for len in 0..st.len() {
            let err = validate_state(&st[..len]).unwrap_err();
            if len > 0 && st[..len].iter().all(|&b| b != 0) {
                // A few leading bytes without a NUL may be printable: "@" is text.
                assert!(
                    matches!(err, SszError::Text | SszError::TooShort(_)),
                    "len {len}"
                );
            } else if len < FIXED_PART {
                assert_eq!(err, SszError::TooShort(len), "len {len}");
            } else {
                assert_eq!(err, SszError::BadOffsets, "len {len}");
            }
        }
    }
}

#[test]
fn single_byte_corruptions_never_panic() {
    for at in 0..LIVE.len() {
        for v in [0x00, 0x01, 0x7b, 0x80, 0xff] {
            let mut s = LIVE.to_vec();
            s[at] = v;
            let _ = validate_state(&s);
        }
    }
}

#[test]
fn bad_offsets() {
    let cases: &[(usize, u32)] = &[
        (0, 227),  // first is not 228
        (0, 229),  // first is not 228
        (1, 227),  // below the previous one
        (2, 800),  // decreasing
        (3, 1300), // beyond the body
        (4, 1255), // beyond the body
        (4, u32::MAX),
        (1, 805),  // 577 history bytes, not a multiple of 32
        (2, 806),  // validators 447 bytes, not a multiple of 112
        (3, 1252), // justified roots 0, validators 447 bytes
        (2, 804),  // justified_slots bitlist empty
    ];
    for &(i, v) in cases {
        let mut s = LIVE.to_vec();
        set_offset(&mut s, i, v);
        assert_eq!(
            validate_state(&s),
            Err(SszError::BadOffsets),
            "offset {i} = {v}"
        );
    }
}

#[test]
fn bitlist_last_byte_must_be_nonzero() {
    let mut s = LIVE.to_vec();
    *s.last_mut().unwrap() = 0;
    assert_eq!(validate_state(&s), Err(SszError::BadOffsets));
    let mut s = LIVE.to_vec();
    s[804] = 0; // justified_slots
    assert_eq!(validate_state(&s), Err(SszError::BadOffsets));
    // Trailing junk after a valid last bitlist byte is a longer bitlist: still valid.
    let mut s = LIVE.to_vec();
    s.push(0x01);
    assert!(validate_state(&s).is_ok());
}

#[test]
fn text_bodies() {
    let json = br#"{"slot":18,"latest_justified":{"slot":16,"root":"0x00"}}"#;
    assert_eq!(validate_state(json), Err(SszError::Text));
    let html = b"<html><head><title>503 Service Unavailable</title></head><body>\
        <h1>Service Unavailable</h1><p>The node is not ready yet, please retry later.</p>\
        <p>Padding so that this page is longer than the fixed part of a state, which is two \
        hundred and twenty-eight bytes.</p></body></html>\r\n";
    assert!(html.len() > FIXED_PART);
    assert_eq!(validate_state(html), Err(SszError::Text));
    assert_eq!(
        validate_state(b"Service Unavailable\n"),
        Err(SszError::Text)
    );
    assert_eq!(validate_state(b"  \n [1,2,3]"), Err(SszError::Text));
    assert_eq!(
        validate_state("état: pas prêt".as_bytes()),
        Err(SszError::Text)
    );
    assert_eq!(validate_state(&vec![b'a'; 4096]), Err(SszError::Text));
    assert_eq!(validate_state(b""), Err(SszError::TooShort(0)));
}

#[test]
fn binary_starting_like_text_is_not_text() {
    // A genesis time whose low byte is `{`, `[` or `<` must not look like JSON/HTML.
    for b in [b'{', b'[', b'<'] {
        let mut s = LIVE.to_vec();
        s[0] = b;
        assert!(!looks_like_text(&s));
        assert_eq!(
            validate_state(&s).unwrap().genesis_time & 0xff,
            u64::from(b)
        );
    }
    assert_eq!(validate_state(&[0u8; 10]), Err(SszError::TooShort(10)));
}

#[test]
fn slot_sanity() {
    let mut s = LIVE.to_vec();
    set_u64(&mut s, 8, MAX_PLAUSIBLE_SLOT);
    set_u64(&mut s, 16, 0);
    assert_eq!(
        validate_state(&s),
        Err(SszError::BadSlot(MAX_PLAUSIBLE_SLOT))
    );

    let mut s = LIVE.to_vec();
    set_u64(&mut s, 200, 19); // finalized above the state's slot 18
    assert_eq!(validate_state(&s), Err(SszError::BadSlot(19)));

    let mut s = LIVE.to_vec();
    set_u64(&mut s, 160, 20); // justified above the state's slot
    assert_eq!(validate_state(&s), Err(SszError::BadSlot(20)));

    let mut s = LIVE.to_vec();
    set_u64(&mut s, 16, 21); // header above the state's slot
    assert_eq!(validate_state(&s), Err(SszError::BadSlot(21)));

    // Justified and finalized equal to the slot are fine (an anchor state).
    let mut s = LIVE.to_vec();
    set_u64(&mut s, 160, 18);
    set_u64(&mut s, 200, 18);
    assert_eq!(validate_state(&s).unwrap().latest_finalized.slot, 18);
}

#[test]
fn large_state_is_valid() {
    // 2^16 history entries (2 MiB) and a matching bitlist: offsets only, O(1) to check.
    let g = genesis_4v();
    let hist = 65_536 * 32;
    let mut s = g[..FIXED_PART].to_vec();
    s.resize(FIXED_PART + hist, 0xab);
    s.extend(g[228..].iter());
    let shift = u32::try_from(hist).unwrap();
    for i in 1..5 {
        let o = offsets(&g)[i];
        set_offset(&mut s, i, o + shift);
    }
    set_u64(&mut s, 8, 65_536);
    assert_eq!(validate_state(&s).unwrap().slot, 65_536);
}
