//! Writing one poll's result into the application state: the upstream's record, its
//! vote, and the state bytes, shared with identical states already held so that each
//! distinct state is in memory once.

use super::poll::{error_at, FetchedState, PollResult};
use crate::app::StateBlob;
use crate::consensus::{Candidate, Vote};
use crate::reactor::core::Core;
use std::rc::Rc;

/// Writes one poll's result into the upstream's record; returns its vote, if any.
pub(super) fn record_result(
    core: &mut Core,
    u: usize,
    result: PollResult,
    latency: u64,
    wall: i64,
) -> Option<Vote> {
    let PollResult {
        state,
        justified,
        fork_choice,
        errors,
    } = result;
    let shared = state.map(|fetched| match fetched {
        FetchedState::Same(held) => {
            core.app.counters.states_matched += 1;
            held
        }
        FetchedState::New(bytes, summary) => {
            core.app.counters.states_stored += 1;
            share_state(core, u, bytes, summary)
        }
    });
    let app = &mut core.app;
    app.version += 1;
    let record = &mut app.upstreams[u];
    record.in_flight = false;
    record.last_latency_ms = Some(latency);
    let was_healthy = record.healthy;
    let previous_kind = record.last_error.as_ref().map(|e| e.kind);
    for (kind, detail) in errors {
        if Some(kind) != previous_kind || (was_healthy && shared.is_none()) {
            tracing::warn!(upstream = %record.spec.name, kind = kind.as_str(), "{detail}");
        }
        record.record_error(error_at(kind, detail, wall));
    }
    if shared.is_some() && !was_healthy && record.last_success_ms.is_some() {
        tracing::info!(upstream = %record.spec.name, "upstream recovered");
    }
    if let Some((body, summary)) = fork_choice {
        record.head_slot = summary.head_slot;
        record.fork_choice = Some(Rc::from(body.into_boxed_slice()));
    }
    let Some(blob) = shared else {
        record.healthy = false;
        return None;
    };
    let finalized_slot = blob.summary.slot;
    let (justified_slot, justified_root) = match justified {
        Some(c) => (c.slot, Some(c.root)),
        None => (finalized_slot, None),
    };
    record.healthy = true;
    record.last_success_ms = Some(wall);
    record.last_finalized_slot = Some(finalized_slot);
    record.justified_from_endpoint = justified.is_some();
    record.last_justified = justified.or(Some(crate::lean::Checkpoint {
        slot: finalized_slot,
        root: [0; 32],
    }));
    let digest = blob.digest;
    record.state = Some(blob);
    Some(Vote {
        upstream: u,
        candidate: Candidate {
            justified_slot,
            justified_root,
            finalized_slot,
        },
        state_digest: digest,
    })
}

/// The state a poll of upstream `u` most likely returns: the agreed one, else its last.
pub(super) fn reference_state(app: &crate::app::AppState, u: usize) -> Option<Rc<StateBlob>> {
    app.agreed
        .as_ref()
        .map(|a| a.state.clone())
        .or_else(|| app.upstreams.get(u).and_then(|r| r.state.clone()))
}

/// Wraps fetched bytes, sharing the one copy when an identical state is already held.
/// Most rounds nothing changed, so the bytes are first compared with the agreed state
/// and this upstream's previous one (a memcmp), and hashed only when new.
fn share_state(
    core: &Core,
    u: usize,
    bytes: Vec<u8>,
    summary: crate::lean::ssz::StateSummary,
) -> Rc<StateBlob> {
    let app = &core.app;
    let previous = app.upstreams.get(u).and_then(|r| r.state.as_ref());
    if let Some(same) = app
        .agreed
        .iter()
        .map(|a| &a.state)
        .chain(previous)
        .find(|s| *s.bytes == *bytes)
    {
        return same.clone();
    }
    let digest = crate::app::state_blob::digest_of(&bytes);
    let held = app
        .upstreams
        .iter()
        .filter_map(|r| r.state.as_ref())
        .find(|s| s.digest == digest && s.bytes.len() == bytes.len());
    match held {
        Some(existing) => existing.clone(),
        None => Rc::new(StateBlob::with_digest(bytes, summary, digest)),
    }
}
