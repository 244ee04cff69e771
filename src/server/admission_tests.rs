//! The pure victim choice: the order (idle, then trickling heads past their grace, then
//! overdue writers), the head grace and rate, and when the next candidate appears.

use super::*;

const POLICY: Policy = Policy {
    head_grace_ms: 150,
    write_timeout_ms: 30_000,
};

fn idle(since: u64) -> Activity {
    Activity::Idle { since }
}

fn head(since: u64, received: usize) -> Activity {
    Activity::Head { since, received }
}

fn writing(since: u64, last_progress: u64) -> Activity {
    Activity::Writing {
        since,
        last_progress,
    }
}

fn ranked(conns: &[(u32, Activity)], now: u64) -> Ranking<u32> {
    rank(conns.iter().copied(), now, &POLICY)
}

#[test]
fn nobody_to_rank() {
    assert_eq!(
        ranked(&[], 1000),
        Ranking {
            victims: vec![],
            next_at: None
        }
    );
}

#[test]
fn idle_first_oldest_first_then_heads_then_writers() {
    let now = 100_000;
    let r = ranked(
        &[
            (1, writing(1_000, 2_000)),
            (2, head(50_000, 10)),
            (3, idle(90_000)),
            (4, head(10_000, 0)),
            (5, idle(80_000)),
            (6, writing(5_000, 1_500)),
        ],
        now,
    );
    assert_eq!(r.victims, vec![5, 3, 4, 2, 6, 1]);
    assert_eq!(r.next_at, None);
}

#[test]
fn an_idle_connection_goes_first_however_young() {
    // Even one that turned idle this very millisecond, ahead of a head waiting for ages.
    let r = ranked(&[(1, head(0, 0)), (2, idle(5_000))], 5_000);
    assert_eq!(r.victims, vec![2, 1]);
}

#[test]
fn a_head_is_protected_for_its_grace() {
    let r = ranked(&[(1, head(1_000, 0))], 1_149);
    assert_eq!(r.victims, Vec::<u32>::new());
    assert_eq!(r.next_at, Some(1_150));
    let r = ranked(&[(1, head(1_000, 0))], 1_150);
    assert_eq!(r.victims, vec![1]);
    assert_eq!(r.next_at, None);
}

#[test]
fn a_head_arriving_at_a_kib_per_grace_window_is_left_alone() {
    // 2 KiB after 300 ms: exactly the rate, not below it.
    let r = ranked(&[(1, head(0, 2048))], 300);
    assert!(r.victims.is_empty());
    assert_eq!(r.next_at, Some(301));
    // Once its average falls below the rate (it stalled), it is a candidate.
    assert_eq!(ranked(&[(1, head(0, 2048))], 301).victims, vec![1]);
    // A small head that stalled qualifies at the grace.
    assert_eq!(ranked(&[(1, head(0, 100))], 150).victims, vec![1]);
}

#[test]
fn a_burst_then_stall_becomes_a_candidate_within_eight_windows() {
    // 8 KiB at once (the head limit): at most 8 grace windows of protection.
    let r = ranked(&[(1, head(0, 8 * 1024))], 0);
    assert_eq!(r.next_at, Some(8 * 150 + 1));
}

#[test]
fn heads_rank_by_how_long_they_waited() {
    let r = ranked(
        &[(1, head(500, 0)), (2, head(100, 0)), (3, head(300, 50))],
        1_000,
    );
    assert_eq!(r.victims, vec![2, 3, 1]);
}

#[test]
fn writers_qualify_after_the_write_timeout_longest_stalled_first() {
    let r = ranked(
        &[
            (1, writing(0, 29_000)),
            (2, writing(10, 20_000)),
            (3, writing(20_000, 20_000)),
        ],
        30_010,
    );
    // 1 and 2 have written for 30 s; 2 has been stalled longer. 3 qualifies at 50 000.
    assert_eq!(r.victims, vec![2, 1]);
    assert_eq!(r.next_at, Some(50_000));
}

#[test]
fn next_at_is_the_earliest_of_heads_and_writers() {
    let r = ranked(&[(1, writing(0, 0)), (2, head(29_900, 0))], 29_950);
    assert!(r.victims.is_empty());
    assert_eq!(r.next_at, Some(30_000));
    let r = ranked(&[(1, writing(0, 0)), (2, head(29_800, 0))], 29_900);
    assert_eq!(r.next_at, Some(29_950));
}

#[test]
fn candidates_and_a_next_time_together() {
    let r = ranked(&[(1, head(0, 0)), (2, head(950, 0))], 1_000);
    assert_eq!(r.victims, vec![1]);
    assert_eq!(r.next_at, Some(1_100));
}

#[test]
fn times_near_the_end_of_the_clock_do_not_overflow() {
    let r = rank(
        [
            (1, head(u64::MAX - 10, usize::MAX)),
            (2, writing(u64::MAX - 5, 0)),
        ],
        u64::MAX - 1,
        &Policy {
            head_grace_ms: u64::MAX,
            write_timeout_ms: u64::MAX,
        },
    );
    assert!(r.victims.is_empty());
    assert_eq!(r.next_at, Some(u64::MAX));
}

#[test]
fn equal_times_keep_the_given_order() {
    let r = ranked(&[(7, idle(10)), (3, idle(10)), (9, idle(10))], 20);
    assert_eq!(r.victims, vec![7, 3, 9]);
}
