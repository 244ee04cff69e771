//! The lifecycle of an inbound connection as one type: the phase it is in, what that
//! phase is waiting for, and the one deadline it arms (docs/server-lifecycle.md).
//!
//! ```text
//!  accept ─▶ AwaitingHead ──head complete, reply queued──▶ Answering ──all written──▶ Idle
//!              ▲                                              │                        │
//!              │                 partial next head buffered ◀─┘                        │
//!              └─────────────────────── first byte of the next head ◀──────────────────┘
//!  Answering ──last reply of a closing connection written──▶ Lingering ──▶ closed
//! ```

/// Which deadline a phase arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// `--header-timeout-ms`: the whole head must arrive by then.
    Head,
    /// `--idle-timeout-ms`: keep-alive with nothing pending.
    Idle,
    /// `--write-timeout-ms`: queued output must make progress by then.
    Write,
    /// The lingering close: `min(2000 ms, --write-timeout-ms)` from its start.
    Linger,
}

/// Where an inbound connection is. Every field is a monotonic ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for (the rest of) a request head since `since`: for the first request
    /// the accept (waiting before the first byte buys no time), later the head's first
    /// byte. Arms [`Deadline::Head`]; bytes that arrive never push it back.
    AwaitingHead { since: u64 },
    /// Replies queued since `since` (output went from empty to non-empty); the last
    /// write that made progress was at `last_progress`. A next head partly buffered
    /// behind them started arriving at `head_since`. Arms [`Deadline::Write`] from
    /// `last_progress`.
    Answering {
        since: u64,
        last_progress: u64,
        head_since: Option<u64>,
    },
    /// Keep-alive: at least one request served, nothing buffered either way, since
    /// `since`. Arms [`Deadline::Idle`].
    Idle { since: u64 },
    /// The last reply is written and the write side shut (FIN); the peer's bytes are
    /// discarded until it closes. Arms [`Deadline::Linger`] from `since`.
    Lingering { since: u64 },
}

impl Phase {
    /// The deadline this phase arms and the moment it counts from.
    pub fn deadline(self) -> (Deadline, u64) {
        match self {
            Phase::AwaitingHead { since } => (Deadline::Head, since),
            Phase::Answering { last_progress, .. } => (Deadline::Write, last_progress),
            Phase::Idle { since } => (Deadline::Idle, since),
            Phase::Lingering { since } => (Deadline::Linger, since),
        }
    }

    /// Output was queued to an empty queue at `now`; `head_since` is when a head still
    /// buffered started arriving, if one is.
    pub fn on_output_queued(self, now: u64, head_since: Option<u64>) -> Phase {
        match self {
            Phase::Answering { .. } | Phase::Lingering { .. } => self,
            _ => Phase::Answering {
                since: now,
                last_progress: now,
                head_since,
            },
        }
    }

    /// The first byte of a head arrived at `now` with nothing buffered before it.
    pub fn on_head_started(self, now: u64) -> Phase {
        match self {
            Phase::Idle { .. } => Phase::AwaitingHead { since: now },
            Phase::Answering {
                since,
                last_progress,
                head_since: None,
            } => Phase::Answering {
                since,
                last_progress,
                head_since: Some(now),
            },
            other => other,
        }
    }

    /// Requests were consumed at `now`; `rest_buffered` when part of a next head remains
    /// (its deadline starts now).
    pub fn on_consumed(self, now: u64, rest_buffered: bool) -> Phase {
        let head_since = rest_buffered.then_some(now);
        match self {
            Phase::Answering {
                since,
                last_progress,
                ..
            } => Phase::Answering {
                since,
                last_progress,
                head_since,
            },
            Phase::Lingering { .. } => self,
            _ if rest_buffered => Phase::AwaitingHead { since: now },
            _ => Phase::Idle { since: now },
        }
    }

    /// A write made progress at `now`; `drained` when the queue is now empty.
    pub fn on_written(self, now: u64, drained: bool) -> Phase {
        match self {
            Phase::Answering {
                since, head_since, ..
            } if !drained => Phase::Answering {
                since,
                last_progress: now,
                head_since,
            },
            Phase::Answering {
                head_since: Some(at),
                ..
            } => Phase::AwaitingHead { since: at },
            Phase::Answering {
                head_since: None, ..
            } => Phase::Idle { since: now },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keep_alive_request_goes_round_the_phases_with_their_deadlines() {
        let accepted = Phase::AwaitingHead { since: 5 };
        assert_eq!(accepted.deadline(), (Deadline::Head, 5));
        // The first head's first byte does not move its deadline.
        assert_eq!(accepted.on_head_started(9), accepted);
        let answering = accepted.on_output_queued(12, None).on_consumed(12, false);
        assert_eq!(answering.deadline(), (Deadline::Write, 12));
        let stalled = answering.on_written(40, false);
        assert_eq!(stalled.deadline(), (Deadline::Write, 40));
        let idle = stalled.on_written(50, true);
        assert_eq!(idle, Phase::Idle { since: 50 });
        assert_eq!(idle.deadline(), (Deadline::Idle, 50));
        assert_eq!(idle.on_head_started(70), Phase::AwaitingHead { since: 70 });
    }

    #[test]
    fn a_head_buffered_behind_replies_counts_from_its_first_byte() {
        let answering = Phase::AwaitingHead { since: 0 }.on_output_queued(10, None);
        // The rest of the pipeline stays buffered when the first request is consumed.
        let with_head = answering.on_consumed(10, true);
        assert_eq!(
            with_head.on_written(30, true),
            Phase::AwaitingHead { since: 10 }
        );
        // A head whose first byte arrives while replies are still queued.
        let late = answering.on_consumed(10, false).on_head_started(20);
        assert_eq!(late.on_written(30, true), Phase::AwaitingHead { since: 20 });
    }

    #[test]
    fn lingering_keeps_its_start_whatever_happens() {
        let lingering = Phase::Lingering { since: 3 };
        assert_eq!(lingering.deadline(), (Deadline::Linger, 3));
        assert_eq!(lingering.on_head_started(9), lingering);
        assert_eq!(lingering.on_output_queued(9, None), lingering);
        assert_eq!(lingering.on_written(9, true), lingering);
        assert_eq!(lingering.on_consumed(9, true), lingering);
    }
}
