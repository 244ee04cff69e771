//! Property tests of the pure parsers on many deterministic random inputs (splitmix64,
//! fixed seeds, no extra dependency): HTTP responses fed in random pieces decode exactly
//! as when fed whole, requests parse and pipeline the same however they arrive, random
//! SSZ states validate, upstream URLs round-trip, and random mutations never panic.
//! The coverage-guided counterpart is `fuzz/` (docs/fuzzing.md).

#[path = "parser_properties/gen.rs"]
mod gen;

use gen::Rng;
use leanpoint::config::parse_http_url;
use leanpoint::http1::chunked::ChunkedDecoder;
use leanpoint::http1::request::{parse_request, Method, RequestLimits};
use leanpoint::http1::response::{
    ReadProgress, Response, ResponseError, ResponseLimits, ResponseReader,
};
use leanpoint::lean::ssz::validate_state;

/// What reading a whole response came to.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Complete `end` bytes into the input.
    Complete(Response, usize),
    /// Input exhausted; what `eof` said.
    Eof(Result<Response, ResponseError>),
    Failed(ResponseError),
}

/// Feeds `input` in pieces of the given lengths (the tail as a last piece), then EOF.
fn read(limits: ResponseLimits, head_request: bool, input: &[u8], cuts: &[usize]) -> Outcome {
    read_tapped(
        ResponseReader::new(limits, head_request),
        input,
        cuts,
        &mut |_| {},
    )
}

/// `read` with a given reader, handing every body byte to `tap`.
fn read_tapped(
    mut reader: ResponseReader,
    input: &[u8],
    cuts: &[usize],
    tap: &mut dyn FnMut(&[u8]),
) -> Outcome {
    let mut offset = 0;
    let mut rest = input;
    let mut pieces: Vec<&[u8]> = Vec::new();
    for &n in cuts {
        let (piece, tail) = rest.split_at(n.min(rest.len()));
        pieces.push(piece);
        rest = tail;
    }
    pieces.push(rest);
    for piece in pieces {
        match reader.feed_tapped(piece, tap) {
            Ok(ReadProgress::Partial) => offset += piece.len(),
            Ok(ReadProgress::Complete { response, consumed }) => {
                assert!(consumed <= piece.len());
                return Outcome::Complete(response, offset + consumed);
            }
            Err(e) => return Outcome::Failed(e),
        }
    }
    Outcome::Eof(reader.eof())
}

#[test]
fn random_valid_responses_decode_the_same_whole_or_in_random_pieces() {
    let mut rng = Rng::new(0x5eed_0001);
    let limits = ResponseLimits::default();
    for case in 0..1500 {
        let g = gen::response(&mut rng);
        let expected = Response {
            status: g.status,
            content_type: g.content_type.clone(),
            keep_alive: g.keep_alive,
            body: g.body.clone(),
        };
        let want = if g.to_eof {
            Outcome::Eof(Ok(expected))
        } else {
            Outcome::Complete(expected, g.bytes.len())
        };
        let whole = read(limits, g.head_request, &g.bytes, &[]);
        assert_eq!(
            whole,
            want,
            "case {case}: {:?}",
            String::from_utf8_lossy(&g.bytes)
        );
        for _ in 0..4 {
            let cuts = rng.cuts(g.bytes.len());
            let split = read(limits, g.head_request, &g.bytes, &cuts);
            assert_eq!(split, want, "case {case}, cuts {cuts:?}");
        }
        // Bytes after a delimited response are not part of it.
        if !g.to_eof {
            let mut more = g.bytes.clone();
            more.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
            let cuts = rng.cuts(more.len());
            assert_eq!(
                read(limits, g.head_request, &more, &cuts),
                want,
                "case {case}"
            );
        }
    }
}

#[test]
fn the_tap_sees_exactly_the_body_and_a_discarding_reader_keeps_none_of_it() {
    let mut rng = Rng::new(0x5eed_00ff);
    let limits = ResponseLimits::default();
    for case in 0..1500 {
        let g = gen::response(&mut rng);
        let cuts = rng.cuts(g.bytes.len());
        let body_of = |outcome: Outcome| match outcome {
            Outcome::Complete(r, _) | Outcome::Eof(Ok(r)) => r.body,
            other => panic!("case {case}: {other:?}"),
        };
        // Storing: the tap sees the body, in order, and the body is kept.
        let mut tapped = Vec::new();
        let reader = ResponseReader::new(limits, g.head_request);
        let body = body_of(read_tapped(reader, &g.bytes, &cuts, &mut |b| {
            tapped.extend_from_slice(b)
        }));
        assert_eq!((&body, &tapped), (&g.body, &g.body), "case {case}");
        // Discarding: the same bytes reach the tap, none are kept.
        let mut tapped = Vec::new();
        let reader = ResponseReader::discarding(limits, g.head_request);
        let body = body_of(read_tapped(reader, &g.bytes, &cuts, &mut |b| {
            tapped.extend_from_slice(b)
        }));
        assert!(
            body.is_empty(),
            "case {case}: a discarding reader kept bytes"
        );
        assert_eq!(tapped, g.body, "case {case}");
    }
}

