//! Benchmarks of the HTTP/1.1 core: a typical upstream response head, a 16 MiB chunked
//! body in 16 KiB chunks, a wrk-like request head, and a response head encoding.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

use leanpoint::http1::chunked::ChunkedDecoder;
use leanpoint::http1::encode::encode_response_head;
use leanpoint::http1::request::{parse_request, RequestLimits};
use leanpoint::http1::response::{ReadProgress, ResponseLimits, ResponseReader};

const HEALTH_HEAD: &[u8] = include_bytes!("../src/http1/testdata/health.headers");
const HEALTH_BODY: &[u8] = include_bytes!("../src/http1/testdata/health.body");

const REQUEST: &[u8] = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk/4.2.0\r\nAccept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n";

fn response_head(c: &mut Criterion) {
    let mut msg = HEALTH_HEAD.to_vec();
    msg.extend_from_slice(HEALTH_BODY);
    let mut g = c.benchmark_group("response");
    g.throughput(Throughput::Bytes(msg.len() as u64));
    g.bench_function("fixture_health_head_and_body", |b| {
        b.iter(|| {
            let mut r = ResponseReader::new(ResponseLimits::default(), false);
            match r.feed(black_box(&msg)) {
                Ok(ReadProgress::Complete { response, .. }) => response,
                other => panic!("{other:?}"),
            }
        })
    });
    g.finish();
}

fn chunked_16mib(c: &mut Criterion) {
    const CHUNK: usize = 16 * 1024;
    const TOTAL: usize = 16 * 1024 * 1024;
    let data = vec![0x5Au8; CHUNK];
    let mut input = Vec::with_capacity(TOTAL + TOTAL / CHUNK * 10 + 5);
    for _ in 0..TOTAL / CHUNK {
        input.extend_from_slice(b"4000\r\n");
        input.extend_from_slice(&data);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");

    let mut g = c.benchmark_group("chunked");
    g.throughput(Throughput::Bytes(TOTAL as u64));
    g.sample_size(10);
    g.bench_function("decode_16MiB_16KiB_chunks_64KiB_reads", |b| {
        b.iter(|| {
            let mut d = ChunkedDecoder::new(TOTAL);
            let mut out = Vec::new();
            for read in input.chunks(64 * 1024) {
                d.decode(black_box(read), &mut out)
                    .unwrap_or_else(|e| panic!("{e}"));
            }
            assert!(d.is_done());
            out
        })
    });
    g.finish();
}

fn request_head(c: &mut Criterion) {
    let limits = RequestLimits::default();
    let mut g = c.benchmark_group("request");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse_wrk_like_get_status", |b| {
        b.iter(|| parse_request(black_box(REQUEST), &limits))
    });
    g.bench_function("encode_response_head", |b| {
        let mut out = Vec::with_capacity(256);
        b.iter(|| {
            out.clear();
            encode_response_head(
                &mut out,
                200,
                "application/json",
                black_box(1234),
                true,
                &[("Cache-Control", "no-cache")],
            );
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, response_head, chunked_16mib, request_head);
criterion_main!(benches);
