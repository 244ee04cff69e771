//! SSZ encoding of the simulated `State` served at `/lean/v0/states/finalized`: the
//! finalized block's post-state, laid out as in `shared/spec/upstream-api.md` (fixed
//! part of 228 bytes, five offsets, then the history roots, the justified-slots
//! bitlist, 112-byte validators, the justification roots and bits). Deterministic:
//! the same (params, fork, slot) always gives the same bytes.

use super::chain::{body_root, ChainParams, ChainView};
use crate::lean::ssz::{FIXED_PART, VALIDATOR_SIZE};
use crate::lean::Root;
use sha2::{Digest, Sha256};

/// Size of each of the two public keys of a validator record.
const PUBKEY_SIZE: usize = 52;

/// Encodes the post-state of the block at `slot` on `fork`. `history` holds the roots of
/// slots `0..slot` (one per slot; fewer are taken as they are).
pub fn encode_state(params: &ChainParams, fork: u64, slot: u64, history: &[Root]) -> Vec<u8> {
    // What the chain looked like when the block at `slot` was the head.
    let view = ChainView::at(fork, slot);
    let validators = usize::try_from(params.validators).unwrap_or(0);
    let justified_bits = slot.saturating_sub(view.finalized.slot);
    let justified_slots = bitlist(justified_bits, |i| {
        view.finalized.slot + 1 + i <= view.justified.slot
    });
    let empty_bits = bitlist(0, |_| false);

    let history_len = history.len() * 32;
    let validators_len = validators * VALIDATOR_SIZE;
    let total =
        FIXED_PART + history_len + justified_slots.len() + validators_len + empty_bits.len();
    let mut out = Vec::with_capacity(total);

    out.extend_from_slice(&params.genesis_time.to_le_bytes());
    out.extend_from_slice(&slot.to_le_bytes());
    // latest_block_header: the state root is left zero, as in a block's post-state.
    let parent = match slot.checked_sub(1) {
        Some(p) => history
            .get(usize::try_from(p).unwrap_or(usize::MAX))
            .copied()
            .unwrap_or([0; 32]),
        None => [0; 32],
    };
    out.extend_from_slice(&slot.to_le_bytes());
    out.extend_from_slice(&params.proposer(slot).to_le_bytes());
    out.extend_from_slice(&parent);
    out.extend_from_slice(&[0; 32]);
    out.extend_from_slice(&body_root(fork, slot));
    for checkpoint in [view.justified, view.finalized] {
        out.extend_from_slice(&checkpoint.root);
        out.extend_from_slice(&checkpoint.slot.to_le_bytes());
    }
    let o1 = FIXED_PART;
    let o2 = o1 + history_len;
    let o3 = o2 + justified_slots.len();
    let o4 = o3 + validators_len;
    let o5 = o4; // no pending justification roots
    for offset in [o1, o2, o3, o4, o5] {
        let offset = u32::try_from(offset).unwrap_or(u32::MAX);
        out.extend_from_slice(&offset.to_le_bytes());
    }

    for root in history {
        out.extend_from_slice(root);
    }
    out.extend_from_slice(&justified_slots);
    for index in 0..params.validators {
        out.extend_from_slice(&validator_record(index));
    }
    out.extend_from_slice(&empty_bits);
    out
}

/// One `Validator`: attestation and proposal public keys (52 bytes each) and the index.
pub fn validator_record(index: u64) -> [u8; VALIDATOR_SIZE] {
    let mut record = [0u8; VALIDATOR_SIZE];
    let (keys, tail) = record.split_at_mut(2 * PUBKEY_SIZE);
    for (k, key) in keys.chunks_mut(PUBKEY_SIZE).enumerate() {
        // 52 bytes from two hashes of (index, which key, half).
        for (half, part) in key.chunks_mut(32).enumerate() {
            let mut h = Sha256::new();
            h.update(b"lean-devnet/pubkey");
            h.update(index.to_le_bytes());
            h.update([k as u8, half as u8]);
            let digest: [u8; 32] = h.finalize().into();
            let n = part.len();
            part.copy_from_slice(digest.get(..n).unwrap_or(&digest));
        }
    }
    tail.copy_from_slice(&index.to_le_bytes());
    record
}

