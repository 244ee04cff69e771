//! A hand-rolled hierarchical timer wheel (pure: it never reads the clock).
//!
//! Time is in whole milliseconds (u64, monotonic, from `Clock::now_ms`). Six levels of
//! 64 slots, an occupied bitmap per level, entries in a `slab` linked by index, cascading
//! from coarse to fine levels as time advances. Handles carry a generation so that
//! cancelling a handle whose timer already fired or was cancelled is a no-op.
//!
//! Layout (after tokio's `runtime/time/wheel`): a slot of level `k` spans `64^k` ms and a
//! level spans `64^(k+1)` ms. A timer with deadline `d > elapsed` lives at the level of the
//! highest 6-bit group in which `d` and `elapsed` differ, in the slot given by that group
//! of `d`. Deadlines that differ from `elapsed` above bit 36 (more than ~795 days ahead)
//! sit in an overflow list; deadlines `<= elapsed` sit in the pending (due) list.
//!
//! Invariant: every occupied slot of level `k` lies strictly after `elapsed`'s own slot
//! of that level, so the next occupied slot is simply `trailing_zeros` of the bitmap, the
//! lowest non-empty level holds the earliest deadlines, and `elapsed` only ever advances
//! to the start of that earliest slot (whose entries then cascade down) or to a `now`
//! before it. Advancing over a gap therefore costs one step per occupied slot, never one
//! per millisecond.

mod list;
#[cfg(test)]
mod tests;

use list::{keys, next_of, Entry, List, Place, NIL};
use slab::Slab;

/// Bits of deadline per level.
const BITS: u32 = 6;
/// Slots per level.
const SLOTS: usize = 1 << BITS;
/// Mask of one 6-bit group.
const SLOT_MASK: u64 = (SLOTS as u64) - 1;
/// Number of levels.
const LEVELS: usize = 6;
/// Total span of the levels (`64^6` ms); deadlines in another such epoch overflow.
const TOP_BITS: u32 = BITS * LEVELS as u32;

/// Identifies one inserted timer. Stale handles (fired or cancelled) are harmless.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimerHandle {
    key: usize,
    generation: u64,
}

/// The wheel. `T` is the payload returned when a timer fires.
pub struct TimerWheel<T> {
    slab: Slab<Entry<T>>,
    lists: Lists,
    /// Occupied slots, one bit per slot, per level.
    occupied: [u64; LEVELS],
    /// The wheel's current time: the last `now` polled or the start of the last slot
    /// processed. Never decreases.
    elapsed: u64,
    /// Generation of the next inserted timer.
    next_generation: u64,
    /// Earliest deadline in the overflow list.
    overflow_min: Option<u64>,
    /// `next_deadline()` as of the last refresh, exact while `next_valid`: inserts lower
    /// it, removing the timer it names clears `next_valid`, a `poll` returning `None`
    /// refreshes it (so the usual "poll until None, then ask" costs O(1)).
    next_cached: Option<u64>,
    next_valid: bool,
    /// Slots (or overflow epochs) processed so far, to test that jumps skip empty time.
    #[cfg(test)]
    cascades: u64,
}

/// All list heads, kept apart from the slab so both can be borrowed at once.
struct Lists {
    slots: [[List; SLOTS]; LEVELS],
    pending: List,
    overflow: List,
}

impl Lists {
    fn get_mut(&mut self, place: Place) -> &mut List {
        match place {
            Place::Pending => &mut self.pending,
            Place::Overflow => &mut self.overflow,
            Place::Slot { level, slot } => {
                &mut self.slots[usize::from(level) % LEVELS][usize::from(slot) % SLOTS]
            }
        }
    }
}

/// The earliest slot holding timers, and the time at which it starts.
#[derive(Debug, Clone, Copy)]
struct Expiration {
    place: Place,
    start: u64,
}

/// The level whose slot for `when` differs from `elapsed`'s (`>= LEVELS`: overflow).
fn level_for(elapsed: u64, when: u64) -> usize {
    let masked = (elapsed ^ when) | SLOT_MASK;
    let significant = 63 - masked.leading_zeros();
    (significant / BITS) as usize
}

