//! Tests of the timer wheel: hand-written cases, then a randomized comparison against a
//! `BTreeMap` model.

use super::*;
use std::collections::{BTreeMap, HashMap};

/// Polls at `now` until `None`, returning `(deadline, value)` pairs in firing order and
/// checking that nothing fires early.
fn drain(w: &mut TimerWheel<u64>, now: u64, deadlines: &BTreeMap<u64, u64>) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    while let Some((_, v)) = w.poll(now) {
        let d = deadlines[&v];
        assert!(d <= now, "timer {v} with deadline {d} fired early at {now}");
        out.push((d, v));
    }
    out
}

/// Inserts `(deadline, value)` pairs, remembering each value's deadline.
fn fill(w: &mut TimerWheel<u64>, items: &[(u64, u64)]) -> BTreeMap<u64, u64> {
    let mut deadlines = BTreeMap::new();
    for &(d, v) in items {
        w.insert(d, v);
        deadlines.insert(v, d);
    }
    deadlines
}

#[test]
fn fires_in_deadline_order_and_never_early() {
    let mut w = TimerWheel::new(1_000);
    let items = [
        (1_500, 1),
        (1_001, 2),
        (70_000, 3),
        (1_064, 4),
        (5_000_000, 5),
    ];
    let ds = fill(&mut w, &items);
    assert_eq!(w.len(), 5);
    assert_eq!(w.next_deadline(), Some(1_001));
    assert_eq!(w.poll(1_000), None);
    assert!(drain(&mut w, 1_000, &ds).is_empty());
    assert_eq!(drain(&mut w, 1_001, &ds), vec![(1_001, 2)]);
    assert_eq!(w.next_deadline(), Some(1_064));
    assert!(drain(&mut w, 1_063, &ds).is_empty());
    assert_eq!(w.next_deadline(), Some(1_064));
    let fired = drain(&mut w, 69_999, &ds);
    assert_eq!(fired, vec![(1_064, 4), (1_500, 1)]);
    assert_eq!(w.next_deadline(), Some(70_000));
    assert_eq!(
        drain(&mut w, u64::MAX, &ds),
        vec![(70_000, 3), (5_000_000, 5)]
    );
    assert!(w.is_empty());
    assert_eq!(w.next_deadline(), None);
}

#[test]
fn same_deadline_fires_all_in_insertion_order() {
    let mut w = TimerWheel::new(0);
    let items: Vec<(u64, u64)> = (0..100).map(|v| (4_242, v)).collect();
    let ds = fill(&mut w, &items);
    assert_eq!(w.next_deadline(), Some(4_242));
    assert!(drain(&mut w, 4_241, &ds).is_empty());
    let fired: Vec<u64> = drain(&mut w, 4_242, &ds).into_iter().map(|p| p.1).collect();
    assert_eq!(fired, (0..100).collect::<Vec<_>>());
}

#[test]
fn past_and_present_deadlines_fire_at_next_poll() {
    let mut w = TimerWheel::new(10_000);
    let ds = fill(&mut w, &[(3, 1), (10_000, 2), (9_999, 3)]);
    assert_eq!(w.next_deadline(), Some(3));
    let mut fired: Vec<u64> = drain(&mut w, 10_000, &ds)
        .into_iter()
        .map(|p| p.1)
        .collect();
    fired.sort_unstable();
    assert_eq!(fired, vec![1, 2, 3]);
    // Inserted between polls, behind the wheel's time.
    w.insert(10, 7);
    assert_eq!(w.next_deadline(), Some(10));
    assert_eq!(w.poll(10_000).map(|p| p.1), Some(7));
}

#[test]
fn poll_with_earlier_time_never_fires_early() {
    let mut w = TimerWheel::new(0);
    assert_eq!(w.poll(1_000), None);
    w.insert(900, 1);
    w.insert(500, 2);
    assert_eq!(w.poll(400), None);
    assert_eq!(w.poll(600).map(|p| p.1), Some(2));
    assert_eq!(w.poll(600), None);
    assert_eq!(w.elapsed(), 1_000);
    assert_eq!(w.poll(1_000).map(|p| p.1), Some(1));
}

