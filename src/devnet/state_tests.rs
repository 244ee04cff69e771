//! Tests of the simulated states: layout, and roots computed from the fields against a
//! hash of the encoded bytes (itself checked on the live fixture).

use super::*;
use crate::devnet::merkle::roots_list_root;
use crate::lean::ssz::validate_state;

fn params(validators: u64) -> ChainParams {
    ChainParams {
        genesis_time: 1_700_000_000,
        slot_ms: 4_000,
        start_slot: 0,
        validators,
    }
}

fn offsets(bytes: &[u8]) -> Vec<usize> {
    (0..5)
        .map(|i| {
            let at = 208 + 4 * i;
            u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize
        })
        .collect()
}

fn root_of(i: u64) -> Root {
    hash_pair(&u64_chunk(i), &u64_chunk(!i))
}

fn post(slot: u64, history: &[Root], pending: Option<Root>) -> PostState<'_> {
    let at = |s: u64| {
        let s = slot.saturating_sub(s);
        Checkpoint {
            slot: s,
            root: if slot == 0 { ZERO } else { history[s as usize] },
        }
    };
    PostState {
        slot,
        header: Header {
            slot,
            proposer_index: slot % 4,
            parent_root: slot.checked_sub(1).map_or(ZERO, |p| history[p as usize]),
            body_root: root_of(1_000_000),
        },
        justified: at(2),
        finalized: at(3),
        history,
        pending,
    }
}

/// The hash tree root of an encoded state, from its bytes alone (as a client computes
/// it): every field hashed from scratch.
pub fn full_state_root(bytes: &[u8]) -> Root {
    let o = offsets(bytes);
    let fixed = &bytes[..FIXED_PART];
    let chunk = |at: usize| -> Root { fixed[at..at + 32].try_into().unwrap() };
    let u64_at = |at: usize| u64::from_le_bytes(fixed[at..at + 8].try_into().unwrap());
    let part = |i: usize| &bytes[o[i]..o.get(i + 1).copied().unwrap_or(bytes.len())];
    let roots = |b: &[u8]| -> Vec<Root> { b.chunks(32).map(|c| c.try_into().unwrap()).collect() };
    let header = header_root(u64_at(16), u64_at(24), &chunk(32), &chunk(64), &chunk(96));
    let validators: Vec<Root> = part(2)
        .chunks_exact(VALIDATOR_SIZE)
        .map(|v| validator_root(v.try_into().unwrap()))
        .collect();
    let fields = [
        u64_chunk(u64_at(0)),
        u64_chunk(u64_at(8)),
        header,
        checkpoint_root(&chunk(128), u64_at(160)),
        checkpoint_root(&chunk(168), u64_at(200)),
        roots_list_root(&roots(part(0)), HISTORY_DEPTH),
        bitlist_root(part(1), 1 << 18).unwrap(),
        roots_list_root(&validators, 12),
        roots_list_root(&roots(part(3)), HISTORY_DEPTH),
        bitlist_root(part(4), 1 << 30).unwrap(),
    ];
    merkleize(&fields)
}

fn hex(s: &str) -> Root {
    let s = s.trim_start_matches("0x");
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
    }
    out
}

#[test]
fn full_root_matches_the_live_fixture() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lean-api/live/states_finalized.ssz"
    );
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        full_state_root(&bytes),
        hex("0xc4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01")
    );
    // The header with the state root filled in hashes to the finalized block root.
    let mut header = bytes[16..128].to_vec();
    header[48..80].copy_from_slice(&full_state_root(&bytes));
    let u = |at: usize| u64::from_le_bytes(header[at..at + 8].try_into().unwrap());
    let r = |at: usize| -> Root { header[at..at + 32].try_into().unwrap() };
    assert_eq!(
        header_root(u(0), u(8), &r(16), &r(48), &r(80)),
        hex("0x9f657880d54001cdfcd3cab094c0324a6d6d6e95f14a5426acb1098eeed0a8bf")
    );
}

#[test]
fn genesis_matches_the_spec_layout() {
    let bytes = encode_state(&params(4), &post(0, &[], None));
    assert_eq!(bytes.len(), 678);
    assert_eq!(offsets(&bytes), [228, 228, 229, 677, 677]);
    assert_eq!(bytes[228], 0x01, "empty justified_slots bitlist");
    assert_eq!(bytes[677], 0x01, "empty justifications_validators bitlist");
    let summary = validate_state(&bytes).unwrap();
    assert_eq!(summary.slot, 0);
    assert_eq!(summary.genesis_time, 1_700_000_000);
}

