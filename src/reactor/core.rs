//! What every handler of the loop shares: the timer wheel, the socket slab, the
//! application state and the current time.

use super::sockets::Sockets;
use crate::app::AppState;
use crate::timer::{Clock, TimerHandle, TimerWheel};
use mio::Token;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerEvent {
    /// Start the next poll round.
    RoundTick,
    /// The deadline of the socket behind this token.
    Socket(Token),
    /// Try accepting again: after EMFILE/ENFILE, or when a connection becomes a
    /// candidate for displacement at the cap (the handle tells which listener's timer).
    AcceptRetry,
}

/// Shared state of the loop.
pub struct Core {
    pub timers: TimerWheel<TimerEvent>,
    pub sockets: Sockets,
    pub app: AppState,
    pub clock: Clock,
    /// Monotonic ms at the last wake-up.
    pub now: u64,
}

impl Core {
    pub fn new(app: AppState) -> Self {
        let clock = Clock::new();
        let now = clock.now_ms();
        Core {
            timers: TimerWheel::new(now),
            sockets: Sockets::default(),
            app,
            clock,
            now,
        }
    }

    /// Wall-clock ms since the Unix epoch.
    pub fn wall_ms(&self) -> i64 {
        Clock::wall_ms()
    }
}

/// Re-arms `slot` to fire `event` at `deadline`, cancelling what it held.
pub fn rearm(
    timers: &mut TimerWheel<TimerEvent>,
    slot: &mut Option<TimerHandle>,
    deadline: u64,
    event: TimerEvent,
) {
    if let Some(old) = slot.take() {
        timers.cancel(old);
    }
    *slot = Some(timers.insert(deadline, event));
}

/// Disarms `slot`.
pub fn disarm(timers: &mut TimerWheel<TimerEvent>, slot: &mut Option<TimerHandle>) {
    if let Some(old) = slot.take() {
        timers.cancel(old);
    }
}
