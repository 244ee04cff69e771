//! Criterion benches of the lstar SSZ hash tree roots: the live 1254-byte state, a
//! synthetic 16 MiB one within every list limit, hashed whole and fed in 64 KiB pieces
//! as from a socket, and the live signed block; a plain SHA-256 of the 16 MiB for
//! reference. Throughput is input bytes per second.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use leanpoint::lean::lstar::{signed_block_roots, state_roots, StateHasher};
use leanpoint::lean::ssz::FIXED_PART;
use sha2::{Digest, Sha256};

const LIVE_STATE: &[u8] = include_bytes!("../tests/fixtures/lean-api/live/states_finalized.ssz");
const LIVE_BLOCK: &[u8] = include_bytes!("../tests/fixtures/lean-api/live/blocks_finalized.ssz");

/// A 16 MiB state within every SSZ limit, built on the live one: the history list full
/// (2^18 roots, 8 MiB), the justified-slots bitlist full (2^18 bits), the live four
/// validators, about 2^18 justification roots, and the justification-validator bits
/// filling the rest. Pseudo-random bytes throughout.
fn big_state() -> Vec<u8> {
    let target: usize = 16 << 20;
    let mut x: u32 = 0x1234_5678;
    let mut noise = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect()
    };
    let history = noise(32 << 18);
    let mut justified_slots = noise(1 << 15);
    justified_slots.push(0x01);
    let validators = &LIVE_STATE[805..1253];
    let fixed_and_so_far = FIXED_PART + history.len() + justified_slots.len() + validators.len();
    let rest = target - fixed_and_so_far;
    // Roots and one bit per validator (4) per root, plus the delimiter byte.
    let roots = (rest - 1) * 2 / 65;
    let justification_roots = noise(32 * roots);
    let mut bits = noise(rest - 32 * roots);
    if let Some(b) = bits.last_mut() {
        *b |= 0x80;
    }
    let mut s = LIVE_STATE[..FIXED_PART].to_vec();
    let mut at = FIXED_PART;
    for (i, part) in [
        &history,
        &justified_slots,
        &validators.to_vec(),
        &justification_roots,
    ]
    .into_iter()
    .enumerate()
    {
        at += part.len();
        let v = u32::try_from(at).unwrap_or(u32::MAX);
        s[212 + 4 * i..216 + 4 * i].copy_from_slice(&v.to_le_bytes());
    }
    for part in [
        history,
        justified_slots,
        validators.to_vec(),
        justification_roots,
        bits,
    ] {
        s.extend_from_slice(&part);
    }
    s
}

fn in_pieces(bytes: &[u8], piece: usize) -> StateHasher {
    let mut h = StateHasher::new();
    for p in bytes.chunks(piece) {
        h.update(p);
    }
    h
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("lstar");
    assert!(state_roots(LIVE_STATE).is_ok());
    g.throughput(Throughput::Bytes(LIVE_STATE.len() as u64));
    g.bench_function("state_root/live_1254B", |b| {
        b.iter(|| state_roots(black_box(LIVE_STATE)))
    });

    let big = big_state();
    assert_eq!(big.len(), 16 << 20);
    let whole = state_roots(&big).expect("synthetic state");
    assert_eq!(in_pieces(&big, 65_536).finish(), Ok(whole));
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.sample_size(10);
    g.bench_function("state_root/16MiB", |b| {
        b.iter(|| state_roots(black_box(&big)))
    });
    g.bench_function("state_root/16MiB_in_64KiB_pieces", |b| {
        b.iter(|| in_pieces(black_box(&big), 65_536).finish())
    });
    // Reference: one plain SHA-256 over the same bytes. The tree hashes every 64-byte
    // node as two compressions (data and padding block), some 4x the input in blocks.
    g.bench_function("sha256_digest_reference/16MiB", |b| {
        b.iter(|| Sha256::digest(black_box(&big)))
    });

    g.sample_size(100);
    assert!(signed_block_roots(LIVE_BLOCK).is_ok());
    g.throughput(Throughput::Bytes(LIVE_BLOCK.len() as u64));
    g.bench_function("block_root/live_237B", |b| {
        b.iter(|| signed_block_roots(black_box(LIVE_BLOCK)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
