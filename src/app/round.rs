//! The end of a poll round, pure: take this round's votes, decide by strict majority,
//! and update the agreed checkpoint, the history, `error_count` and `last_error`.

use super::{Agreed, AppState, HistoryEntry, RoundView};
use crate::consensus::{decide, ConsensusOptions, Vote};

/// The outcome of `finish_round`, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// A candidate won; `new_checkpoint` is true when it differs from the previous one.
    Agreed { new_checkpoint: bool },
    /// No candidate had a strict majority; the last agreed state is kept.
    NoConsensus,
}

/// Closes a round. `polled` are the upstream indices polled this round and `votes` the
/// responders' votes; each vote's state must be in that upstream's record.
pub fn finish_round(
    app: &mut AppState,
    polled: &[usize],
    votes: &[Vote],
    options: ConsensusOptions,
    now_ms: i64,
    round_ms: u64,
) -> RoundOutcome {
    app.counters.rounds += 1;
    app.counters.last_round_ms = round_ms;
    app.last_updated_ms = now_ms;
    app.version += 1;
    let decision = decide(votes, options);
    app.round = RoundView {
        total_upstreams: app.upstreams.len(),
        responding_upstreams: votes.len(),
        has_consensus: decision.is_some(),
        completed: true,
    };
    let Some(decision) = decision else {
        app.error_count += 1;
        app.last_error = Some(no_consensus_message(app, polled, votes.len()));
        return RoundOutcome::NoConsensus;
    };
    let Some(state) = app
        .upstreams
        .get(decision.state_from)
        .and_then(|u| u.state.clone())
        .filter(|s| s.digest == decision.state_digest)
    else {
        // A vote without its state in the record is a caller bug; never serve other bytes.
        debug_assert!(false, "winning vote has no matching state");
        app.error_count += 1;
        app.last_error = Some("no consensus reached among upstreams".to_string());
        return RoundOutcome::NoConsensus;
    };
    app.last_success_ms = now_ms;
    app.last_error = None;
    let same = app
        .agreed
        .as_ref()
        .is_some_and(|a| a.candidate == decision.candidate && a.state.digest == state.digest);
    let first_agreed_ms = match &app.agreed {
        Some(a) if same => a.first_agreed_ms,
        _ => now_ms,
    };
    if !same {
        app.history.push_back(HistoryEntry {
            candidate: decision.candidate,
            state_digest: state.digest,
            first_agreed_ms,
            agreeing: decision.agreeing,
            responders: decision.responders,
        });
        while app.history.len() > app.history_len {
            app.history.pop_front();
        }
    }
    app.agreed = Some(Agreed {
        candidate: decision.candidate,
        state,
        first_agreed_ms,
        agreeing: decision.agreeing,
        responders: decision.responders,
        identical: decision.identical,
    });
    RoundOutcome::Agreed {
        new_checkpoint: !same,
    }
}

/// `last_error` of a round without consensus, worded as the original did.
fn no_consensus_message(app: &AppState, polled: &[usize], responders: usize) -> String {
    let failed = polled.len().saturating_sub(responders);
    if responders == 0 {
        let names: Vec<String> = polled
            .iter()
            .filter_map(|&i| app.upstreams.get(i))
            .map(|u| format!("{} ({})", u.spec.name, u.spec.url))
            .collect();
        format!("all upstreams failed: {}", names.join(", "))
    } else if failed > 0 {
        format!(
            "{}/{} upstreams unreachable, no consensus",
            failed,
            polled.len()
        )
    } else {
        "no consensus reached among upstreams".to_string()
    }
}