impl<T> TimerWheel<T> {
    /// A wheel whose current time is `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        TimerWheel {
            slab: Slab::new(),
            lists: Lists {
                slots: [[List::EMPTY; SLOTS]; LEVELS],
                pending: List::EMPTY,
                overflow: List::EMPTY,
            },
            occupied: [0; LEVELS],
            elapsed: now_ms,
            next_generation: 0,
            overflow_min: None,
            next_cached: None,
            next_valid: true,
            #[cfg(test)]
            cascades: 0,
        }
    }

    /// Arms a timer that fires at the first `poll(now)` with `now >= deadline_ms`.
    /// A deadline in the past fires at the next poll.
    pub fn insert(&mut self, deadline_ms: u64, value: T) -> TimerHandle {
        let generation = self.next_generation;
        self.next_generation = self.next_generation.wrapping_add(1);
        let key = self.slab.insert(Entry {
            deadline: deadline_ms,
            generation,
            value,
            place: Place::Pending,
            prev: NIL,
            next: NIL,
        });
        self.link(key, deadline_ms);
        self.lower_next(deadline_ms);
        TimerHandle { key, generation }
    }

    /// Disarms a timer; returns its payload, or `None` for a stale handle.
    pub fn cancel(&mut self, handle: TimerHandle) -> Option<T> {
        if !self.is_live(handle) {
            return None;
        }
        self.unlink(handle.key);
        let e = self.slab.try_remove(handle.key)?;
        self.forget_next(e.deadline);
        Some(e.value)
    }

    /// Moves a live timer to a new deadline, keeping its handle valid; `false` (and no
    /// change) for a stale handle.
    pub fn reset(&mut self, handle: TimerHandle, deadline_ms: u64) -> bool {
        if !self.is_live(handle) {
            return false;
        }
        self.unlink(handle.key);
        if let Some(e) = self.slab.get_mut(handle.key) {
            self.next_valid &= self.next_cached != Some(e.deadline);
            e.deadline = deadline_ms;
        }
        self.link(handle.key, deadline_ms);
        self.lower_next(deadline_ms);
        true
    }

    /// The deadline of a live timer, or `None` for a stale handle.
    pub fn deadline(&self, handle: TimerHandle) -> Option<u64> {
        self.slab
            .get(handle.key)
            .filter(|e| e.generation == handle.generation)
            .map(|e| e.deadline)
    }

    /// Advances the wheel to `now_ms` and pops one expired timer (deadline <= now_ms),
    /// or `None` when none is due. Call repeatedly until `None`.
    ///
    /// Timers come out in deadline order, except that a timer inserted with a deadline
    /// already behind the wheel's time queues behind those already due. A `now_ms`
    /// earlier than a previous poll does not move the wheel back; it only returns timers
    /// whose deadline is `<= now_ms`.
    pub fn poll(&mut self, now_ms: u64) -> Option<(TimerHandle, T)> {
        if now_ms < self.elapsed {
            let key = keys(&self.slab, self.lists.pending.head)
                .find(|&k| self.slab.get(k).is_some_and(|e| e.deadline <= now_ms))?;
            return self.pop(key);
        }
        loop {
            if !self.lists.pending.is_empty() {
                return self.pop(self.lists.pending.head);
            }
            match self.next_expiration() {
                Some(exp) if exp.start <= now_ms => {
                    self.elapsed = exp.start;
                    self.cascade(exp.place);
                }
                _ => {
                    self.elapsed = now_ms;
                    if !self.next_valid {
                        self.next_cached = self.compute_next_deadline();
                        self.next_valid = true;
                    }
                    return None;
                }
            }
        }
    }

    /// The earliest deadline of any live timer (exact, not slot-rounded), or `None`.
    ///
    /// Cost: O(1) after a `poll` returned `None` or when the earliest timer has not been
    /// removed since; otherwise O(levels) plus a walk of the due list (normally empty
    /// between polls) or of the one earliest slot (a single deadline at level 0).
    pub fn next_deadline(&self) -> Option<u64> {
        if self.next_valid {
            debug_assert_eq!(self.next_cached, self.compute_next_deadline());
            return self.next_cached;
        }
        self.compute_next_deadline()
    }

    fn compute_next_deadline(&self) -> Option<u64> {
        if !self.lists.pending.is_empty() {
            return self.min_deadline(self.lists.pending.head);
        }
        let exp = self.next_expiration()?;
        match exp.place {
            // A level-0 slot holds exactly one deadline: its start.
            Place::Slot { level: 0, .. } => Some(exp.start),
            Place::Slot { level, slot } => {
                let head =
                    self.lists.slots[usize::from(level) % LEVELS][usize::from(slot) % SLOTS].head;
                self.min_deadline(head)
            }
            Place::Overflow | Place::Pending => self.overflow_min,
        }
    }

    /// Number of live timers.
    pub fn len(&self) -> usize {
        self.slab.len()
    }

    /// `true` when no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The wheel's current time (the last time it was advanced to).
    pub fn elapsed(&self) -> u64 {
        self.elapsed
    }

    fn is_live(&self, handle: TimerHandle) -> bool {
        self.slab
            .get(handle.key)
            .is_some_and(|e| e.generation == handle.generation)
    }

    /// A timer with `deadline` was armed: keep the cache exact.
    fn lower_next(&mut self, deadline: u64) {
        if self.next_valid {
            self.next_cached = Some(self.next_cached.map_or(deadline, |d| d.min(deadline)));
        }
    }

    /// A timer with `deadline` was removed: the cache is stale if it named that deadline.
    fn forget_next(&mut self, deadline: u64) {
        self.next_valid &= self.next_cached != Some(deadline);
    }

    fn min_deadline(&self, head: usize) -> Option<u64> {
        keys(&self.slab, head)
            .filter_map(|k| self.slab.get(k).map(|e| e.deadline))
            .min()
    }

    /// Unlinks and removes `key`, returning its handle and payload.
    fn pop(&mut self, key: usize) -> Option<(TimerHandle, T)> {
        self.unlink(key);
        let e = self.slab.try_remove(key)?;
        self.forget_next(e.deadline);
        let handle = TimerHandle {
            key,
            generation: e.generation,
        };
        Some((handle, e.value))
    }

    /// Links an unlinked entry where `deadline` belongs relative to `elapsed`.
    fn link(&mut self, key: usize, deadline: u64) {
        let place = if deadline <= self.elapsed {
            Place::Pending
        } else {
            let level = level_for(self.elapsed, deadline);
            if level >= LEVELS {
                self.overflow_min = Some(self.overflow_min.map_or(deadline, |m| m.min(deadline)));
                Place::Overflow
            } else {
                let slot = (deadline >> (BITS * level as u32)) & SLOT_MASK;
                self.occupied[level] |= 1 << slot;
                Place::Slot {
                    level: level as u8,
                    slot: slot as u8,
                }
            }
        };
        if let Some(e) = self.slab.get_mut(key) {
            e.place = place;
        }
        self.lists.get_mut(place).push_back(&mut self.slab, key);
    }

    /// Unlinks a linked entry, keeping the bitmaps and the overflow minimum exact.
    fn unlink(&mut self, key: usize) {
        let Some(e) = self.slab.get(key) else { return };
        let (place, deadline) = (e.place, e.deadline);
        let list = self.lists.get_mut(place);
        list.unlink(&mut self.slab, key);
        match place {
            Place::Slot { level, slot } if list.is_empty() => {
                self.occupied[usize::from(level) % LEVELS] &= !(1u64 << (slot % 64));
            }
            Place::Overflow if self.overflow_min == Some(deadline) => {
                self.overflow_min = self.min_deadline(self.lists.overflow.head);
            }
            _ => {}
        }
    }

    /// The earliest occupied slot (lowest non-empty level, lowest occupied slot), or
    /// the overflow epoch of the earliest far deadline.
    fn next_expiration(&self) -> Option<Expiration> {
        for (level, &occupied) in self.occupied.iter().enumerate() {
            if occupied == 0 {
                continue;
            }
            let slot = u64::from(occupied.trailing_zeros());
            let shift = BITS * level as u32;
            let level_start = self.elapsed & !((1u64 << (shift + BITS)) - 1);
            debug_assert!(slot > (self.elapsed >> shift) & SLOT_MASK);
            return Some(Expiration {
                place: Place::Slot {
                    level: level as u8,
                    slot: slot as u8,
                },
                start: level_start | (slot << shift),
            });
        }
        self.overflow_min.map(|d| Expiration {
            place: Place::Overflow,
            start: d & !((1u64 << TOP_BITS) - 1),
        })
    }

    /// Re-files the entries of the slot (or overflow epoch) that starts at `elapsed`:
    /// due ones become pending, the others move to finer levels.
    fn cascade(&mut self, place: Place) {
        #[cfg(test)]
        {
            self.cascades += 1;
        }
        match place {
            Place::Slot { level, slot } => {
                self.occupied[usize::from(level) % LEVELS] &= !(1u64 << (slot % 64));
                let mut key = self.lists.get_mut(place).take();
                while key != NIL {
                    let next = next_of(&self.slab, key);
                    if let Some(deadline) = self.slab.get(key).map(|e| e.deadline) {
                        self.link(key, deadline);
                    }
                    key = next;
                }
            }
            Place::Overflow => {
                let epoch = self.elapsed >> TOP_BITS;
                let mut key = self.lists.overflow.head;
                while key != NIL {
                    let next = next_of(&self.slab, key);
                    if let Some(deadline) = self.slab.get(key).map(|e| e.deadline) {
                        if deadline >> TOP_BITS == epoch {
                            self.lists.overflow.unlink(&mut self.slab, key);
                            self.link(key, deadline);
                        }
                    }
                    key = next;
                }
                self.overflow_min = self.min_deadline(self.lists.overflow.head);
            }
            Place::Pending => {}
        }
    }
}

impl<T> std::fmt::Debug for TimerWheel<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerWheel")
            .field("elapsed", &self.elapsed)
            .field("len", &self.len())
            .field("next_deadline", &self.next_deadline())
            .finish()
    }
}
