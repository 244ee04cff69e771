//! Tests of the signed block decoder: the live block against the fork choice's
//! finalized root, the encoder's round trip, refused shapes, mutations.

use super::*;
use crate::lean::lstar::state_roots;
use crate::lean::root_hex;

const LIVE_BLOCK: &[u8] =
    include_bytes!("../../../tests/fixtures/lean-api/live/blocks_finalized.ssz");
const LIVE_STATE: &[u8] =
    include_bytes!("../../../tests/fixtures/lean-api/live/states_finalized.ssz");

fn set_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

#[test]
fn live_block_roots() {
    let b = signed_block_roots(LIVE_BLOCK).unwrap();
    assert_eq!(
        root_hex(&b.block_root),
        "0x9f657880d54001cdfcd3cab094c0324a6d6d6e95f14a5426acb1098eeed0a8bf"
    );
    assert_eq!(
        root_hex(&b.state_root),
        "0xc4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01"
    );
    assert_eq!(
        root_hex(&b.parent_root),
        "0x34badba509903c51f996257d72bf74265b17804ae3d749e30a6572aa4bb07949"
    );
    assert_eq!((b.slot, b.proposer_index), (18, 2));
    // The body (one aggregated attestation) hashes to the body root in the state's header.
    assert_eq!(b.body_root[..], LIVE_STATE[96..128]);
    assert_ne!(b.body_root, empty_body_root());
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
}

#[test]
fn live_block_root_matches_fork_choice() {
    let fc = crate::lean::json::parse_fork_choice(include_bytes!(
        "../../../tests/fixtures/lean-api/live/fork_choice.body"
    ))
    .unwrap();
    let b = signed_block_roots(LIVE_BLOCK).unwrap();
    assert_eq!(fc.finalized.root, b.block_root);
    assert_eq!(fc.finalized.slot, b.slot);
}

#[test]
fn encoded_block_round_trips() {
    let state = state_roots(LIVE_STATE).unwrap();
    let parent = [0x34; 32];
    for (slot, proposer) in [(0, 0), (18, 2), (1 << 39, u64::MAX)] {
        let bytes = encode_signed_block(slot, proposer, &parent, &state.state_root);
        assert_eq!(bytes.len(), 100);
        let b = signed_block_roots(&bytes).unwrap();
        assert_eq!((b.slot, b.proposer_index), (slot, proposer));
        assert_eq!((b.parent_root, b.state_root), (parent, state.state_root));
        assert_eq!(b.body_root, empty_body_root());
        assert_eq!(
            b.block_root,
            header_root(
                slot,
                proposer,
                &parent,
                &state.state_root,
                &empty_body_root()
            )
        );
    }
    // The empty proof is the live block's proof: `04 00 00 00`.
    let bytes = encode_signed_block(1, 1, &[0; 32], &[0; 32]);
    assert_eq!(bytes[96..], LIVE_BLOCK[LIVE_BLOCK.len() - 4..]);
    assert_eq!(bytes[..8], [8, 0, 0, 0, 96, 0, 0, 0]);
}

#[test]
fn refused_shapes() {
    assert_eq!(signed_block_roots(b""), Err(LayoutError::TooShort(0)));
    assert_eq!(
        signed_block_roots(br#"{"slot":18,"proposer_index":2}"#),
        Err(LayoutError::Text)
    );
    assert_eq!(signed_block_roots(&[0; 99]), Err(LayoutError::TooShort(99)));
    let good = encode_signed_block(5, 1, &[1; 32], &[2; 32]);
    let cases: &[(usize, u32)] = &[
        (0, 7),   // block offset
        (0, 9),   // block offset
        (4, 101), // proof offset beyond the body
        (4, 7),   // proof before the block
        (4, 50),  // block shorter than its fixed part
        (88, 83), // body offset
        (92, 0),  // attestations offset
        (96, 5),  // proof's offset
    ];
    for &(at, v) in cases {
        let mut b = good.clone();
        set_u32(&mut b, at, v);
        assert!(
            matches!(signed_block_roots(&b), Err(LayoutError::BadBlock(_))),
            "{at} = {v}"
        );
    }
    let mut b2 = good.clone();
    b2[8..16].copy_from_slice(&(1u64 << 40).to_le_bytes());
    assert_eq!(signed_block_roots(&b2), Err(LayoutError::BadSlot(1 << 40)));
}

#[test]
fn limits() {
    // A proof of 512 KiB is fine, one more byte is not.
    let mut b = encode_signed_block(5, 1, &[1; 32], &[2; 32]);
    b.resize(100 + PROOF_LIMIT, 0xab);
    assert!(signed_block_roots(&b).is_ok());
    b.push(0);
    assert_eq!(signed_block_roots(&b), Err(LayoutError::OverLimit("proof")));
    // Aggregation bits over 4096: take the live block's attestation and grow its bits.
    let live = LIVE_BLOCK;
    let proof_at = u32::from_le_bytes(live[4..8].try_into().unwrap()) as usize;
    let bits_at = proof_at - 1; // one byte of bits (0x1f)
    for (bits, ok) in [
        (
            vec![0xff; 512].into_iter().chain([1]).collect::<Vec<_>>(),
            true,
        ),
        (vec![0xff; 512].into_iter().chain([2]).collect(), false),
    ] {
        let mut b = live[..bits_at].to_vec();
        b.extend_from_slice(&bits);
        let proof = u32::try_from(b.len()).unwrap();
        b.extend_from_slice(&live[proof_at..]);
        set_u32(&mut b, 4, proof);
        let r = signed_block_roots(&b);
        if ok {
            assert!(r.is_ok());
        } else {
            assert_eq!(r, Err(LayoutError::OverLimit("aggregation_bits")));
        }
    }
}

#[test]
fn mutations_never_panic() {
    for at in 0..LIVE_BLOCK.len() {
        for v in [0x00, 0x01, 0x04, 0x7f, 0x80, 0xe9, 0xff] {
            let mut b = LIVE_BLOCK.to_vec();
            b[at] = v;
            let _ = signed_block_roots(&b);
        }
    }
    for len in 0..LIVE_BLOCK.len() {
        // Cutting into the proof's offset or before breaks an offset.
        assert!(signed_block_roots(&LIVE_BLOCK[..len]).is_err(), "len {len}");
    }
    // Only a change to the proof's bytes (none here) leaves the roots as they are.
    let whole = signed_block_roots(LIVE_BLOCK).unwrap();
    let mut b = LIVE_BLOCK.to_vec();
    b.extend_from_slice(&[9, 9, 9]);
    assert_eq!(signed_block_roots(&b), Ok(whole));
}
