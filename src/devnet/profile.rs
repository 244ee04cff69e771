//! Fault profiles of simulated nodes, and the deterministic PRNG the `flaky` ones use.

use super::chain::{ChainParams, ALTERNATE, CANONICAL, FLAPPING};

/// How a simulated node behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// Serves the canonical chain.
    Healthy,
    /// Serves the canonical chain as of a few slots ago.
    Lagging,
    /// Sees each new slot `late_ms` after the others (as real nodes do around a block).
    Late,
    /// Serves another fork (different roots).
    Forked,
    /// Serves the canonical chain and another fork in turns of `chain::FLAP_SLOTS`
    /// slots: on the fork, its finalized checkpoint is a minority one (the agreed slot,
    /// another root).
    Flapping,
    /// Serves the true fork choice, checkpoints and block, but a tampered state (one
    /// byte of a validator key changed: layout-valid, only its root gives it away).
    Liar,
    /// Answers 404 on `/lean/v0/fork_choice` (a client without it); the rest is true.
    NoForkChoice,
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
    pub const ALL: [Profile; 12] = [
        Profile::Healthy,
        Profile::Lagging,
        Profile::Late,
        Profile::Forked,
        Profile::Flapping,
        Profile::Liar,
        Profile::NoForkChoice,
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
            Profile::Late => "late",
            Profile::Forked => "forked",
            Profile::Flapping => "flapping",
            Profile::Liar => "liar",
            Profile::NoForkChoice => "no-fork-choice",
            Profile::Silent => "silent",
            Profile::Slow => "slow",
            Profile::Flaky => "flaky",
            Profile::Garbage => "garbage",
            Profile::Down => "down",
        }
    }

    /// What a node of this profile does, in a few words (for `--help`).
    pub fn about(self) -> &'static str {
        match self {
            Profile::Healthy => "serves the canonical chain",
            Profile::Lagging => "serves the canonical chain --lag-slots slots behind",
            Profile::Late => "sees each new slot --late-ms after the others",
            Profile::Forked => "serves another fork (other roots at the same slots)",
            Profile::Flapping => {
                "canonical chain and another fork in turns of 4 slots (a minority checkpoint)"
            }
            Profile::Liar => "true fork choice and block, a tampered state",
            Profile::NoForkChoice => "answers 404 on /lean/v0/fork_choice, the rest true",
            Profile::Silent => "accepts and reads, never answers",
            Profile::Slow => "answers after --slow-ms",
            Profile::Flaky => "resets --flaky-percent of its connections",
            Profile::Garbage => "answers bytes that are not HTTP, then closes",
            Profile::Down => "its port is not listening",
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

    /// The fork the node serves (for `flapping`, the tag `chain::FLAPPING`, which the
    /// body cache resolves by head: `chain::fork_at`).
    pub fn fork(self) -> u64 {
        match self {
            Profile::Forked => ALTERNATE,
            Profile::Flapping => FLAPPING,
            _ => CANONICAL,
        }
    }

    /// The node's head `elapsed_ms` after the start, given the `lagging` delay in
    /// slots and the `late` one in milliseconds. A pure function of the time, so every
    /// run sees the same heads at the same offsets.
    pub fn head(self, params: &ChainParams, elapsed_ms: u64, lag_slots: u64, late_ms: u64) -> u64 {
        match self {
            Profile::Lagging => params.head_at(elapsed_ms).saturating_sub(lag_slots),
            Profile::Late => params.late_head_at(elapsed_ms, late_ms),
            _ => params.head_at(elapsed_ms),
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
        assert_eq!(
            Profile::names(),
            "healthy, lagging, late, forked, flapping, liar, no-fork-choice, silent, slow, \
             flaky, garbage, down"
        );
        assert_eq!(
            Profile::parse("no-fork-choice"),
            Some(Profile::NoForkChoice)
        );
    }

    #[test]
    fn forks_and_heads() {
        let params = ChainParams {
            genesis_time: 0,
            slot_ms: 1000,
            start_slot: 10,
            validators: 4,
        };
        assert_eq!(Profile::Forked.fork(), ALTERNATE);
        assert_eq!(Profile::Flapping.fork(), FLAPPING);
        let turns = format!("in turns of {} slots", crate::devnet::chain::FLAP_SLOTS);
        assert!(
            Profile::Flapping.about().contains(&turns),
            "--help says {turns}"
        );
        assert_eq!(
            Profile::Flapping.head(&params, 2_500, 3, 700),
            12,
            "not late"
        );
        for p in [
            Profile::Healthy,
            Profile::Liar,
            Profile::Late,
            Profile::NoForkChoice,
        ] {
            assert_eq!(p.fork(), CANONICAL, "{p:?}");
        }
        let head = |p: Profile, t| p.head(&params, t, 3, 700);
        assert_eq!(head(Profile::Healthy, 2_500), 12);
        assert_eq!(head(Profile::Lagging, 2_500), 9);
        assert_eq!(head(Profile::Lagging, 0), 7);
        assert_eq!(head(Profile::Slow, 2_500), 12);
        assert_eq!(head(Profile::Liar, 2_500), 12);
        // Late: behind for the first 700 ms of each slot, then the same.
        assert_eq!(head(Profile::Late, 2_000), 11);
        assert_eq!(head(Profile::Late, 2_699), 11);
        assert_eq!(head(Profile::Late, 2_700), 12);
        assert_eq!(head(Profile::Late, 0), 9);
        let low = ChainParams {
            start_slot: 1,
            ..params
        };
        assert_eq!(Profile::Lagging.head(&low, 0, 3, 700), 0);
        assert_eq!(Profile::Late.head(&low, 0, 3, 5_000), 0);
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
