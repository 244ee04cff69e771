//! Who makes room at the inbound cap: a pure ranking over a view of the connections,
//! without sockets or clocks (time is passed in).
//!
//! A newcomer displaces, in this order:
//! 1. the connection idle the longest: a keep-alive connection that has served a request
//!    and holds nothing, or one lingering after its last reply;
//! 2. the connection that has waited longest for its request head, once it has waited at
//!    least the head grace (`--head-grace-ms`) and is trickling: fewer than
//!    [`HEAD_RATE_BYTES`] received per grace window waited. A head arriving faster is
//!    left alone (it is at most 8 KiB, so it completes or is refused within 8 windows);
//!    one that sent a burst and stalled becomes a candidate once its average drops;
//! 3. the longest-stalled writer among the replies that have been writing for at least
//!    the write-stall timeout (a slow reader that keeps progressing still gives up its
//!    slot eventually).
//!
//! When nobody qualifies, the ranking also says when the first connection will (if
//! nothing else changes), so the listener can arm one timer instead of polling.

/// Bytes a request head must receive per grace window not to count as trickling.
pub const HEAD_RATE_BYTES: u64 = 1024;

/// What a connection is doing, as admission sees it (monotonic ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// Served at least one request and holds nothing, or lingering after its last reply.
    Idle { since: u64 },
    /// Waiting for (the rest of) a request head: since when (the accept, for the first
    /// request), and how many bytes of it have arrived.
    Head { since: u64, received: usize },
    /// Replies queued: since when without a break, and the last write progress.
    Writing { since: u64, last_progress: u64 },
}

/// The thresholds of admission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// A head-waiter is never displaced before it has waited this long.
    pub head_grace_ms: u64,
    /// A writer is never displaced before it has been writing this long.
    pub write_timeout_ms: u64,
}

/// The candidates to displace, best first, and when the next one may appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranking<K> {
    /// Idle connections (oldest first), then trickling heads (longest waiting first),
    /// then overdue writers (longest stalled first).
    pub victims: Vec<K>,
    /// The earliest time a connection that is not a candidate now would become one,
    /// were nothing else to change (None: none ever will by waiting).
    pub next_at: Option<u64>,
}

/// When a head that started at `since` with `received` bytes becomes a candidate: once
/// it has waited the grace and fewer than `HEAD_RATE_BYTES` per grace window.
fn head_eligible_at(since: u64, received: usize, grace: u64) -> u64 {
    let received = u64::try_from(received).unwrap_or(u64::MAX);
    // received < RATE * waited / grace  <=>  waited > received * grace / RATE
    let by_rate = received.saturating_mul(grace) / HEAD_RATE_BYTES + 1;
    since.saturating_add(grace.max(by_rate))
}

/// Ranks `conns` for displacement at monotonic time `now`.
pub fn rank<K: Copy>(
    conns: impl IntoIterator<Item = (K, Activity)>,
    now: u64,
    policy: &Policy,
) -> Ranking<K> {
    let mut idle: Vec<(u64, K)> = Vec::new();
    let mut heads: Vec<(u64, K)> = Vec::new();
    let mut writers: Vec<(u64, K)> = Vec::new();
    let mut next_at: Option<u64> = None;
    let mut later = |at: u64| next_at = Some(next_at.map_or(at, |n| n.min(at)));
    for (key, activity) in conns {
        match activity {
            Activity::Idle { since } => idle.push((since, key)),
            Activity::Head { since, received } => {
                let at = head_eligible_at(since, received, policy.head_grace_ms);
                if at <= now {
                    heads.push((since, key));
                } else {
                    later(at);
                }
            }
            Activity::Writing {
                since,
                last_progress,
            } => {
                let at = since.saturating_add(policy.write_timeout_ms);
                if at <= now {
                    writers.push((last_progress, key));
                } else {
                    later(at);
                }
            }
        }
    }
    // Stable sorts: equal times keep the order the connections were given in.
    idle.sort_by_key(|&(t, _)| t);
    heads.sort_by_key(|&(t, _)| t);
    writers.sort_by_key(|&(t, _)| t);
    let victims = idle
        .into_iter()
        .chain(heads)
        .chain(writers)
        .map(|(_, k)| k)
        .collect();
    Ranking { victims, next_at }
}

#[cfg(test)]
#[path = "admission_tests.rs"]
mod tests;
