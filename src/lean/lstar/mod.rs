//! The lean SSZ schema of leanSpec's fork "lstar" and its SHA-256 merkleization: the
//! hash tree roots of the `State` (incrementally, as the body arrives) and of the
//! `SignedBlock`, which make a checkpoint self-certifying (`block.state_root ==
//! hash_tree_root(state)`, block root = the fork choice's finalized root). Pure: no I/O.
//!
//! Layouts change between devnets; everything specific to this fork lives here.
//! `merkle.rs` is fork-independent SSZ merkleization, `containers.rs` the small
//! containers, `state.rs` the state, `block.rs` the signed block. The devnet simulator
//! builds its roots from `merkle` and `containers` (hence `pub(crate)`).

mod block;
pub(crate) mod containers;
pub(crate) mod merkle;
mod state;

pub use block::{
    empty_body_root, encode_signed_block, signed_block_roots, BlockRoots, AGGREGATION_BITS_LIMIT,
    ATTESTATIONS_LIMIT, PROOF_LIMIT,
};
pub use containers::header_root;
pub use state::{
    state_roots, StateHasher, StateRoots, HISTORICAL_ROOTS_LIMIT, JUSTIFICATION_VALIDATORS_LIMIT,
    VALIDATOR_REGISTRY_LIMIT,
};

/// Why a body does not parse as the lstar layout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// The body looks like text (JSON, HTML, a plain message), not SSZ.
    #[error("text instead of SSZ")]
    Text,
    /// Shorter than the fixed part (228 bytes for a state, 100 for a signed block).
    #[error("SSZ body shorter than its fixed part ({0} bytes)")]
    TooShort(usize),
    /// State offsets or variable-part sizes that do not parse as the lstar layout.
    #[error("state offsets inconsistent with the lstar layout")]
    BadOffsets,
    /// A slot ≥ 2^40, or a header, justified or finalized slot above the state's slot.
    #[error("implausible slot {0}")]
    BadSlot(u64),
    /// A list or bitlist (named) longer than its SSZ limit.
    #[error("SSZ field {0} longer than its limit")]
    OverLimit(&'static str),
    /// A signed block whose offsets or sizes do not parse as the lstar layout (what).
    #[error("signed block does not parse as the lstar layout: {0}")]
    BadBlock(&'static str),
}