#[test]
fn chunked_bodies_decode_the_same_in_random_pieces() {
    let mut rng = Rng::new(0x5eed_0002);
    for _ in 0..1000 {
        let len = rng.below(2500);
        let body = rng.bytes(len);
        let coded = gen::chunked(&mut rng, &body);
        let cuts = rng.cuts(coded.len());
        let mut decoder = ChunkedDecoder::new(body.len());
        let mut out = Vec::new();
        let mut at = 0;
        for n in cuts {
            let p = decoder.decode(&coded[at..at + n], &mut out).unwrap();
            assert_eq!(p.consumed, n);
            at += n;
        }
        assert!(decoder.is_done());
        assert_eq!(out, body);
        // One byte less than the body is over the cap (unless there is no body).
        if !body.is_empty() {
            let mut small = ChunkedDecoder::new(body.len() - 1);
            let err = small.decode(&coded, &mut Vec::new());
            assert_eq!(err, Err(ResponseError::BodyTooLarge));
        }
    }
}

#[test]
fn mutated_responses_never_panic_and_split_reading_agrees_with_whole() {
    let mut rng = Rng::new(0x5eed_0003);
    for case in 0..3000 {
        let g = gen::response(&mut rng);
        let input = gen::mutate(&mut rng, &g.bytes);
        let limits = ResponseLimits {
            max_head_bytes: rng.range(16, 4096),
            max_headers: rng.below(20),
            max_body_bytes: rng.below(4000),
        };
        let whole = read(limits, g.head_request, &input, &[]);
        let cuts = rng.cuts(input.len());
        let split = read(limits, g.head_request, &input, &cuts);
        assert_eq!(
            split,
            whole,
            "case {case}: {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn random_valid_requests_parse_to_their_method_and_target() {
    let mut rng = Rng::new(0x5eed_0004);
    let limits = RequestLimits::default();
    for _ in 0..2000 {
        let (bytes, method, target) = gen::request(&mut rng);
        let req = parse_request(&bytes, &limits).unwrap().unwrap();
        let want = match method.as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            _ => Method::Other,
        };
        assert_eq!(req.method, want);
        assert_eq!(req.target, target);
        assert_eq!(req.head_len, bytes.len());
        // Every strict prefix is incomplete.
        let cut = rng.below(bytes.len());
        assert_eq!(parse_request(&bytes[..cut], &limits), Ok(None));
    }
}

#[test]
fn pipelined_requests_arriving_in_random_pieces_parse_in_order() {
    let mut rng = Rng::new(0x5eed_0005);
    let limits = RequestLimits::default();
    for _ in 0..500 {
        let reqs: Vec<_> = (0..rng.range(1, 6))
            .map(|_| gen::request(&mut rng))
            .collect();
        let stream: Vec<u8> = reqs.iter().flat_map(|r| r.0.clone()).collect();
        let mut buf = Vec::new();
        let mut got = Vec::new();
        let mut at = 0;
        for n in rng.cuts(stream.len()) {
            buf.extend_from_slice(&stream[at..at + n]);
            at += n;
            while let Some(req) = parse_request(&buf, &limits).unwrap() {
                buf.drain(..req.head_len);
                got.push(req.target);
            }
        }
        assert!(buf.is_empty());
        let want: Vec<String> = reqs.into_iter().map(|r| r.2).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn random_states_built_per_the_layout_validate() {
    let mut rng = Rng::new(0x5eed_0006);
    for _ in 0..2000 {
        let (state, [genesis, slot, justified, finalized], [jroot, froot]) = gen::state(&mut rng);
        let s = validate_state(&state).unwrap();
        assert_eq!(s.genesis_time, genesis);
        assert_eq!(s.slot, slot);
        assert_eq!(s.latest_justified.slot, justified);
        assert_eq!(s.latest_justified.root, jroot);
        assert_eq!(s.latest_finalized.slot, finalized);
        assert_eq!(s.latest_finalized.root, froot);
    }
}

#[test]
fn mutated_states_never_panic() {
    let mut rng = Rng::new(0x5eed_0007);
    let mut refused = 0;
    for _ in 0..5000 {
        let (state, ..) = gen::state(&mut rng);
        let mut m = gen::mutate(&mut rng, &state);
        // Also hit the offsets and slots directly.
        let at = rng.below(40);
        if let Some(b) = m.get_mut(if rng.one_in(2) { 208 + at / 2 } else { 8 + at }) {
            *b = rng.next_u64() as u8;
        }
        if validate_state(&m).is_err() {
            refused += 1;
        }
    }
    // Most mutations break something the check sees.
    assert!(
        refused > 2500,
        "only {refused} of 5000 mutated states refused"
    );
}

#[test]
fn random_valid_urls_round_trip() {
    let mut rng = Rng::new(0x5eed_0008);
    for _ in 0..3000 {
        let (url, host, port, prefix) = gen::url(&mut rng);
        let u = parse_http_url(&url).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            (&*host, port, &*prefix)
        );
        let again = format!("http://{}{}", u.host_header(), u.prefix);
        assert_eq!(parse_http_url(&again), Ok(u), "{again}");
    }
}

#[test]
fn mutated_urls_never_panic() {
    let mut rng = Rng::new(0x5eed_0009);
    for _ in 0..5000 {
        let (url, ..) = gen::url(&mut rng);
        let m = gen::mutate(&mut rng, url.as_bytes());
        let _ = parse_http_url(&String::from_utf8_lossy(&m));
    }
}
