//! `validate_state` (and `looks_like_text`) on arbitrary bytes. Checks: no panic; an
//! accepted state satisfies every documented rule (length, offsets, slots), and its
//! summary is the bytes at the layout's positions.
#![no_main]

use leanpoint::lean::ssz::{looks_like_text, validate_state, FIXED_PART, MAX_PLAUSIBLE_SLOT};
use libfuzzer_sys::fuzz_target;

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

fuzz_target!(|data: &[u8]| {
    let text = looks_like_text(data);
    let Ok(summary) = validate_state(data) else {
        return;
    };
    assert!(!text, "text accepted as a state");
    assert!(data.len() >= FIXED_PART);
    assert_eq!(summary.genesis_time, u64_at(data, 0));
    assert_eq!(summary.slot, u64_at(data, 8));
    assert!(summary.slot < MAX_PLAUSIBLE_SLOT);
    assert!(u64_at(data, 16) <= summary.slot);
    assert_eq!(summary.latest_justified.slot, u64_at(data, 160));
    assert_eq!(summary.latest_finalized.slot, u64_at(data, 200));
    assert!(summary.latest_justified.slot <= summary.slot);
    assert!(summary.latest_finalized.slot <= summary.slot);
    assert_eq!(&summary.latest_justified.root[..], &data[128..160]);
    assert_eq!(&summary.latest_finalized.root[..], &data[168..200]);
    let offsets: Vec<usize> = (0..5).map(|i| u32_at(data, 208 + 4 * i)).collect();
    assert_eq!(offsets[0], FIXED_PART);
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]));
    assert!(offsets[4] <= data.len());
    // Both bitlists are non-empty and end in a nonzero byte.
    assert!(offsets[2] > offsets[1] && data[offsets[2] - 1] != 0);
    assert!(data.len() > offsets[4] && data[data.len() - 1] != 0);
});
