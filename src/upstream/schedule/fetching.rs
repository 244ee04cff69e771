//! The scheduler's bundle fetching: when to start a fetch (as soon as a strict majority
//! of every upstream polled holds one checkpoint, or at the round's end), from which
//! members (skipping those that failed verification for that checkpoint, remembered by
//! name), what each step of the fetch leads to, and installing a verified bundle.

use super::bundle::{BundleFetch, Progress, Verified};
use super::{record_failure, Action, Now, Purpose, Scheduler, FAILED_CHECKPOINTS};
use crate::app::{AppState, Blob, Bundle, UpstreamErrorKind};
use crate::lean::{root_hex, Checkpoint};
use sha2::{Digest, Sha256};
use std::rc::Rc;

impl Scheduler {
    /// Once a strict majority of every upstream polled this round holds one finalized
    /// checkpoint, no later answer can change the round's decision: its bundle is
    /// fetched now rather than after the slowest poll (a silent upstream makes a round
    /// last the whole request deadline, long enough for finalization to move on).
    pub(super) fn fetch_early(&mut self, app: &mut AppState) {
        let Some(round) = &self.round else {
            return;
        };
        let Some(last) = round.votes.last() else {
            return;
        };
        let target = last.finalized;
        let mut members: Vec<usize> = round
            .votes
            .iter()
            .filter(|v| v.finalized == target)
            .map(|v| v.upstream)
            .collect();
        if members.len() * 2 > round.polled.len() {
            // In configuration order, as at the end of a round (deterministic).
            members.sort_unstable();
            self.want_bundle_of(app, target, &members);
        }
    }

    /// The round ended: the bundle verified early is installed if the round agreed on
    /// its checkpoint, dropped otherwise.
    pub(super) fn install_early(&mut self, app: &mut AppState, now: Now) {
        let Some(verified) = self.early.take() else {
            return;
        };
        if app.agreed.as_ref().map(|a| a.finalized) == Some(verified.checkpoint) {
            install(app, *verified, now);
        }
    }

    /// Starts fetching the agreed checkpoint's bundle unless it is held or on its way.
    pub(super) fn want_bundle(&mut self, app: &mut AppState) {
        if let Some(agreed) = app.agreed.clone() {
            self.want_bundle_of(app, agreed.finalized, &agreed.members);
        }
    }

    /// Starts fetching `target`'s bundle from `members` unless it is held or on its way,
    /// skipping the members that failed verification for it.
    fn want_bundle_of(&mut self, app: &mut AppState, target: Checkpoint, members: &[usize]) {
        if app.bundle.as_ref().is_some_and(|b| b.checkpoint == target) {
            self.fetch = None;
            return;
        }
        if self.fetch.as_ref().is_some_and(|f| f.target == target)
            || self.early.as_ref().is_some_and(|v| v.checkpoint == target)
        {
            return;
        }
        let failed_names = self
            .failed
            .iter()
            .find(|(c, _)| *c == target)
            .map_or(&[][..], |(_, names)| &names[..]);
        let skip: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&u| {
                app.upstreams
                    .get(u)
                    .is_some_and(|r| failed_names.contains(&r.spec.name))
            })
            .collect();
        // A fetch given up for this one leaves nothing queued behind it.
        self.queue.retain(|e| !matches!(e.2, Purpose::Bundle(_)));
        self.fetch = BundleFetch::new(target, members, &skip, self.rotation);
        self.fetch_id = self.fetch_id.wrapping_add(1);
        self.rotation = self.rotation.wrapping_add(1);
        match &self.fetch {
            Some(fetch) => {
                let (u, request) = fetch.current();
                self.queue
                    .push_back((u, request, Purpose::Bundle(self.fetch_id)));
            }
            None => tracing::debug!(
                slot = target.slot,
                "every member served a bundle that failed verification"
            ),
        }
    }

    /// Remembers that `upstream` served a bundle of `target` that failed verification.
    fn remember_failed(&mut self, app: &AppState, target: Checkpoint, upstream: usize) {
        let Some(name) = app.upstreams.get(upstream).map(|r| r.spec.name.clone()) else {
            return;
        };
        match self.failed.iter_mut().find(|(c, _)| *c == target) {
            Some((_, names)) => names.push(name),
            None => {
                self.failed.push_back((target, vec![name]));
                if self.failed.len() > FAILED_CHECKPOINTS {
                    self.failed.pop_front();
                }
            }
        }
    }

    pub(super) fn on_progress(&mut self, app: &mut AppState, progress: Progress, now: Now) {
        match progress {
            Progress::Send(u, request) => {
                self.queue
                    .push_front((u, request, Purpose::Bundle(self.fetch_id)))
            }
            Progress::Moved { upstream, slot } => {
                // Not a lie: the agreement is out of date. Agree again, now.
                let target = self.fetch.take().map(|f| f.target);
                tracing::debug!(
                    upstream,
                    slot,
                    target = ?target.map(|t| t.slot),
                    "a member finalized past the agreed checkpoint; polling again"
                );
                if self.round.is_none() && self.pending_reload.is_none() {
                    self.actions.push(Action::ArmTick { at: now.mono });
                }
            }
            Progress::Verified(verified) => {
                self.fetch = None;
                let agreed = app.agreed.as_ref().map(|a| a.finalized);
                if agreed == Some(verified.checkpoint) {
                    install(app, *verified, now);
                } else {
                    // Fetched early: served once the round publishes the agreement.
                    self.early = Some(verified);
                }
            }
            Progress::Failed {
                upstream,
                failure,
                next,
            } => {
                let verification = matches!(
                    failure.0,
                    UpstreamErrorKind::CheckpointMismatch
                        | UpstreamErrorKind::UnknownLayout
                        | UpstreamErrorKind::InvalidSsz
                        | UpstreamErrorKind::TextInsteadOfSsz
                );
                if verification {
                    app.counters.bundle_failures += 1;
                    if let Some(target) = self.fetch.as_ref().map(|f| f.target) {
                        self.remember_failed(app, target, upstream);
                    }
                }
                record_failure(app, upstream, failure, now);
                match next {
                    Some((u, request)) => {
                        self.queue
                            .push_front((u, request, Purpose::Bundle(self.fetch_id)))
                    }
                    None => {
                        self.fetch = None;
                        tracing::warn!(
                            "no member of the majority served a verifiable bundle this round"
                        );
                    }
                }
            }
        }
    }
}

/// Makes a verified bundle the one served.
fn install(app: &mut AppState, v: Verified, now: Now) {
    let block_digest: [u8; 32] = Sha256::digest(&v.block).into();
    let name = app
        .upstreams
        .get(v.upstream)
        .map_or_else(String::new, |r| r.spec.name.clone());
    tracing::info!(
        slot = v.checkpoint.slot,
        block_root = %root_hex(&v.checkpoint.root),
        state_root = %root_hex(&v.state_roots.state_root),
        state_bytes = v.state.len(),
        from = %name,
        "verified checkpoint bundle"
    );
    app.previous_bundle = app.bundle.take();
    app.bundle = Some(Rc::new(Bundle {
        checkpoint: v.checkpoint,
        block: Rc::new(Blob::new(v.block, block_digest)),
        state: Rc::new(Blob::new(v.state, v.state_roots.state_root)),
        block_root: v.checkpoint.root,
        state_root: v.state_roots.state_root,
        summary: v.state_roots.summary,
        from: name,
        verified_ms: now.wall,
    }));
    app.counters.bundles_verified += 1;
    app.version += 1;
}