#[test]
fn cancel_returns_payload_once() {
    let mut w = TimerWheel::new(0);
    let a = w.insert(100, "a");
    let b = w.insert(100, "b");
    let c = w.insert(300_000, "c");
    assert_eq!(w.cancel(a), Some("a"));
    assert_eq!(w.cancel(a), None);
    assert_eq!(w.cancel(c), Some("c"));
    assert_eq!(w.len(), 1);
    assert_eq!(w.next_deadline(), Some(100));
    assert_eq!(w.poll(1_000_000).map(|p| p.1), Some("b"));
    assert_eq!(w.poll(1_000_000), None);
    assert_eq!(w.cancel(b), None);
}

#[test]
fn stale_handle_after_fire_and_key_reuse_is_noop() {
    let mut w = TimerWheel::new(0);
    let old = w.insert(5, 1u32);
    let (fired, v) = w.poll(5).expect("due");
    assert_eq!((fired, v), (old, 1));
    assert_eq!(w.cancel(old), None);
    // The slab reuses the key; the generation tells the handles apart.
    let new = w.insert(50, 2);
    assert_eq!(new.key, old.key);
    assert_ne!(new, old);
    assert_eq!(w.cancel(old), None);
    assert!(!w.reset(old, 7));
    assert_eq!(w.deadline(old), None);
    assert_eq!(w.deadline(new), Some(50));
    assert_eq!(w.len(), 1);
    assert_eq!(w.cancel(new), Some(2));
}

#[test]
fn reset_moves_a_timer_and_keeps_its_handle() {
    let mut w = TimerWheel::new(0);
    let h = w.insert(100, 1);
    w.insert(200, 2);
    assert!(w.reset(h, 300));
    assert_eq!(w.next_deadline(), Some(200));
    assert_eq!(w.poll(250).map(|p| p.1), Some(2));
    assert_eq!(w.poll(250), None);
    assert!(w.reset(h, 10));
    assert_eq!(w.poll(250), Some((h, 1)));
}

#[test]
fn far_deadlines_beyond_the_top_level() {
    let top = 1u64 << 36; // 64^6 ms
    let mut w = TimerWheel::new(123);
    let items = [
        (u64::MAX, 1),
        (top * 5 + 17, 2),
        (top * 5 + 17, 3),
        (top + 1, 4),
        (top - 1, 5),
        (top * 3, 6),
        (u64::MAX - 1, 7),
    ];
    let ds = fill(&mut w, &items);
    assert_eq!(w.next_deadline(), Some(top - 1));
    assert_eq!(drain(&mut w, top, &ds), vec![(top - 1, 5)]);
    assert_eq!(w.next_deadline(), Some(top + 1));
    assert_eq!(
        drain(&mut w, top * 3, &ds),
        vec![(top + 1, 4), (top * 3, 6)]
    );
    assert!(drain(&mut w, top * 5 + 16, &ds).is_empty());
    assert_eq!(w.next_deadline(), Some(top * 5 + 17));
    assert_eq!(
        drain(&mut w, top * 5 + 17, &ds),
        vec![(top * 5 + 17, 2), (top * 5 + 17, 3)]
    );
    assert_eq!(w.next_deadline(), Some(u64::MAX - 1));
    assert!(drain(&mut w, u64::MAX - 2, &ds).is_empty());
    assert_eq!(
        drain(&mut w, u64::MAX, &ds),
        vec![(u64::MAX - 1, 7), (u64::MAX, 1)]
    );
    assert!(w.is_empty());
}

#[test]
fn cancelling_the_earliest_far_timer_updates_next_deadline() {
    let top = 1u64 << 36;
    let mut w = TimerWheel::new(0);
    let a = w.insert(top * 2, 1);
    w.insert(top * 4, 2);
    assert_eq!(w.next_deadline(), Some(top * 2));
    assert_eq!(w.cancel(a), Some(1));
    assert_eq!(w.next_deadline(), Some(top * 4));
}

