//! Timeline tests: the rings stay bounded and drop their oldest samples, samples carry
//! what the round saw (slots, root prefix, error kind, standing), a reload keeps the
//! history of the upstreams whose name stays, and `finish_round` samples every round.

use super::*;
use crate::app::round::{finish_round, RoundOutcome};
use crate::app::{AppState, UpstreamError};
use crate::consensus::Vote;
use crate::server::router::fixtures::{fresh_app, spec};

/// The size of one sample, as stated in docs/api.md and docs/benchmarks.md.
const SAMPLE_BYTES: usize = 56;

fn cp(slot: u64, root: u8) -> Checkpoint {
    Checkpoint {
        slot,
        root: [root; 32],
    }
}

fn agreed(finalized: Checkpoint) -> Agreed {
    Agreed {
        finalized,
        justified: cp(finalized.slot + 1, 0xee),
        first_agreed_ms: 0,
        members: vec![0],
        responders: 1,
    }
}

/// A record named `name` whose last poll voted for `finalized`.
fn voting(name: &str, finalized: Checkpoint) -> UpstreamRecord {
    let mut r = UpstreamRecord::new(spec(name, 5052));
    r.healthy = true;
    r.finalized = Some(finalized);
    r.last_justified = Some(cp(finalized.slot + 1, 0xdd));
    r.head_slot = Some(finalized.slot + 3);
    r
}

fn records(names: &[&str]) -> Vec<UpstreamRecord> {
    names.iter().map(|n| voting(n, cp(10, 1))).collect()
}

fn names(t: &Timeline) -> Vec<&str> {
    t.series.iter().map(|s| s.name.as_str()).collect()
}

fn times(s: &Series) -> Vec<i64> {
    s.samples.iter().map(|x| x.t_ms).collect()
}

#[test]
fn samples_are_compact() {
    assert_eq!(std::mem::size_of::<Slot>(), 8);
    assert_eq!(std::mem::size_of::<Sample>(), SAMPLE_BYTES);
    assert_eq!(std::mem::size_of::<AgreedSample>(), 24);
    // docs/api.md and docs/benchmarks.md: 16 upstreams over an hour at 10 s.
    assert_eq!(16 * TIMELINE_LEN * SAMPLE_BYTES, 322_560);
}

#[test]
fn rings_are_bounded_and_drop_the_oldest() {
    let ups = records(&["a", "b"]);
    let a = agreed(cp(10, 1));
    let mut t = Timeline::new(["a", "b"]);
    let rounds = TIMELINE_LEN as i64 + 40;
    for i in 0..rounds {
        t.record_round(&ups, Some(&a), true, i);
    }
    for s in &t.series {
        assert_eq!(s.samples.len(), TIMELINE_LEN, "{}", s.name);
        assert!(
            s.samples.capacity() < TIMELINE_LEN * 2,
            "{}",
            s.samples.capacity()
        );
        assert_eq!(s.samples.front().map(|x| x.t_ms), Some(40));
        assert_eq!(s.last().map(|x| x.t_ms), Some(rounds - 1));
    }
    assert_eq!(t.agreed.len(), TIMELINE_LEN);
    assert_eq!(t.agreed.front().map(|x| x.t_ms), Some(40));
    assert_eq!(t.agreed.back().map(|x| x.finalized.get()), Some(Some(10)));
}

