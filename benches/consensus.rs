//! Criterion benches of the pure poll-round cores: the majority decision over 16 and
//! 1000 votes, and SSZ state validation on a live 1254-byte state and a synthetic
//! 16 MiB one.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use leanpoint::consensus::{decide, Vote};
use leanpoint::lean::ssz::{validate_state, FIXED_PART};
use leanpoint::lean::Checkpoint;

const LIVE_STATE: &[u8] = include_bytes!("../src/lean/testdata/states_finalized.ssz");

/// `n` votes: three quarters on one finalized checkpoint (their justified checkpoints
/// split two ways), the rest on others.
fn votes(n: usize) -> Vec<Vote> {
    (0..n)
        .map(|i| {
            let odd = i % 4 == 3;
            let tag = if odd { (i % 7) as u8 } else { 1 };
            Vote {
                upstream: (i * 7919) % n,
                finalized: Checkpoint {
                    slot: 999,
                    root: [tag; 32],
                },
                justified: Checkpoint {
                    slot: 1000 + (i % 2) as u64,
                    root: [tag; 32],
                },
            }
        })
        .collect()
}

/// The live state with its history list grown so that the whole body is 16 MiB.
fn big_state() -> Vec<u8> {
    let target = 16 << 20;
    let tail = &LIVE_STATE[804..];
    let hist = (target - FIXED_PART - tail.len()) / 32 * 32;
    let mut s = LIVE_STATE[..FIXED_PART].to_vec();
    s.resize(FIXED_PART + hist, 0x5a);
    s.extend_from_slice(tail);
    let mut offset = |i: usize, v: usize| {
        let v = u32::try_from(v).unwrap_or(u32::MAX);
        s[208 + 4 * i..212 + 4 * i].copy_from_slice(&v.to_le_bytes());
    };
    let base = FIXED_PART + hist;
    for (i, rel) in [(1, 0), (2, 1), (3, 449), (4, 449)] {
        offset(i, base + rel);
    }
    s
}

fn bench(c: &mut Criterion) {
    for n in [16, 1000] {
        let v = votes(n);
        assert!(decide(&v).is_some());
        c.bench_function(&format!("decide/{n}"), |b| b.iter(|| decide(black_box(&v))));
    }
    assert!(validate_state(LIVE_STATE).is_ok());
    c.bench_function("validate_state/live_1254B", |b| {
        b.iter(|| validate_state(black_box(LIVE_STATE)))
    });
    let big = big_state();
    assert_eq!(validate_state(&big).map(|s| s.slot), Ok(18));
    c.bench_function("validate_state/16MiB", |b| {
        b.iter(|| validate_state(black_box(&big)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
