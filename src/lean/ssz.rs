//! Validation of the SSZ `State` an upstream serves at `/lean/v0/states/finalized`
//! (leanSpec's `State` container, also written out in `tests/common/htr.rs`): fixed
//! part of 228 bytes, five u32 offsets (first = 228, non-decreasing, within the body),
//! not text, a sane slot.
//!
//! The check is O(1) in the size of the state (only the fixed part, the offsets and the
//! last byte of each bitlist are read), except for a text sniff of at most
//! [`TEXT_SNIFF_LEN`] bytes, so validating a 16 MiB state costs the same as a genesis one.

use super::Checkpoint;
use thiserror::Error;

/// Size of the fixed part.
pub const FIXED_PART: usize = 228;

/// Size of one SSZ `Validator` record in the `validators` list.
pub const VALIDATOR_SIZE: usize = 112;

/// Slots at or above this (2^40, some 140 000 years of 4-second slots) are implausible.
pub const MAX_PLAUSIBLE_SLOT: u64 = 1 << 40;

/// How many leading bytes the text sniff looks at.
pub const TEXT_SNIFF_LEN: usize = 512;

/// Where the five u32 offsets of the variable fields start.
const OFFSETS_AT: usize = 208;

/// The fields leanpoint reads from a valid state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateSummary {
    pub genesis_time: u64,
    /// The state's slot: the finalized slot of the serving node.
    pub slot: u64,
    pub latest_justified: Checkpoint,
    pub latest_finalized: Checkpoint,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum SszError {
    #[error("text instead of SSZ")]
    Text,
    #[error("state shorter than the 228-byte fixed part ({0} bytes)")]
    TooShort(usize),
    #[error("state offsets inconsistent with its length")]
    BadOffsets,
    #[error("implausible slot {0}")]
    BadSlot(u64),
}

/// Checks `bytes` and returns its summary.
///
/// In order: an empty body is `TooShort(0)`; a body that looks like text (JSON, an HTML
/// error page, a plain message, see [`looks_like_text`]) is `Text`; fewer than 228
/// bytes is `TooShort`; offsets that are not `228 ≤ o1 ≤ … ≤ o5 ≤ len`, or variable
/// parts of an impossible size (a list of 32-byte roots or 112-byte validators whose
/// length is not a multiple, an empty bitlist or one whose last byte is zero) are
/// `BadOffsets`; a slot ≥ 2^40, or a header, justified or finalized slot above the
/// state's slot is `BadSlot`.
pub fn validate_state(bytes: &[u8]) -> Result<StateSummary, SszError> {
    if bytes.is_empty() {
        return Err(SszError::TooShort(0));
    }
    if looks_like_text(bytes) {
        return Err(SszError::Text);
    }
    let fixed: &[u8; FIXED_PART] = bytes
        .get(..FIXED_PART)
        .and_then(|s| s.try_into().ok())
        .ok_or(SszError::TooShort(bytes.len()))?;
    check_variable_parts(fixed, bytes)?;
    let summary = StateSummary {
        genesis_time: u64_at(fixed, 0),
        slot: u64_at(fixed, 8),
        latest_justified: Checkpoint {
            root: root_at(fixed, 128),
            slot: u64_at(fixed, 160),
        },
        latest_finalized: Checkpoint {
            root: root_at(fixed, 168),
            slot: u64_at(fixed, 200),
        },
    };
    match implausible_slot(&summary, u64_at(fixed, 16)) {
        Some(slot) => Err(SszError::BadSlot(slot)),
        None => Ok(summary),
    }
}

/// Whether a body is text rather than SSZ: its first [`TEXT_SNIFF_LEN`] bytes hold no
/// control byte other than tab, CR, LF and form feed, and either its first
/// non-whitespace byte is `{`, `[` or `<` (JSON, HTML, XML) or those bytes are UTF-8
/// (plain ASCII included).
///
/// A real state always holds zero bytes early (the high bytes of its slot, and of
/// its offsets), so a genesis time whose low byte happens to be `{` is not text.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    let head = bytes.get(..TEXT_SNIFF_LEN).unwrap_or(bytes);
    if head.is_empty()
        || head
            .iter()
            .any(|&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c)) || b == 0x7f)
    {
        return false;
    }
    let first = head.iter().find(|b| !b.is_ascii_whitespace());
    if matches!(first, Some(b'{' | b'[' | b'<')) {
        return true;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        // A multi-byte character cut by the sniff window is still text.
        Err(e) => e.error_len().is_none() && head.len() < bytes.len(),
    }
}

/// Checks the offsets and the sizes of the variable parts they delimit.
fn check_variable_parts(fixed: &[u8; FIXED_PART], bytes: &[u8]) -> Result<(), SszError> {
    let mut offsets = [0usize; 5];
    for (i, o) in offsets.iter_mut().enumerate() {
        *o =
            usize::try_from(u32_at(fixed, OFFSETS_AT + 4 * i)).map_err(|_| SszError::BadOffsets)?;
    }
    let [historical, justified_slots, validators, roots, justification_bits] = offsets;
    let len = bytes.len();
    let ordered = historical == FIXED_PART
        && historical <= justified_slots
        && justified_slots <= validators
        && validators <= roots
        && roots <= justification_bits
        && justification_bits <= len;
    // Only subtract once the order is known.
    if !ordered
        || (justified_slots - historical) % 32 != 0
        || (roots - validators) % VALIDATOR_SIZE != 0
        || (justification_bits - roots) % 32 != 0
        || !bitlist_ok(bytes, justified_slots, validators)
        || !bitlist_ok(bytes, justification_bits, len)
    {
        return Err(SszError::BadOffsets);
    }
    Ok(())
}

/// An SSZ bitlist in `bytes[start..end]`: at least one byte, the last one nonzero
/// (it carries the length bit; an empty bitlist is the single byte `0x01`).
fn bitlist_ok(bytes: &[u8], start: usize, end: usize) -> bool {
    end > start && matches!(end.checked_sub(1).and_then(|i| bytes.get(i)), Some(&b) if b != 0)
}

/// The first implausible slot of a state, if any: its slot at or above
/// [`MAX_PLAUSIBLE_SLOT`], or a header, justified or finalized slot above it (they never
/// exceed the state's own slot; justified ≥ finalized is not checked: the spec does not
/// guarantee it).
pub(crate) fn implausible_slot(summary: &StateSummary, header_slot: u64) -> Option<u64> {
    let slot = summary.slot;
    if slot >= MAX_PLAUSIBLE_SLOT {
        return Some(slot);
    }
    [
        header_slot,
        summary.latest_justified.slot,
        summary.latest_finalized.slot,
    ]
    .into_iter()
    .find(|&other| other > slot)
}

fn u32_at(fixed: &[u8; FIXED_PART], at: usize) -> u32 {
    fixed
        .get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

fn u64_at(fixed: &[u8; FIXED_PART], at: usize) -> u64 {
    fixed
        .get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

fn root_at(fixed: &[u8; FIXED_PART], at: usize) -> [u8; 32] {
    fixed
        .get(at..at + 32)
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; 32])
}

#[cfg(test)]
#[path = "ssz_tests.rs"]
mod tests;
