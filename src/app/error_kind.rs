//! Why an upstream poll failed, as a kind a person can act on plus a detail.

use std::fmt;

/// The kinds of upstream failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UpstreamErrorKind {
    ConnectRefused,
    ConnectTimeout,
    RequestTimeout,
    Reset,
    ClosedEarly,
    BadStatus,
    BodyTooLarge,
    BadResponse,
    InvalidSsz,
    TextInsteadOfSsz,
    InvalidJson,
    NameNotResolved,
    Io,
    /// A bundle that does not hash to the agreed checkpoint (block root, or the state
    /// root the block names).
    CheckpointMismatch,
    /// A state or block whose SSZ does not parse as the lean layout we know.
    UnknownLayout,
    /// An entry of the upstreams file that cannot be used (never polled).
    Misconfigured,
}

impl UpstreamErrorKind {
    pub const COUNT: usize = 16;
    pub const ALL: [UpstreamErrorKind; Self::COUNT] = [
        Self::ConnectRefused,
        Self::ConnectTimeout,
        Self::RequestTimeout,
        Self::Reset,
        Self::ClosedEarly,
        Self::BadStatus,
        Self::BodyTooLarge,
        Self::BadResponse,
        Self::InvalidSsz,
        Self::TextInsteadOfSsz,
        Self::InvalidJson,
        Self::NameNotResolved,
        Self::Io,
        Self::CheckpointMismatch,
        Self::UnknownLayout,
        Self::Misconfigured,
    ];

    pub fn index(self) -> usize {
        self as usize
    }

    /// Machine-readable name (JSON `last_error_kind`, metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConnectRefused => "connect_refused",
            Self::ConnectTimeout => "connect_timeout",
            Self::RequestTimeout => "request_timeout",
            Self::Reset => "reset",
            Self::ClosedEarly => "closed_early",
            Self::BadStatus => "bad_status",
            Self::BodyTooLarge => "body_too_large",
            Self::BadResponse => "bad_response",
            Self::InvalidSsz => "invalid_ssz",
            Self::TextInsteadOfSsz => "text_instead_of_ssz",
            Self::InvalidJson => "invalid_json",
            Self::NameNotResolved => "name_not_resolved",
            Self::Io => "io",
            Self::CheckpointMismatch => "checkpoint_mismatch",
            Self::UnknownLayout => "unknown_layout",
            Self::Misconfigured => "misconfigured",
        }
    }
}

/// One failure: its kind, a detail, and the request it hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamError {
    pub kind: UpstreamErrorKind,
    /// Human detail, e.g. `bad status 503 on /lean/v0/states/finalized`.
    pub detail: String,
    /// Wall time it happened.
    pub at_ms: i64,
}

impl fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.detail)
    }
}