#[test]
fn large_jump_fires_everything_due_in_order() {
    let mut w = TimerWheel::new(0);
    let items: Vec<(u64, u64)> = (0..5_000u64)
        .map(|v| (v * 7_919 * 104_729 + 1, v))
        .collect();
    let ds = fill(&mut w, &items);
    let last = items.iter().map(|p| p.0).max().unwrap_or(0);
    let half = last / 2;
    let fired = drain(&mut w, half, &ds);
    let expect: Vec<(u64, u64)> = items.iter().copied().filter(|p| p.0 <= half).collect();
    assert_eq!(fired, expect);
    assert_eq!(
        w.next_deadline(),
        items.iter().map(|p| p.0).find(|&d| d > half)
    );
    assert_eq!(drain(&mut w, u64::MAX, &ds).len(), 5_000 - expect.len());
    assert!(w.is_empty());
}

#[test]
fn a_far_timer_cascades_once_per_level_it_crosses() {
    let start = 5 * (1u64 << 40) + 12_345;
    let mut w = TimerWheel::new(start);
    let base = start & !((1u64 << 36) - 1);
    let deadline = base + 37 * (1u64 << 30) + 5 * (1 << 18) + 9;
    let h = w.insert(deadline, ());
    assert_eq!(w.next_deadline(), Some(deadline));
    assert_eq!(w.poll(deadline - 1), None);
    assert_eq!(w.poll(deadline), Some((h, ())));
    // Level 5 slot -> level 3 slot -> level 0 slot: three steps for a ~40-day jump.
    assert_eq!(w.cascades, 3);
    let far = deadline + (1u64 << 37);
    w.insert(far, ());
    assert!(w.poll(u64::MAX).is_some());
    assert!(w.cascades <= 3 + 7, "{} steps", w.cascades);
}

/// splitmix64: a small deterministic PRNG for the model test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }

    /// A span from one of the wheel's levels (or beyond it).
    fn span(&mut self, max_level: u64) -> u64 {
        let level = self.below(max_level + 1);
        self.below(1u64 << (6 * (level + 1)).min(40))
    }
}

/// The reference: live timers ordered by `(deadline, seq)`, plus a vector of live seqs
/// for O(1) random picks.
#[derive(Default)]
struct Model {
    order: BTreeMap<(u64, u64), ()>,
    /// seq -> (handle, deadline)
    timers: HashMap<u64, (TimerHandle, u64)>,
    seqs: Vec<u64>,
    /// seq -> index in `seqs`
    pos: HashMap<u64, usize>,
}

impl Model {
    fn insert(&mut self, seq: u64, h: TimerHandle, deadline: u64) {
        self.order.insert((deadline, seq), ());
        self.timers.insert(seq, (h, deadline));
        self.pos.insert(seq, self.seqs.len());
        self.seqs.push(seq);
    }

    fn pick(&self, rng: &mut Rng) -> Option<(u64, TimerHandle, u64)> {
        let seq = *self.seqs.get(rng.below(self.seqs.len() as u64) as usize)?;
        let (h, d) = self.timers[&seq];
        Some((seq, h, d))
    }

    fn remove(&mut self, seq: u64) -> TimerHandle {
        let d = self.timers.get(&seq).expect("live in model").1;
        assert!(self.order.remove(&(d, seq)).is_some());
        self.remove_indexed(seq)
    }

    /// Removes and returns every `(deadline, seq)` due at `now`, in order.
    fn expire(&mut self, now: u64) -> Vec<(u64, u64)> {
        let later = self.order.split_off(&(now + 1, 0));
        let due: Vec<(u64, u64)> = std::mem::replace(&mut self.order, later)
            .into_keys()
            .collect();
        for &(_, s) in &due {
            self.remove_indexed(s);
        }
        due
    }

