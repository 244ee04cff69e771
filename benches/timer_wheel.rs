//! Criterion benches of the timer wheel: insert, cancel, next_deadline and advance/poll
//! with 10k and 100k live timers (deadlines spread over a 60 s window, as connect,
//! request and idle timeouts are).

use criterion::{black_box, criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use leanpoint::timer::{TimerHandle, TimerWheel};
use std::time::{Duration, Instant};

/// Deadlines land within this many ms of `now`.
const WINDOW: u64 = 60_000;
const SIZES: [usize; 2] = [10_000, 100_000];
const START: u64 = 1_000_000;

/// xorshift64*: deterministic deadlines without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn deadline(&mut self, now: u64) -> u64 {
        now + 1 + self.next() % WINDOW
    }
}

fn prefilled(n: usize, rng: &mut Rng) -> (TimerWheel<u64>, Vec<TimerHandle>) {
    let mut w = TimerWheel::new(START);
    let handles = (0..n as u64)
        .map(|v| w.insert(rng.deadline(START), v))
        .collect();
    (w, handles)
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer_wheel");
    for n in SIZES {
        g.throughput(Throughput::Elements(1));
        g.sample_size(100);
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let (mut w, _) = prefilled(n, &mut rng);

        // One insert into a wheel holding `n` live timers (undone outside the timing).
        g.bench_function(format!("insert/{n}"), |b| {
            b.iter_custom(|iters| {
                let mut handles = Vec::with_capacity(iters as usize);
                let t = Instant::now();
                for v in 0..iters {
                    handles.push(w.insert(rng.deadline(START), black_box(v)));
                }
                let elapsed = t.elapsed();
                for h in handles {
                    w.cancel(h);
                }
                elapsed
            })
        });

        // One cancel, in random order, from a wheel holding `n` live timers.
        g.bench_function(format!("cancel/{n}"), |b| {
            b.iter_custom(|iters| {
                let mut handles: Vec<TimerHandle> = (0..iters)
                    .map(|v| w.insert(rng.deadline(START), v))
                    .collect();
                for i in (1..handles.len()).rev() {
                    handles.swap(i, (rng.next() % (i as u64 + 1)) as usize);
                }
                let t = Instant::now();
                for h in handles {
                    black_box(w.cancel(h));
                }
                t.elapsed()
            })
        });

        g.bench_function(format!("next_deadline/{n}"), |b| {
            b.iter(|| black_box(w.next_deadline()))
        });

        // One millisecond of a steady state: advance by 1 ms, poll until `None`, re-arm
        // every fired timer within the window (about n / 60_000 fire per tick).
        let mut now = START;
        g.bench_function(format!("tick_1ms/{n}"), |b| {
            b.iter(|| {
                now += 1;
                while let Some((_, v)) = w.poll(now) {
                    w.insert(rng.deadline(now), v);
                }
            })
        });

        // Jump past every deadline at once and pop all `n` timers.
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(10);
        g.bench_function(format!("drain_all/{n}"), |b| {
            b.iter_batched(
                || prefilled(n, &mut rng).0,
                |mut w| {
                    let mut fired = 0u64;
                    while w.poll(START + WINDOW + 1).is_some() {
                        fired += 1;
                    }
                    fired
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