#[test]
fn layout_grows_one_root_per_slot_and_validates() {
    let history: Vec<Root> = (0..1000).map(root_of).collect();
    for slot in [1u64, 2, 3, 7, 18, 100, 1000] {
        let bytes = encode_state(&params(4), &post(slot, &history[..slot as usize], None));
        let summary = validate_state(&bytes)
            .unwrap_or_else(|e| panic!("slot {slot}: leanpoint rejects it: {e}"));
        assert_eq!(summary.slot, slot);
        let o = offsets(&bytes);
        assert_eq!(o[0], 228);
        assert_eq!(o[1] - o[0], 32 * slot as usize, "history at slot {slot}");
        assert_eq!(o[3] - o[2], 4 * 112);
        assert_eq!(o[4], o[3]);
        assert_eq!(bytes.len(), o[4] + 1);
        // Bits for the 3 slots after the state's finalized one; the first is justified.
        if slot >= 3 {
            assert_eq!(&bytes[o[1]..o[2]], [0b1001], "slot {slot}");
        }
        assert_eq!(summary.latest_justified.slot, slot.saturating_sub(2));
        assert_eq!(summary.latest_finalized.slot, slot.saturating_sub(3));
        assert_eq!(
            summary.latest_finalized.root,
            history[slot.saturating_sub(3) as usize]
        );
        assert_eq!(bytes[228..228 + 32], history[0]);
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), slot);
        assert_eq!(bytes[32..64], history[slot as usize - 1], "parent root");
        assert_eq!(bytes[64..96], [0; 32], "state root left zero");
    }
}

#[test]
fn a_pending_justification_adds_a_root_and_votes() {
    let history: Vec<Root> = (0..9).map(root_of).collect();
    let bytes = encode_state(&params(8), &post(9, &history, Some(history[8])));
    assert!(validate_state(&bytes).is_ok());
    let o = offsets(&bytes);
    assert_eq!(&bytes[o[3]..o[4]], history[8]);
    assert_eq!(&bytes[o[4]..], [0x01, 0x01], "8 bits, validator 0's set");
}

#[test]
fn incremental_root_equals_the_root_of_the_bytes() {
    let history: Vec<Root> = (0..70).map(root_of).collect();
    for validators in [1u64, 4, 9] {
        let constants = StateConstants::new(&params(validators));
        for slot in [0u64, 1, 2, 3, 4, 17, 64, 70] {
            for pending in [None, Some(root_of(5))] {
                let h = &history[..slot as usize];
                let p = post(slot, h, pending);
                let bytes = encode_state(&params(validators), &p);
                assert_eq!(
                    constants.state_root(&p, &roots_list_root(h, HISTORY_DEPTH)),
                    full_state_root(&bytes),
                    "slot {slot}, {validators} validators, pending {}",
                    pending.is_some()
                );
            }
        }
    }
}

#[test]
fn tampering_keeps_the_layout_and_changes_the_root() {
    let history: Vec<Root> = (0..12).map(root_of).collect();
    let bytes = encode_state(&params(4), &post(12, &history, None));
    let lie = tamper(&bytes);
    assert_eq!(lie.len(), bytes.len());
    assert_eq!(validate_state(&lie), validate_state(&bytes));
    assert_eq!(
        bytes.iter().zip(&lie).filter(|(a, b)| a != b).count(),
        1,
        "one byte"
    );
    assert_ne!(full_state_root(&lie), full_state_root(&bytes));
    assert_eq!(tamper(&[1, 2, 3]), [1, 2, 3]);
}

#[test]
fn validators_are_112_bytes_with_their_index() {
    let history: Vec<Root> = (0..9).map(root_of).collect();
    let bytes = encode_state(&params(8), &post(9, &history, None));
    let o = offsets(&bytes);
    assert_eq!(o[3] - o[2], 8 * 112);
    let third = &bytes[o[2] + 2 * 112..o[2] + 3 * 112];
    assert_eq!(third, validator_record(2));
    assert_eq!(third[104..], 2u64.to_le_bytes());
    assert_ne!(validator_record(0)[..52], validator_record(0)[52..104]);
}

#[test]
fn bitlists_carry_the_delimiter() {
    assert_eq!(bitlist(0, |_| true), [0x01]);
    assert_eq!(bitlist(3, |_| true), [0b1111]);
    assert_eq!(bitlist(8, |i| i == 0), [0x01, 0x01]);
    assert_eq!(bitlist(9, |i| i == 8), [0x00, 0b11]);
}
