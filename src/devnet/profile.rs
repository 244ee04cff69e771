//! Fault profiles of simulated nodes, and the deterministic PRNG the `flaky` ones use.

use super::chain::{ALTERNATE, CANONICAL};

/// How a simulated node behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Serves the canonical chain.
    Healthy,
    /// Serves the canonical chain as of a few slots ago.
    Lagging,
    /// Serves another fork (different roots).
    Forked,
    /// Accepts and reads, never answers; holds the connection until the client closes.
    Silent,
    /// Answers after a delay.
    Slow,
    /// Resets a share of its connections (SO_LINGER 0), serves the others.
    Flaky,
    /// Answers bytes that are not HTTP, then closes.
    Garbage,
    /// Its port is not listening.
    Down,
}

impl Profile {
    pub const ALL: [Profile; 8] = [
        Profile::Healthy,
        Profile::Lagging,
        Profile::Forked,
        Profile::Silent,
        Profile::Slow,
        Profile::Flaky,
        Profile::Garbage,
        Profile::Down,
    ];

    /// The name used on the command line and in logs.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Healthy => "healthy",
            Profile::Lagging => "lagging",
            Profile::Forked => "forked",
            Profile::Silent => "silent",
            Profile::Slow => "slow",
            Profile::Flaky => "flaky",
            Profile::Garbage => "garbage",
            Profile::Down => "down",
        }
    }

    /// The profile named `name` (exact, lower case).
    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// `healthy, lagging, …` for error messages and `--help`.
    pub fn names() -> String {
        Profile::ALL.map(Profile::name).join(", ")
    }

    /// The fork the node serves.
    pub fn fork(self) -> u64 {
        match self {
            Profile::Forked => ALTERNATE,
            _ => CANONICAL,
        }
    }

    /// The node's head given the canonical head and the `lagging` delay in slots.
    pub fn head(self, canonical_head: u64, lag_slots: u64) -> u64 {
        match self {
            Profile::Lagging => canonical_head.saturating_sub(lag_slots),
            _ => canonical_head,
        }
    }
}

/// SplitMix64: small, fast, deterministic for a given seed.
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u8) -> bool {
        self.next_u64() % 100 < u64::from(percent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Profile::ALL {
            assert_eq!(Profile::parse(p.name()), Some(p));
        }
        assert_eq!(Profile::parse("Healthy"), None);
        assert_eq!(Profile::parse(""), None);
        assert!(Profile::names().starts_with("healthy, lagging, forked"));
    }

    #[test]
    fn forks_and_heads() {
        assert_eq!(Profile::Forked.fork(), ALTERNATE);
        assert_eq!(Profile::Healthy.fork(), CANONICAL);
        assert_eq!(Profile::Lagging.head(10, 3), 7);
        assert_eq!(Profile::Lagging.head(2, 3), 0);
        assert_eq!(Profile::Slow.head(10, 3), 10);
    }

    #[test]
    fn rng_is_deterministic_and_roughly_fair() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(7);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(8).next_u64(), a[0]);
        let mut r = Rng::new(1);
        let hits = (0..10_000).filter(|_| r.chance(30)).count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
        assert!(!(0..100).any(|_| r.chance(0)));
        assert!((0..100).all(|_| r.chance(100)));
    }
}
