//! One upstream's poll in one round, pure: the three requests in order (finalized state,
//! justified checkpoint, fork choice), what each response means, and the vote it yields.
//! A state failure ends the poll without a vote; a justified failure falls back to the
//! finalized slot; a fork-choice failure keeps the vote.

use crate::app::{StateBlob, UpstreamError, UpstreamErrorKind};
use crate::http1::body::Reference;
use crate::http1::response::{Response, ResponseError, ResponseLimits};
use crate::lean::json::{parse_checkpoint, parse_fork_choice, ForkChoiceSummary};
use crate::lean::ssz::{validate_state, SszError, StateSummary};
use crate::lean::Checkpoint;
use std::rc::Rc;

/// The request a poll makes, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    State,
    Justified,
    ForkChoice,
}

impl Step {
    /// Path under the upstream's prefix.
    pub fn path(self) -> &'static str {
        match self {
            Step::State => "/lean/v0/states/finalized",
            Step::Justified => "/lean/v0/checkpoints/justified",
            Step::ForkChoice => "/lean/v0/fork_choice",
        }
    }

    /// The exact `Accept` header (ream needs exactly `application/octet-stream`).
    pub fn accept(self) -> &'static str {
        match self {
            Step::State => "application/octet-stream",
            _ => "application/json",
        }
    }
}

/// Body limit of JSON responses.
pub const MAX_JSON_BYTES: usize = 4 * 1024 * 1024;

/// What to do after a response or failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Send this request next.
    Request(Step),
    /// The poll is over.
    Done,
}

/// The state a poll fetched.
#[derive(Debug)]
pub enum FetchedState {
    /// New bytes, validated, with their summary.
    New(Vec<u8>, StateSummary),
    /// Byte for byte the reference state already held (compared, never stored twice).
    Same(Rc<StateBlob>),
}

/// The accumulated result of one poll.
#[derive(Debug, Default)]
pub struct PollResult {
    /// The state fetched (None: no vote).
    pub state: Option<FetchedState>,
    pub justified: Option<Checkpoint>,
    pub fork_choice: Option<(Vec<u8>, ForkChoiceSummary)>,
    /// Failures met on the way (at most one per step).
    pub errors: Vec<(UpstreamErrorKind, String)>,
}

/// The poll sequence of one upstream.
#[derive(Debug)]
pub struct PollSequence {
    step: Step,
    max_state_bytes: usize,
    /// A state already held that the fetched one is compared against while it arrives.
    reference: Option<Rc<StateBlob>>,
    result: PollResult,
}

impl PollSequence {
    pub fn new(max_state_bytes: usize, reference: Option<Rc<StateBlob>>) -> Self {
        PollSequence {
            step: Step::State,
            max_state_bytes,
            reference,
            result: PollResult::default(),
        }
    }

    /// Compares the state against `reference` instead (a newer state fetched this
    /// round, which later upstreams most likely return too).
    pub fn prefer_reference(&mut self, reference: Rc<StateBlob>) {
        self.reference = Some(reference);
    }

    /// The body to compare the current response against (the state step only).
    pub fn body_reference(&self) -> Option<Reference> {
        match self.step {
            Step::State => self.reference.clone().map(|r| r as Reference),
            _ => None,
        }
    }

    /// The request in progress.
    pub fn step(&self) -> Step {
        self.step
    }

    /// Response limits for the current step.
    pub fn limits(&self) -> ResponseLimits {
        ResponseLimits {
            max_body_bytes: match self.step {
                Step::State => self.max_state_bytes,
                _ => MAX_JSON_BYTES,
            },
            ..ResponseLimits::default()
        }
    }

    /// A complete response to the current step arrived.
    pub fn on_response(&mut self, response: Response) -> Next {
        let step = self.step;
        if response.status != 200 {
            return self.on_failure(
                UpstreamErrorKind::BadStatus,
                format!("bad status {} on {}", response.status, step.path()),
            );
        }
        match step {
            Step::State if response.same_as_reference => match &self.reference {
                Some(held) => self.result.state = Some(FetchedState::Same(held.clone())),
                None => {
                    return self.on_failure(
                        UpstreamErrorKind::BadResponse,
                        "reference state missing".into(),
                    )
                }
            },
            Step::State => match validate_state(&response.body) {
                Ok(summary) => self.result.state = Some(FetchedState::New(response.body, summary)),
                Err(SszError::Text) => {
                    return self.on_failure(
                        UpstreamErrorKind::TextInsteadOfSsz,
                        format!(
                            "text instead of SSZ on {} (content-type {})",
                            step.path(),
                            response.content_type.as_deref().unwrap_or("none")
                        ),
                    )
                }
                Err(e) => {
                    return self
                        .on_failure(UpstreamErrorKind::InvalidSsz, format!("invalid SSZ: {e}"))
                }
            },
            Step::Justified => match parse_checkpoint(&response.body) {
                Ok(c) => self.result.justified = Some(c),
                Err(e) => {
                    return self.on_failure(
                        UpstreamErrorKind::InvalidJson,
                        format!("{e} on {}", step.path()),
                    )
                }
            },
            Step::ForkChoice => match parse_fork_choice(&response.body) {
                Ok(summary) => self.result.fork_choice = Some((response.body, summary)),
                Err(e) => {
                    return self.on_failure(
                        UpstreamErrorKind::InvalidJson,
                        format!("{e} on {}", step.path()),
                    )
                }
            },
        }
        self.advance()
    }

    /// The current step failed.
    pub fn on_failure(&mut self, kind: UpstreamErrorKind, detail: String) -> Next {
        self.result.errors.push((kind, detail));
        if self.step == Step::State {
            return Next::Done;
        }
        self.advance()
    }

    fn advance(&mut self) -> Next {
        self.step = match self.step {
            Step::State => Step::Justified,
            Step::Justified => Step::ForkChoice,
            Step::ForkChoice => return Next::Done,
        };
        Next::Request(self.step)
    }

    /// Ends the poll and hands over what it gathered.
    pub fn finish(self) -> PollResult {
        self.result
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

/// Builds an `UpstreamError` stamped at `at_ms`.
pub fn error_at(kind: UpstreamErrorKind, detail: String, at_ms: i64) -> UpstreamError {
    UpstreamError {
        kind,
        detail,
        at_ms,
    }
}
