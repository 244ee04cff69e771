//! What the shell needs to know about a request beyond the scheduler's view: the
//! response limits of each request and the error kind of a response-reading error.

use super::schedule::Request;
use crate::app::UpstreamErrorKind;
use crate::http1::response::{ResponseError, ResponseLimits};

/// Body limit of JSON responses (fork choice, justified checkpoint).
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// Largest `SignedBlock` accepted: 4096 attestations with full 4096-bit bitlists and the
/// largest proof come to about 3.2 MiB. A block is hashed whole when it has arrived (real
/// blocks are a few KiB), so this also bounds that one hash (about 13 ms at 300 MiB/s).
pub const MAX_BLOCK_BYTES: usize = 4 * 1024 * 1024;

/// Response limits of `request`; states are bounded by `--max-state-bytes`.
pub fn request_limits(request: Request, max_state_bytes: usize) -> ResponseLimits {
    ResponseLimits {
        max_body_bytes: match request {
            Request::ForkChoice | Request::Justified => MAX_JSON_BYTES,
            Request::Block => MAX_BLOCK_BYTES,
            Request::State | Request::VoteState => max_state_bytes,
        },
        ..ResponseLimits::default()
    }
}

/// The error kind of a response-reading error.
pub fn response_error_kind(e: ResponseError) -> UpstreamErrorKind {
    match e {
        ResponseError::BodyTooLarge => UpstreamErrorKind::BodyTooLarge,
        ResponseError::ClosedEarly => UpstreamErrorKind::ClosedEarly,
        _ => UpstreamErrorKind::BadResponse,
    }
}
