//! JSON bodies of the lean API, tolerant of key order and extra keys: the justified
//! checkpoint `{"slot","root"}` and the fork-choice summary.

use super::Checkpoint;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    #[error("invalid JSON: {0}")]
    Syntax(String),
    #[error("missing or mistyped field `{0}`")]
    Field(&'static str),
    #[error("bad root `{0}`")]
    Root(String),
}

/// What leanpoint reads of a fork-choice body (the raw body is kept for serving).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkChoiceSummary {
    pub head_root: [u8; 32],
    /// Slot of the node whose root equals `head`, if listed.
    pub head_slot: Option<u64>,
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
    pub node_count: usize,
    pub validator_count: Option<u64>,
}

/// Parses `{"slot":N,"root":"0x…"}` (either key order, extra keys ignored).
pub fn parse_checkpoint(body: &[u8]) -> Result<Checkpoint, JsonError> {
    let _ = body;
    todo!()
}

/// Parses a fork-choice body.
pub fn parse_fork_choice(body: &[u8]) -> Result<ForkChoiceSummary, JsonError> {
    let _ = body;
    todo!()
}

/// Parses lowercase or uppercase `0x` hex of exactly 32 bytes.
pub fn parse_root(s: &str) -> Result<[u8; 32], JsonError> {
    let _ = s;
    todo!()
}