/// An SSZ bitlist of `len` bits (bit `i` is `bit(i)`), with its delimiter bit.
pub fn bitlist(len: u64, bit: impl Fn(u64) -> bool) -> Vec<u8> {
    let len = usize::try_from(len).unwrap_or(0);
    let mut out = vec![0u8; len / 8 + 1];
    for i in 0..len {
        if bit(i as u64) {
            if let Some(byte) = out.get_mut(i / 8) {
                *byte |= 1 << (i % 8);
            }
        }
    }
    if let Some(byte) = out.get_mut(len / 8) {
        *byte |= 1 << (len % 8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnet::chain::{block_root, RootLog, ALTERNATE, CANONICAL};
    use crate::lean::ssz::validate_state;

    fn params(validators: u64) -> ChainParams {
        ChainParams {
            genesis_time: 1_700_000_000,
            slot_ms: 4_000,
            start_slot: 0,
            validators,
        }
    }

    fn offsets(bytes: &[u8]) -> Vec<u32> {
        (0..5)
            .map(|i| {
                let at = 208 + 4 * i;
                u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
            })
            .collect()
    }

    fn state(fork: u64, slot: u64, validators: u64) -> Vec<u8> {
        let mut log = RootLog::new(fork);
        encode_state(&params(validators), fork, slot, log.roots_to(slot))
    }

    #[test]
    fn genesis_matches_the_spec_layout() {
        let bytes = state(CANONICAL, 0, 4);
        assert_eq!(bytes.len(), 678);
        assert_eq!(offsets(&bytes), [228, 228, 229, 677, 677]);
        assert_eq!(bytes[228], 0x01, "empty justified_slots bitlist");
        assert_eq!(bytes[677], 0x01, "empty justifications_validators bitlist");
        let summary = validate_state(&bytes).unwrap();
        assert_eq!(summary.slot, 0);
        assert_eq!(summary.genesis_time, 1_700_000_000);
    }

    #[test]
    fn state_grows_one_root_per_slot_and_validates() {
        for slot in [1u64, 2, 3, 7, 18, 100, 1000] {
            let bytes = state(CANONICAL, slot, 4);
            let summary = validate_state(&bytes)
                .unwrap_or_else(|e| panic!("slot {slot}: leanpoint rejects it: {e}"));
            assert_eq!(summary.slot, slot);
            let o = offsets(&bytes);
            assert_eq!(o[0], 228);
            assert_eq!(o[1] - o[0], 32 * slot as u32, "history at slot {slot}");
            assert_eq!(o[3] - o[2], 4 * 112);
            assert_eq!(o[4], o[3]);
            assert_eq!(bytes.len(), o[4] as usize + 1);
            // Bits for the 3 slots after the state's finalized one; the first is justified.
            let bits = &bytes[o[1] as usize..o[2] as usize];
            if slot >= 3 {
                assert_eq!(bits, [0b1001], "slot {slot}");
            }
            assert_eq!(summary.latest_justified.slot, slot.saturating_sub(2));
            assert_eq!(summary.latest_finalized.slot, slot.saturating_sub(3));
            assert_eq!(
                summary.latest_finalized.root,
                block_root(CANONICAL, slot.saturating_sub(3))
            );
        }
    }

    #[test]
    fn history_and_header_hold_the_fork_roots() {
        let bytes = state(ALTERNATE, 5, 4);
        for slot in 0..5usize {
            let at = 228 + 32 * slot;
            assert_eq!(bytes[at..at + 32], block_root(ALTERNATE, slot as u64));
        }
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), 5);
        assert_eq!(u64::from_le_bytes(bytes[24..32].try_into().unwrap()), 1);
        assert_eq!(bytes[32..64], block_root(ALTERNATE, 4), "parent root");
        assert_eq!(bytes[64..96], [0; 32], "state root left zero");
    }

    #[test]
    fn deterministic_per_fork_and_slot() {
        assert_eq!(state(CANONICAL, 42, 4), state(CANONICAL, 42, 4));
        assert_ne!(state(CANONICAL, 42, 4), state(ALTERNATE, 42, 4));
        assert_ne!(state(CANONICAL, 42, 4), state(CANONICAL, 43, 4));
    }

    #[test]
    fn validators_are_112_bytes_with_their_index() {
        let bytes = state(CANONICAL, 9, 8);
        assert!(validate_state(&bytes).is_ok());
        let o = offsets(&bytes);
        assert_eq!(o[3] - o[2], 8 * 112);
        let third = &bytes[o[2] as usize + 2 * 112..o[2] as usize + 3 * 112];
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
}
