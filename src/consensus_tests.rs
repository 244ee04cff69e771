//! Tests of the majority decision: the cases of the product spec, then random vote sets
//! checked against a brute-force oracle and against every reordering tried.

use super::*;

fn cand(justified_slot: u64, root: u8, finalized_slot: u64) -> Candidate {
    Candidate {
        justified_slot,
        justified_root: Some([root; 32]),
        finalized_slot,
    }
}

fn vote(upstream: usize, candidate: Candidate, digest: u8) -> Vote {
    Vote {
        upstream,
        candidate,
        state_digest: [digest; 32],
    }
}

const LOOSE: ConsensusOptions = ConsensusOptions {
    require_identical_state: false,
};
const STRICT: ConsensusOptions = ConsensusOptions {
    require_identical_state: true,
};

#[test]
fn nobody_responded() {
    assert_eq!(decide(&[], LOOSE), None);
    assert_eq!(decide(&[], STRICT), None);
}

#[test]
fn majority_of_one() {
    let d = decide(&[vote(3, cand(5, 1, 4), 9)], LOOSE).unwrap();
    assert_eq!(
        (d.agreeing, d.responders, d.identical, d.state_from),
        (1, 1, 1, 3)
    );
    assert_eq!(d.state_digest, [9; 32]);
}

#[test]
fn half_is_not_a_majority() {
    let (a, b) = (cand(5, 1, 4), cand(5, 2, 4));
    let votes = [vote(0, a, 1), vote(1, a, 1), vote(2, b, 2), vote(3, b, 2)];
    assert_eq!(decide(&votes, LOOSE), None);
    // Two of four, the other two failing to agree with each other: still no consensus.
    let votes = [
        vote(0, a, 1),
        vote(1, a, 1),
        vote(2, b, 2),
        vote(3, cand(6, 2, 4), 2),
    ];
    assert_eq!(decide(&votes, LOOSE), None);
}

#[test]
fn three_of_four() {
    let (a, b) = (cand(5, 1, 4), cand(5, 2, 4));
    let votes = [vote(7, b, 2), vote(4, a, 1), vote(2, a, 1), vote(9, a, 1)];
    let d = decide(&votes, LOOSE).unwrap();
    assert_eq!(d.candidate, a);
    assert_eq!(
        (d.agreeing, d.responders, d.identical, d.state_from),
        (3, 4, 3, 2)
    );
}

#[test]
fn no_root_differs_from_a_root() {
    let a = cand(5, 1, 4);
    let none = Candidate {
        justified_root: None,
        ..a
    };
    let votes = [vote(0, a, 1), vote(1, none, 1), vote(2, none, 1)];
    assert_eq!(decide(&votes, LOOSE).unwrap().candidate, none);
}

#[test]
fn digest_groups_within_the_winners() {
    let (a, b) = (cand(5, 1, 4), cand(5, 2, 4));
    // Winners (a) split 2×digest 8 / 1×digest 3; b's digest 3 does not count.
    let votes = [
        vote(5, a, 8),
        vote(1, a, 3),
        vote(4, a, 8),
        vote(0, b, 3),
        vote(2, b, 3),
        vote(6, a, 9),
        vote(3, a, 8),
    ];
    let d = decide(&votes, LOOSE).unwrap();
    assert_eq!((d.agreeing, d.identical, d.state_from), (5, 3, 3));
    assert_eq!(d.state_digest, [8; 32]);
    // A tie between digest groups goes to the smaller digest.
    let votes = [
        vote(0, a, 8),
        vote(1, a, 3),
        vote(2, a, 8),
        vote(3, a, 3),
        vote(4, b, 1),
    ];
    let d = decide(&votes, LOOSE).unwrap();
    assert_eq!((d.state_digest, d.identical, d.state_from), ([3; 32], 2, 1));
}

