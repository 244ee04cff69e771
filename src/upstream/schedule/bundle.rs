//! Fetching the checkpoint bundle of an agreed finalized checkpoint, pure: the block
//! then the state, from one member of the majority at a time, verified against the
//! agreed root (the block's root is the checkpoint root, the state's hash tree root is
//! the block's `state_root`, and the state's own header hashes to the checkpoint root).
//! A member whose bundle fails is skipped for this checkpoint and the next is tried;
//! the order rotates from one fetch to the next, so no member is always asked first.

use super::poll::{layout_failure, Failure};
use super::request::{Reply, Request};
use crate::app::UpstreamErrorKind;
use crate::lean::lstar::{signed_block_roots, BlockRoots, StateRoots};
use crate::lean::{root_hex, Checkpoint};

/// A bundle that passed verification.
#[derive(Debug)]
pub struct Verified {
    pub checkpoint: Checkpoint,
    pub upstream: usize,
    pub block: Vec<u8>,
    pub state: Vec<u8>,
    pub state_roots: StateRoots,
}

/// What happened to the fetch.
#[derive(Debug)]
pub enum Progress {
    /// Send this request next.
    Send(usize, Request),
    Verified(Box<Verified>),
    /// `upstream` finalized past the target meanwhile (its block or state is of a later
    /// slot): not a lie, the agreement is out of date. The fetch is over; poll again.
    Moved {
        upstream: usize,
        slot: u64,
    },
    /// `upstream` failed; the fetch goes on with `next`, or is exhausted (None).
    Failed {
        upstream: usize,
        failure: Failure,
        next: Option<(usize, Request)>,
    },
}

/// One bundle fetch in progress.
#[derive(Debug)]
pub struct BundleFetch {
    pub target: Checkpoint,
    /// Members to try, in order.
    order: Vec<usize>,
    /// Index in `order` of the member asked now.
    at: usize,
    step: Request,
    /// The block fetched from the current member, verified, waiting for its state.
    block: Option<(Vec<u8>, BlockRoots)>,
}

impl BundleFetch {
    /// Starts with the members not in `skip`, the first one at `rotation` (modulo).
    /// None when no member is left to ask.
    pub fn new(
        target: Checkpoint,
        members: &[usize],
        skip: &[usize],
        rotation: usize,
    ) -> Option<Self> {
        let mut order: Vec<usize> = members
            .iter()
            .copied()
            .filter(|u| !skip.contains(u))
            .collect();
        if order.is_empty() {
            return None;
        }
        let start = rotation % order.len();
        order.rotate_left(start);
        Some(BundleFetch {
            target,
            order,
            at: 0,
            step: Request::Block,
            block: None,
        })
    }

    /// The request in progress: (upstream, request).
    pub fn current(&self) -> (usize, Request) {
        (
            self.order.get(self.at).copied().unwrap_or(usize::MAX),
            self.step,
        )
    }

    /// Whether the fetch holds a block (memory accounting in tests).
    pub fn holds_block(&self) -> bool {
        self.block.is_some()
    }

    /// The reply to the current request.
    pub fn on_reply(&mut self, reply: Reply) -> Progress {
        match self.check(reply) {
            Ok(Checked::BlockOk) => Progress::Send(self.current().0, self.step),
            Ok(Checked::Verified(verified)) => Progress::Verified(verified),
            Ok(Checked::Moved(slot)) => Progress::Moved {
                upstream: self.current().0,
                slot,
            },
            Err(failure) => self.fail_current(failure),
        }
    }

    /// The current request failed.
    pub fn on_failure(&mut self, kind: UpstreamErrorKind, detail: String) -> Progress {
        self.fail_current((kind, detail))
    }

    fn fail_current(&mut self, failure: Failure) -> Progress {
        let (upstream, _) = self.current();
        self.block = None;
        self.step = Request::Block;
        self.at += 1;
        let next = (self.at < self.order.len()).then(|| self.current());
        Progress::Failed {
            upstream,
            failure,
            next,
        }
    }

    /// Verifies a reply.
    fn check(&mut self, reply: Reply) -> Result<Checked, Failure> {
        let (upstream, step) = self.current();
        if reply.status != 200 {
            return Err((
                UpstreamErrorKind::BadStatus,
                format!("bad status {} on {}", reply.status, step.path()),
            ));
        }
        let target = self.target;
        match step {
            Request::Block => {
                let roots = signed_block_roots(&reply.body)
                    .map_err(|e| layout_failure(&e, step, reply.content_type.as_deref()))?;
                if roots.slot > target.slot {
                    return Ok(Checked::Moved(roots.slot));
                }
                if roots.block_root != target.root || roots.slot != target.slot {
                    return Err(mismatch(format!(
                        "block {} at slot {} is not the agreed finalized {} at slot {}",
                        root_hex(&roots.block_root),
                        roots.slot,
                        root_hex(&target.root),
                        target.slot
                    )));
                }
                self.block = Some((reply.body, roots));
                self.step = Request::State;
                Ok(Checked::BlockOk)
            }
            _ => {
                let Some((block, block_roots)) = self.block.take() else {
                    return Err((UpstreamErrorKind::BadResponse, "state before block".into()));
                };
                let state_roots = match reply.state {
                    Some(Ok(roots)) => roots,
                    Some(Err(e)) => {
                        return Err(layout_failure(&e, step, reply.content_type.as_deref()))
                    }
                    None => {
                        return Err((UpstreamErrorKind::BadResponse, "state not hashed".into()))
                    }
                };
                if state_roots.header_slot > block_roots.slot {
                    // Finalized again between the block and the state requests.
                    return Ok(Checked::Moved(state_roots.header_slot));
                }
                if state_roots.state_root != block_roots.state_root {
                    return Err(mismatch(format!(
                        "state root {} is not the block's state_root {}",
                        root_hex(&state_roots.state_root),
                        root_hex(&block_roots.state_root)
                    )));
                }
                if state_roots.block_root != target.root {
                    return Err(mismatch(format!(
                        "the state's header hashes to {}, not the agreed finalized {}",
                        root_hex(&state_roots.block_root),
                        root_hex(&target.root)
                    )));
                }
                Ok(Checked::Verified(Box::new(Verified {
                    checkpoint: target,
                    upstream,
                    block,
                    state: reply.body,
                    state_roots,
                })))
            }
        }
    }
}

/// What a reply that did not fail came to.
enum Checked {
    /// The block verified; its state comes next.
    BlockOk,
    Verified(Box<Verified>),
    /// The member finalized past the target: a block or state of this later slot.
    Moved(u64),
}

fn mismatch(detail: String) -> Failure {
    (UpstreamErrorKind::CheckpointMismatch, detail)
}
