//! The end of a poll round, pure: take this round's votes, decide by strict majority on
//! the finalized checkpoint, and update the agreed checkpoint (its justified checkpoint
//! never going backwards), the history, `error_count` and `last_error`; then sample the
//! timeline.

use super::{Agreed, AppState, HistoryEntry, RoundView};
use crate::consensus::{decide, Vote};

/// The outcome of `finish_round`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoundOutcome {
    /// A finalized checkpoint won; `new_checkpoint` is true when it differs from the
    /// previously agreed one.
    Agreed { new_checkpoint: bool },
    /// No candidate had a strict majority; the last agreement is kept.
    NoConsensus,
}

/// Closes a round. `polled` are the upstream indices polled this round and `votes` the
/// responders' votes. Every upstream and the agreed slot are then sampled into the
/// timeline, at `now_ms`.
pub fn finish_round(
    app: &mut AppState,
    polled: &[usize],
    votes: &[Vote],
    now_ms: i64,
    round_ms: u64,
) -> RoundOutcome {
    let outcome = decide_round(app, polled, votes, now_ms, round_ms);
    let consensus = matches!(outcome, RoundOutcome::Agreed { .. });
    app.timeline
        .record_round(&app.upstreams, app.agreed.as_ref(), consensus, now_ms);
    outcome
}

/// The decision of a round and its effect on the agreed checkpoint, the history and
/// the counters.
fn decide_round(
    app: &mut AppState,
    polled: &[usize],
    votes: &[Vote],
    now_ms: i64,
    round_ms: u64,
) -> RoundOutcome {
    app.counters.rounds += 1;
    app.counters.last_round_ms = round_ms;
    app.last_updated_ms = now_ms;
    app.version += 1;
    let decision = decide(votes);
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
    app.last_success_ms = now_ms;
    app.last_error = None;
    let previous = app.agreed.take();
    let same = previous
        .as_ref()
        .is_some_and(|a| a.finalized == decision.finalized);
    let first_agreed_ms = match &previous {
        Some(a) if same => a.first_agreed_ms,
        _ => now_ms,
    };
    // The justified checkpoint reported never goes backwards.
    let justified = match &previous {
        Some(a) if a.justified.slot > decision.justified.slot => a.justified,
        _ => decision.justified,
    };
    if !same {
        app.history.push_back(HistoryEntry {
            finalized: decision.finalized,
            justified,
            first_agreed_ms,
            agreeing: decision.agreeing(),
            responders: decision.responders,
        });
        while app.history.len() > app.history_len {
            app.history.pop_front();
        }
    }
    // Serve the fork choice of a member that has one, the same one while it stays.
    let has_fork_choice = |u: usize| {
        decision.members.contains(&u)
            && app
                .upstreams
                .get(u)
                .is_some_and(|r| r.fork_choice.is_some())
    };
    app.fork_choice_from = app
        .fork_choice_from
        .filter(|&u| has_fork_choice(u))
        .or_else(|| {
            decision
                .members
                .iter()
                .copied()
                .find(|&u| has_fork_choice(u))
        });
    app.agreed = Some(Agreed {
        finalized: decision.finalized,
        justified,
        first_agreed_ms,
        members: decision.members,
        responders: decision.responders,
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