    /// Drops `seq` from everything but `order`.
    fn remove_indexed(&mut self, seq: u64) -> TimerHandle {
        let (h, _) = self.timers.remove(&seq).expect("live in model");
        let i = self.pos.remove(&seq).expect("indexed");
        self.seqs.swap_remove(i);
        if let Some(&moved) = self.seqs.get(i) {
            self.pos.insert(moved, i);
        }
        h
    }
}

/// Runs `ops` random operations against the wheel and the model, checking after each
/// one that `len` and `next_deadline` agree and, at each advance, that polling until
/// `None` fired exactly the timers due (none early, none late). Inserts weigh
/// `45 + extra_inserts` against 55 for the other operations; one advance in
/// `big_jump_odds` may jump across every level. Returns (timers fired, max live).
fn run_model(seed: u64, ops: u64, extra_inserts: u64, big_jump_odds: u64) -> (usize, usize) {
    let mut rng = Rng(seed);
    let mut now: u64 = 1_000_000_007;
    let mut w: TimerWheel<u64> = TimerWheel::new(now);
    let mut m = Model::default();
    let mut stale: Vec<TimerHandle> = Vec::new();
    let mut deadlines: BTreeMap<u64, u64> = BTreeMap::new(); // seq -> deadline, all ever
    let (mut fired_total, mut max_live) = (0, 0);
    for seq in 0..ops {
        match rng.below(100 + extra_inserts) {
            45..=59 if !m.seqs.is_empty() => {
                let (s, h, _) = m.pick(&mut rng).expect("non-empty");
                assert_eq!(w.cancel(h), Some(s));
                stale.push(m.remove(s));
            }
            60..=64 if !m.seqs.is_empty() => {
                let (s, h, _) = m.pick(&mut rng).expect("non-empty");
                let nd = now.saturating_sub(rng.below(100)) + rng.span(4);
                assert!(w.reset(h, nd));
                assert_eq!(w.deadline(h), Some(nd));
                m.remove(s);
                m.insert(s, h, nd);
                deadlines.insert(s, nd);
            }
            65..=69 if !stale.is_empty() => {
                let h = stale[rng.below(stale.len() as u64) as usize];
                assert_eq!(w.cancel(h), None);
                assert!(!w.reset(h, now));
            }
            70..=99 => {
                now += match rng.below(10 * big_jump_odds) {
                    0..=9 => rng.span(6),
                    10..=59 => rng.span(3),
                    _ => rng.below(200),
                };
                let mut fired = drain(&mut w, now, &deadlines);
                // Nothing left behind: polling again at `now` still yields nothing.
                assert!(w.poll(now).is_none());
                fired.sort_unstable();
                let expect: Vec<(u64, u64)> = m.expire(now);
                assert_eq!(fired, expect, "fired set differs at {now}");
                fired_total += fired.len();
            }
            _ => {
                let deadline = match rng.below(20) {
                    0 => now.saturating_sub(rng.below(5_000)),
                    1 => now + (1 << 36) + rng.below(1 << 38),
                    _ => now + rng.span(5),
                };
                let h = w.insert(deadline, seq);
                m.insert(seq, h, deadline);
                deadlines.insert(seq, deadline);
            }
        }
        if stale.len() > 1_000 {
            stale.drain(..500);
        }
        assert_eq!(w.len(), m.order.len());
        assert_eq!(w.next_deadline(), m.order.keys().next().map(|k| k.0));
        max_live = max_live.max(w.len());
    }
    (fired_total, max_live)
}

#[test]
fn randomized_against_btreemap_model() {
    let (fired, max_live) = run_model(0x1ea9_0147, 200_000, 0, 50);
    assert!(fired > 50_000, "only {fired} timers fired");
    assert!(max_live > 100, "at most {max_live} live timers");
}

#[test]
fn randomized_against_btreemap_model_with_many_live_timers() {
    let (fired, max_live) = run_model(0xdead_beef, 60_000, 100, 400);
    assert!(fired > 5_000, "only {fired} timers fired");
    assert!(max_live > 2_000, "at most {max_live} live timers");
}