#[test]
fn require_identical_state() {
    let a = cand(5, 1, 4);
    let votes = [vote(0, a, 1), vote(1, a, 1), vote(2, a, 2), vote(3, a, 3)];
    assert_eq!(decide(&votes, LOOSE).unwrap().identical, 2);
    assert_eq!(decide(&votes, STRICT), None);
    let votes = [vote(0, a, 1), vote(1, a, 1), vote(2, a, 2), vote(3, a, 1)];
    let d = decide(&votes, STRICT).unwrap();
    assert_eq!((d.agreeing, d.identical, d.state_digest), (3, 3, [1; 32]));
}

/// SplitMix64: a small deterministic generator for property tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// The decision computed the slow, obvious way.
fn oracle(votes: &[Vote], options: ConsensusOptions) -> Option<Decision> {
    let same = |a: &Vote, b: &Vote| {
        a.candidate == b.candidate
            && (!options.require_identical_state || a.state_digest == b.state_digest)
    };
    let n = votes.len();
    let winner = votes
        .iter()
        .find(|v| 2 * votes.iter().filter(|w| same(v, w)).count() > n)?;
    let winners: Vec<&Vote> = votes.iter().filter(|w| same(winner, w)).collect();
    let mut best: Option<([u8; 32], usize)> = None;
    for w in &winners {
        let size = winners
            .iter()
            .filter(|x| x.state_digest == w.state_digest)
            .count();
        best = match best {
            Some((d, s)) if s > size || (s == size && d <= w.state_digest) => Some((d, s)),
            _ => Some((w.state_digest, size)),
        };
    }
    let (state_digest, identical) = best?;
    let state_from = winners
        .iter()
        .filter(|w| w.state_digest == state_digest)
        .map(|w| w.upstream)
        .min()?;
    Some(Decision {
        candidate: winner.candidate,
        agreeing: winners.len(),
        responders: n,
        state_digest,
        identical,
        state_from,
    })
}

#[test]
fn random_votes_match_the_oracle_in_any_order() {
    let mut rng = Rng(0x1ea9_9017);
    let mut decided = 0;
    for round in 0..3000 {
        let n = rng.below(12);
        let kinds = 1 + rng.below(3);
        let digests = 1 + rng.below(3);
        let mut upstreams: Vec<usize> = (0..n).map(|i| i * 3 + rng.below(3)).collect();
        rng.shuffle(&mut upstreams);
        let votes: Vec<Vote> = upstreams
            .iter()
            .map(|&u| {
                let k = rng.below(kinds) as u64;
                let c = match k {
                    2 => Candidate {
                        justified_root: None,
                        ..cand(10, 0, 9)
                    },
                    _ => cand(10 + k, k as u8, 9),
                };
                vote(u, c, rng.below(digests) as u8)
            })
            .collect();
        for options in [LOOSE, STRICT] {
            let expected = oracle(&votes, options);
            decided += usize::from(expected.is_some());
            assert_eq!(
                decide(&votes, options),
                expected,
                "round {round}: {votes:?}"
            );
            let mut shuffled = votes.clone();
            for _ in 0..3 {
                rng.shuffle(&mut shuffled);
                assert_eq!(
                    decide(&shuffled, options),
                    expected,
                    "round {round} shuffled"
                );
            }
        }
    }
    // The generator must exercise both outcomes.
    assert!(decided > 1000 && decided < 5000, "{decided}");
}

#[test]
fn thousand_upstreams() {
    let mut rng = Rng(7);
    let a = cand(100, 1, 99);
    let votes: Vec<Vote> = (0..1000)
        .map(|u| {
            if u % 4 == 0 {
                vote(u, cand(100, 2, 99), 2)
            } else {
                vote(u, a, (rng.below(2) * 5) as u8)
            }
        })
        .collect();
    let d = decide(&votes, LOOSE).unwrap();
    assert_eq!(d, oracle(&votes, LOOSE).unwrap());
    assert_eq!((d.agreeing, d.responders), (750, 1000));
}
