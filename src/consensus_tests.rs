//! Tests of the majority decision: the cases of the product spec (strict majority on the
//! finalized checkpoint, the justified checkpoint reported), then random vote sets
//! checked against a brute-force oracle and against every reordering tried.

use super::*;

fn cp(slot: u64, root: u8) -> Checkpoint {
    Checkpoint {
        slot,
        root: [root; 32],
    }
}

/// Upstream `u` claims finalized (`fs`, `fr`) and justified (`js`, `jr`).
fn vote(upstream: usize, fs: u64, fr: u8, js: u64, jr: u8) -> Vote {
    Vote {
        upstream,
        finalized: cp(fs, fr),
        justified: cp(js, jr),
    }
}

#[test]
fn nobody_responded() {
    assert_eq!(decide(&[]), None);
}

#[test]
fn majority_of_one() {
    let d = decide(&[vote(3, 4, 1, 5, 2)]).unwrap();
    assert_eq!((d.finalized, d.justified), (cp(4, 1), cp(5, 2)));
    assert_eq!(
        (d.members.clone(), d.responders, d.agreeing()),
        (vec![3], 1, 1)
    );
}

#[test]
fn half_is_not_a_majority() {
    let votes = [
        vote(0, 4, 1, 5, 1),
        vote(1, 4, 1, 5, 1),
        vote(2, 4, 2, 5, 1),
        vote(3, 4, 2, 5, 1),
    ];
    assert_eq!(decide(&votes), None);
    // The same slot under another root is another candidate.
    let votes = [
        vote(0, 4, 1, 5, 1),
        vote(1, 4, 1, 5, 1),
        vote(2, 4, 2, 5, 1),
    ];
    assert_eq!(decide(&votes).unwrap().members, vec![0, 1]);
}

#[test]
fn three_of_four_members_are_sorted() {
    let votes = [
        vote(7, 4, 2, 5, 1),
        vote(4, 4, 1, 5, 1),
        vote(2, 4, 1, 5, 1),
        vote(9, 4, 1, 5, 1),
    ];
    let d = decide(&votes).unwrap();
    assert_eq!(d.finalized, cp(4, 1));
    assert_eq!((d.members, d.responders), (vec![2, 4, 9], 4));
}

#[test]
fn justified_is_the_majority_of_responders_when_there_is_one() {
    // Finalized agreed by 0,1,2; justified (6, 3) held by 3 of 4 responders, including
    // the one on another finalized checkpoint.
    let votes = [
        vote(0, 4, 1, 6, 3),
        vote(1, 4, 1, 6, 3),
        vote(2, 4, 1, 5, 1),
        vote(3, 3, 9, 6, 3),
    ];
    assert_eq!(decide(&votes).unwrap().justified, cp(6, 3));
}

#[test]
fn justified_without_a_majority_is_the_lowest_among_the_agreeing() {
    // Around a block the agreeing nodes hold different justified checkpoints: report
    // the one they have all reached, never a higher one only some hold.
    let votes = [
        vote(0, 4, 1, 7, 7),
        vote(1, 4, 1, 6, 6),
        vote(2, 4, 1, 5, 5),
        vote(3, 2, 2, 1, 1),
    ];
    assert_eq!(decide(&votes).unwrap().justified, cp(5, 5));
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
fn oracle(votes: &[Vote]) -> Option<Decision> {
    let n = votes.len();
    let winner = votes
        .iter()
        .find(|v| 2 * votes.iter().filter(|w| w.finalized == v.finalized).count() > n)?
        .finalized;
    let mut members: Vec<usize> = votes
        .iter()
        .filter(|w| w.finalized == winner)
        .map(|w| w.upstream)
        .collect();
    members.sort();
    let majority_justified = votes
        .iter()
        .find(|v| 2 * votes.iter().filter(|w| w.justified == v.justified).count() > n)
        .map(|v| v.justified);
    let lowest_agreeing = votes
        .iter()
        .filter(|w| w.finalized == winner)
        .map(|w| w.justified)
        .min()?;
    Some(Decision {
        finalized: winner,
        justified: majority_justified.unwrap_or(lowest_agreeing),
        members,
        responders: n,
    })
}

#[test]
fn random_votes_match_the_oracle_in_any_order() {
    let mut rng = Rng(0x1ea9_9017);
    let mut decided = 0;
    for round in 0..5000 {
        let n = rng.below(12);
        let kinds = 1 + rng.below(3);
        let justs = 1 + rng.below(3);
        let mut upstreams: Vec<usize> = (0..n).map(|i| i * 3 + rng.below(3)).collect();
        rng.shuffle(&mut upstreams);
        let votes: Vec<Vote> = upstreams
            .iter()
            .map(|&u| {
                let k = rng.below(kinds);
                let j = rng.below(justs);
                // Kind 2 differs from kind 0 by the root only.
                let (fs, fr) = [(9, 0), (10, 1), (9, 2)][k];
                vote(u, fs, fr, 11 + j as u64, j as u8)
            })
            .collect();
        let expected = oracle(&votes);
        decided += usize::from(expected.is_some());
        assert_eq!(decide(&votes), expected, "round {round}: {votes:?}");
        let mut shuffled = votes.clone();
        for _ in 0..3 {
            rng.shuffle(&mut shuffled);
            assert_eq!(decide(&shuffled), expected, "round {round} shuffled");
        }
    }
    // The generator must exercise both outcomes.
    assert!(decided > 1000 && decided < 4500, "{decided}");
}

#[test]
fn thousand_upstreams() {
    let votes: Vec<Vote> = (0..1000)
        .map(|u| {
            if u % 4 == 0 {
                vote(u, 99, 2, 100, 2)
            } else {
                vote(u, 99, 1, 100 + (u % 2) as u64, 1)
            }
        })
        .collect();
    let d = decide(&votes).unwrap();
    assert_eq!(d, oracle(&votes).unwrap());
    assert_eq!((d.agreeing(), d.responders), (750, 1000));
}
