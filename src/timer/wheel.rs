//! A hand-rolled hierarchical timer wheel (pure: it never reads the clock).
//!
//! Time is in whole milliseconds (u64, monotonic, from `Clock::now_ms`). Six levels of
//! 64 slots, an occupied bitmap per level, entries in a `slab` linked by index, cascading
//! from coarse to fine levels as time advances. Handles carry a generation so that
//! cancelling a handle whose timer already fired or was cancelled is a no-op.

/// Identifies one inserted timer. Stale handles (fired or cancelled) are harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerHandle {
    key: usize,
    generation: u64,
}

/// The wheel. `T` is the payload returned when a timer fires.
pub struct TimerWheel<T> {
    _p: std::marker::PhantomData<T>,
}

impl<T> TimerWheel<T> {
    /// A wheel whose current time is `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        let _ = now_ms;
        todo!()
    }

    /// Arms a timer that fires at the first `poll(now)` with `now >= deadline_ms`.
    /// A deadline in the past fires at the next poll.
    pub fn insert(&mut self, deadline_ms: u64, value: T) -> TimerHandle {
        let _ = (deadline_ms, value);
        todo!()
    }

    /// Disarms a timer; returns its payload, or `None` for a stale handle.
    pub fn cancel(&mut self, handle: TimerHandle) -> Option<T> {
        let _ = handle;
        todo!()
    }

    /// Advances the wheel to `now_ms` and pops one expired timer (deadline <= now_ms),
    /// or `None` when none is due. Call repeatedly until `None`.
    pub fn poll(&mut self, now_ms: u64) -> Option<(TimerHandle, T)> {
        let _ = now_ms;
        todo!()
    }

    /// The earliest deadline of any live timer (exact, not slot-rounded), or `None`.
    pub fn next_deadline(&self) -> Option<u64> {
        todo!()
    }

    /// Number of live timers.
    pub fn len(&self) -> usize {
        todo!()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