#[test]
fn capacity_shrinks_only_for_very_large_sets() {
    assert_eq!(Timeline::capacity(0), TIMELINE_LEN);
    assert_eq!(Timeline::capacity(16), TIMELINE_LEN);
    assert_eq!(Timeline::capacity(64), TIMELINE_LEN);
    assert_eq!(Timeline::capacity(128), TIMELINE_LEN / 2);
    assert_eq!(Timeline::capacity(1_000_000), 1);
    // A thousand upstreams stay within MAX_SAMPLES in all.
    let names: Vec<String> = (0..1000).map(|i| format!("n{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let ups = records(&refs);
    let mut t = Timeline::new(refs.iter().copied());
    for i in 0..50 {
        t.record_round(&ups, None, false, i);
    }
    let total: usize = t.series.iter().map(|s| s.samples.len()).sum();
    assert_eq!(total, 1000 * (MAX_SAMPLES / 1000));
    assert!(total <= MAX_SAMPLES);
}

#[test]
fn a_sample_holds_what_the_round_saw() {
    let a = agreed(cp(10, 1));
    let mut root = [0u8; 32];
    root[..5].copy_from_slice(&[0x1a, 0x2b, 0x3c, 0x4d, 0x5e]);
    let ok = voting("ok", Checkpoint { slot: 10, root });
    let s = Sample::of(&ok, Some(&a), 7);
    assert_eq!(s.t_ms, 7);
    assert_eq!(s.finalized.get(), Some(10));
    assert_eq!(s.justified.get(), Some(11));
    assert_eq!(s.head.get(), Some(13));
    assert_eq!(s.root, Some([0x1a, 0x2b, 0x3c, 0x4d]));
    assert_eq!(s.error, None);
    assert_eq!(s.standing, Standing::Minority);
    let s = Sample::of(&voting("agrees", cp(10, 1)), Some(&a), 7);
    assert_eq!(s.standing, Standing::Agreeing);
    let s = Sample::of(&voting("behind", cp(7, 1)), Some(&a), 7);
    assert_eq!(s.standing, Standing::Lagging { slots: 3 });
    assert_eq!(
        Sample::of(&voting("x", cp(7, 1)), None, 7).standing,
        Standing::Unknown
    );
    // A failed poll: the record keeps its last claims, the sample shows the error.
    let mut failed = voting("down", cp(9, 1));
    failed.healthy = false;
    failed.record_error(UpstreamError {
        kind: UpstreamErrorKind::ConnectRefused,
        detail: "refused".into(),
        at_ms: 6,
    });
    let s = Sample::of(&failed, Some(&a), 7);
    assert_eq!(s.error, Some(UpstreamErrorKind::ConnectRefused));
    assert_eq!(
        (s.finalized, s.justified, s.head, s.root),
        (Slot::NONE, Slot::NONE, Slot::NONE, None)
    );
    assert_eq!(s.standing, Standing::Unknown);
    // The sentinel: a claimed u64::MAX reads as none rather than as a slot.
    assert_eq!(Slot::new(Some(u64::MAX)).get(), None);
    assert_eq!(Slot::new(Some(0)).get(), Some(0));
}

#[test]
fn align_keeps_the_history_of_names_that_stay() {
    let mut t = Timeline::new(["a", "b", "c"]);
    let ups = records(&["a", "b", "c"]);
    for i in 0..3 {
        t.record_round(&ups, None, false, i);
    }
    t.align(["c", "d", "a"]);
    assert_eq!(names(&t), ["c", "d", "a"]);
    assert_eq!(times(&t.series[0]), [0, 1, 2]);
    assert!(t.series[1].samples.is_empty());
    assert_eq!(times(&t.series[2]), [0, 1, 2]);
    assert!(t.series_of("b").is_none());
    assert_eq!(t.agreed.len(), 3, "the agreed line is not per upstream");
    // A duplicate name gets a fresh series; the first of the name keeps the history.
    t.align(["a", "a"]);
    assert_eq!(times(&t.series[0]), [0, 1, 2]);
    assert!(t.series[1].samples.is_empty());
}

#[test]
fn align_trims_to_the_capacity_of_a_larger_set() {
    let mut t = Timeline::new(["a"]);
    let ups = records(&["a"]);
    for i in 0..TIMELINE_LEN as i64 {
        t.record_round(&ups, None, false, i);
    }
    let many: Vec<String> = (0..128).map(|i| format!("n{i}")).collect();
    t.align(std::iter::once("a").chain(many.iter().map(String::as_str)));
    let cap = Timeline::capacity(129);
    assert_eq!(t.series[0].samples.len(), cap);
    assert_eq!(
        t.series[0].last().map(|s| s.t_ms),
        Some(TIMELINE_LEN as i64 - 1),
        "the newest are kept"
    );
}

#[test]
fn a_reload_keeps_the_history_of_kept_upstreams() {
    let mut app = fresh_app(&["zeam_0", "ream_0", "qlean_0"]);
    finish_round(&mut app, &[0, 1, 2], &[], 100, 1);
    finish_round(&mut app, &[0, 1, 2], &[], 200, 1);
    let kept = crate::upstream::schedule::reload::apply(
        &mut app,
        vec![
            spec("qlean_0", 5054),
            spec("new_0", 6000),
            spec("zeam_0", 5052),
        ],
    );
    assert_eq!(kept, [Some(2), None, Some(0)]);
    assert_eq!(names(&app.timeline), ["qlean_0", "new_0", "zeam_0"]);
    assert_eq!(times(&app.timeline.series[0]), [100, 200]);
    assert!(app.timeline.series[1].samples.is_empty());
    assert_eq!(times(&app.timeline.series[2]), [100, 200]);
}

#[test]
fn every_round_is_sampled() {
    let mut app: AppState = fresh_app(&["a", "b", "c"]);
    let canonical = cp(10, 1);
    for (i, c) in [canonical, canonical, cp(10, 2)].into_iter().enumerate() {
        app.upstreams[i].healthy = true;
        app.upstreams[i].finalized = Some(c);
    }
    let votes: Vec<Vote> = (0..3)
        .map(|u| Vote {
            upstream: u,
            finalized: app.upstreams[u].finalized.unwrap_or(canonical),
            justified: cp(11, 3),
        })
        .collect();
    let outcome = finish_round(&mut app, &[0, 1, 2], &votes, 1_000, 5);
    assert_eq!(
        outcome,
        RoundOutcome::Agreed {
            new_checkpoint: true
        }
    );
    let standings: Vec<Standing> = app.timeline.series.iter().map(Series::standing).collect();
    assert_eq!(
        standings,
        [Standing::Agreeing, Standing::Agreeing, Standing::Minority]
    );
    assert_eq!(
        app.timeline.agreed.back(),
        Some(&AgreedSample {
            t_ms: 1_000,
            finalized: Slot::new(Some(10)),
            consensus: true
        })
    );
    // A split round: sampled too, the last agreement kept on the agreed line.
    let split = [
        votes[0],
        Vote {
            finalized: cp(10, 9),
            ..votes[1]
        },
    ];
    app.upstreams[1].finalized = Some(cp(10, 9));
    app.upstreams[2].healthy = false;
    let outcome = finish_round(&mut app, &[0, 1, 2], &split, 2_000, 5);
    assert_eq!(outcome, RoundOutcome::NoConsensus);
    let last = app.timeline.agreed.back().copied();
    assert_eq!(
        last.map(|a| (a.finalized.get(), a.consensus)),
        Some((Some(10), false))
    );
    assert_eq!(app.timeline.series[1].standing(), Standing::Minority);
    assert_eq!(app.timeline.series[2].standing(), Standing::Unknown);
    assert!(app.timeline.series.iter().all(|s| s.samples.len() == 2));
}
