//! One upstream's poll in one round, pure: `fork_choice` (its finalized checkpoint is
//! the vote), or, when it serves none (404), its state hashed to derive the finalized
//! root; then `checkpoints/justified`. A failure before the vote ends the poll without
//! one; a justified failure falls back to the justified checkpoint of the fork choice
//! (or of the state).

use super::request::{Reply, Request};
use crate::app::{UpstreamErrorKind, UpstreamRecord};
use crate::consensus::Vote;
use crate::lean::json::{parse_checkpoint, parse_fork_choice};
use crate::lean::lstar::LayoutError;
use crate::lean::Checkpoint;
use std::rc::Rc;

/// A failure: its kind and a detail naming the request.
pub type Failure = (UpstreamErrorKind, String);

/// What to do after a step that succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Send(Request),
    Done,
}

/// One poll in progress.
#[derive(Debug)]
pub struct Poll {
    step: Request,
    /// Monotonic ms its first request was sent.
    pub started: Option<u64>,
    finalized: Option<Checkpoint>,
    /// Justified checkpoint of the fork choice or the state (the fallback).
    fallback_justified: Option<Checkpoint>,
    justified: Option<Checkpoint>,
}

impl Default for Poll {
    fn default() -> Self {
        Poll {
            step: Request::ForkChoice,
            started: None,
            finalized: None,
            fallback_justified: None,
            justified: None,
        }
    }
}

impl Poll {
    /// The request in progress.
    pub fn step(&self) -> Request {
        self.step
    }

    /// A reply to the current step; writes what it learns into `record`.
    pub fn on_reply(&mut self, record: &mut UpstreamRecord, reply: Reply) -> Result<Next, Failure> {
        let step = self.step;
        if step == Request::ForkChoice && reply.status == 404 {
            record.serves_fork_choice = Some(false);
            return Ok(self.go(Request::VoteState));
        }
        if reply.status != 200 {
            let detail = format!("bad status {} on {}", reply.status, step.path());
            return Err(self.fail(UpstreamErrorKind::BadStatus, detail));
        }
        match step {
            Request::ForkChoice => match parse_fork_choice(&reply.body) {
                Ok(summary) => {
                    record.serves_fork_choice = Some(true);
                    record.head_slot = summary.head_slot;
                    record.fork_choice = Some(Rc::from(reply.body.into_boxed_slice()));
                    self.finalized = Some(summary.finalized);
                    self.fallback_justified = Some(summary.justified);
                    Ok(self.go(Request::Justified))
                }
                Err(e) => Err(self.fail(
                    UpstreamErrorKind::InvalidJson,
                    format!("{e} on {}", step.path()),
                )),
            },
            Request::VoteState => match reply.state {
                Some(Ok(roots)) => {
                    record.head_slot = None;
                    record.fork_choice = None;
                    self.finalized = Some(Checkpoint {
                        slot: roots.header_slot,
                        root: roots.block_root,
                    });
                    self.fallback_justified = Some(roots.summary.latest_justified);
                    Ok(self.go(Request::Justified))
                }
                Some(Err(e)) => {
                    let (kind, detail) = layout_failure(&e, step, reply.content_type.as_deref());
                    Err(self.fail(kind, detail))
                }
                None => Err(self.fail(
                    UpstreamErrorKind::BadResponse,
                    "state was not hashed".into(),
                )),
            },
            Request::Justified => match parse_checkpoint(&reply.body) {
                Ok(c) => {
                    self.justified = Some(c);
                    record.justified_from_endpoint = true;
                    Ok(Next::Done)
                }
                Err(e) => Err(self.fail(
                    UpstreamErrorKind::InvalidJson,
                    format!("{e} on {}", step.path()),
                )),
            },
            Request::Block | Request::State => Ok(Next::Done),
        }
    }

    /// The current step failed (`detail` names the request); the poll is over. Only
    /// the justified step has a fallback: a failure anywhere else leaves no vote.
    pub fn fail(&mut self, kind: UpstreamErrorKind, detail: String) -> Failure {
        if self.step != Request::Justified {
            self.finalized = None;
        }
        (kind, detail)
    }

    fn go(&mut self, step: Request) -> Next {
        self.step = step;
        Next::Send(step)
    }

    /// The vote this poll gave, if any; writes the justified checkpoint into `record`.
    pub fn vote(&self, upstream: usize, record: &mut UpstreamRecord) -> Option<Vote> {
        let finalized = self.finalized?;
        if self.justified.is_none() {
            record.justified_from_endpoint = false;
        }
        let justified = self
            .justified
            .or(self.fallback_justified)
            .unwrap_or(finalized);
        record.finalized = Some(finalized);
        record.last_justified = Some(justified);
        Some(Vote {
            upstream,
            finalized,
            justified,
        })
    }
}

/// The kind and detail of a state or block that did not parse.
pub fn layout_failure(e: &LayoutError, request: Request, content_type: Option<&str>) -> Failure {
    match e {
        LayoutError::Text => (
            UpstreamErrorKind::TextInsteadOfSsz,
            format!(
                "text instead of SSZ on {} (content-type {})",
                request.path(),
                content_type.unwrap_or("none")
            ),
        ),
        LayoutError::BadSlot(_) => (
            UpstreamErrorKind::InvalidSsz,
            format!("invalid SSZ on {}: {e}", request.path()),
        ),
        _ => (
            UpstreamErrorKind::UnknownLayout,
            format!("unknown layout on {}: {e}", request.path()),
        ),
    }
}
