//! The one timer a thing may have armed (a connection's deadline, a listener's retry,
//! the round tick): re-armed in place, disarmed when the thing closes, and claimed by
//! the handle that fired. A handle carries its wheel generation, so a firing that is not
//! the one armed last claims nothing and does nothing.

use super::{TimerHandle, TimerWheel};

/// At most one armed timer.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TimerSlot(Option<TimerHandle>);

impl TimerSlot {
    /// Arms `payload` at `deadline`, cancelling what the slot held.
    pub fn rearm<T>(&mut self, wheel: &mut TimerWheel<T>, deadline: u64, payload: T) {
        self.disarm(wheel);
        self.0 = Some(wheel.insert(deadline, payload));
    }

    /// Cancels what the slot held.
    pub fn disarm<T>(&mut self, wheel: &mut TimerWheel<T>) {
        if let Some(old) = self.0.take() {
            wheel.cancel(old);
        }
    }

    /// Whether `fired` is the timer this slot armed last; if so the slot is empty after.
    pub fn claim(&mut self, fired: TimerHandle) -> bool {
        if self.0 != Some(fired) {
            return false;
        }
        self.0 = None;
        true
    }

    /// Whether a timer is armed.
    pub fn is_armed(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_armed_handle_claims() {
        let mut wheel = TimerWheel::new(0);
        let mut slot = TimerSlot::default();
        slot.rearm(&mut wheel, 10, "first");
        slot.rearm(&mut wheel, 20, "second");
        assert_eq!(wheel.len(), 1, "re-arming cancels the first");
        let (handle, payload) = wheel.poll(20).expect("the second fires");
        assert_eq!(payload, "second");
        assert!(slot.claim(handle));
        assert!(!slot.is_armed());
        assert!(!slot.claim(handle), "claimed once");
    }

    #[test]
    fn a_superseded_firing_claims_nothing() {
        let mut wheel = TimerWheel::new(0);
        let mut slot = TimerSlot::default();
        slot.rearm(&mut wheel, 10, 1);
        let (stale, _) = wheel.poll(10).expect("fires");
        // Re-armed after it fired but before its event was handled.
        slot.rearm(&mut wheel, 30, 2);
        assert!(!slot.claim(stale));
        assert!(slot.is_armed());
        slot.disarm(&mut wheel);
        assert!(wheel.is_empty());
    }
}
