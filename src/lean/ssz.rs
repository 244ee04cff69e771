//! Validation of the SSZ `State` an upstream serves at `/lean/v0/states/finalized`
//! (layout in `shared/spec/upstream-api.md`): fixed part of 228 bytes, five u32 offsets
//! (first = 228, non-decreasing, within the body), not text, a sane slot.

use super::Checkpoint;
use thiserror::Error;

/// Size of the fixed part.
pub const FIXED_PART: usize = 228;

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
pub fn validate_state(bytes: &[u8]) -> Result<StateSummary, SszError> {
    let _ = bytes;
    todo!()
}
