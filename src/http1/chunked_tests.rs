//! Tests of the chunked decoder: framing, extensions, trailers, limits, split points.

use super::*;

const SAMPLE: &[u8] =
    b"4;name=value\r\nWiki\r\n5 ; a=\"b\";c\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0;last\r\nExpires: never\r\nX-Foo: bar\r\n\r\n";
const SAMPLE_BODY: &[u8] = b"Wikipedia in\r\n\r\nchunks.";

fn decode_all(input: &[u8], cap: usize) -> Result<(Vec<u8>, ChunkProgress), ResponseError> {
    let mut d = ChunkedDecoder::new(cap);
    let mut out = Vec::new();
    let p = d.decode(input, &mut out)?;
    Ok((out, p))
}

fn err_of(input: &[u8]) -> ResponseError {
    match decode_all(input, 1 << 20) {
        Err(e) => e,
        Ok(r) => panic!("accepted {:?}: {r:?}", String::from_utf8_lossy(input)),
    }
}

#[test]
fn decodes_sample_in_one_call_and_stops_at_the_end() {
    let mut input = SAMPLE.to_vec();
    input.extend_from_slice(b"HTTP/1.1 next");
    let (out, p) = decode_all(&input, 1 << 20).unwrap();
    assert_eq!(out, SAMPLE_BODY);
    assert_eq!(
        p,
        ChunkProgress {
            consumed: SAMPLE.len(),
            done: true
        }
    );
}

#[test]
fn every_split_point() {
    for k in 0..=SAMPLE.len() {
        let mut d = ChunkedDecoder::new(1 << 20);
        let mut out = Vec::new();
        let p1 = d.decode(&SAMPLE[..k], &mut out).unwrap();
        assert_eq!(p1.consumed, k, "split {k}");
        assert_eq!(p1.done, k == SAMPLE.len(), "split {k}");
        let p2 = d.decode(&SAMPLE[k..], &mut out).unwrap();
        assert_eq!(p2.consumed, SAMPLE.len() - k);
        assert!(p2.done && d.is_done());
        assert_eq!(out, SAMPLE_BODY, "split {k}");
    }
}

#[test]
fn one_byte_at_a_time() {
    let mut d = ChunkedDecoder::new(1 << 20);
    let mut out = Vec::new();
    for (i, b) in SAMPLE.iter().enumerate() {
        let p = d.decode(std::slice::from_ref(b), &mut out).unwrap();
        assert_eq!(p.consumed, 1);
        assert_eq!(p.done, i + 1 == SAMPLE.len());
    }
    assert_eq!(out, SAMPLE_BODY);
    assert_eq!(d.decoded_len(), SAMPLE_BODY.len() as u64);
    // Once done, nothing more is consumed.
    let p = d.decode(b"more", &mut out).unwrap();
    assert_eq!(
        p,
        ChunkProgress {
            consumed: 0,
            done: true
        }
    );
}

#[test]
fn hex_sizes_upper_lower_and_leading_zeros() {
    let (out, p) = decode_all(
        b"000a\r\n0123456789\r\n0B\r\nabcdefghijk\r\n00\r\n\r\n",
        100,
    )
    .unwrap();
    assert!(p.done);
    assert_eq!(out, b"0123456789abcdefghijk");
}

#[test]
fn empty_body() {
    let (out, p) = decode_all(b"0\r\n\r\n", 0).unwrap();
    assert!(p.done && out.is_empty());
    assert_eq!(p.consumed, 5);
}

#[test]
fn rejects_bad_sizes() {
    for bad in [
        &b"\r\n"[..],
        b";ext\r\n",
        b" 4\r\n",
        b"g\r\n",
        b"0x4\r\n",
        b"-1\r\n",
        b"4 x\r\n",
        b"00000000000000001\r\n",
        b"4\n",
        b"4\rX",
        b"4;ext\nWiki",
    ] {
        assert_eq!(
            err_of(bad),
            ResponseError::BadChunk,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn sixteen_digits_parse_and_hit_the_cap() {
    assert_eq!(err_of(b"FFFFFFFFFFFFFFFF\r\n"), ResponseError::BodyTooLarge);
    let (out, p) = decode_all(b"0000000000000004\r\nWiki\r\n0\r\n\r\n", 4).unwrap();
    assert!(p.done);
    assert_eq!(out, b"Wiki");
}

#[test]
fn strict_crlf_after_data() {
    for bad in [
        &b"4\r\nWikiX"[..],
        b"4\r\nWiki\n",
        b"4\r\nWiki\r\r",
        b"4\r\nWiki\r0\r\n",
        b"4\r\nWikipedia\r\n",
    ] {
        assert_eq!(
            err_of(bad),
            ResponseError::BadChunk,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn trailer_framing() {
    for bad in [
        &b"0\r\nX: y\n\r\n"[..],
        b"0\r\n\n",
        b"0\r\nX: y\r\r\n",
        b"0\r\n\rX",
    ] {
        assert_eq!(
            err_of(bad),
            ResponseError::BadChunk,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn trailers_are_bounded() {
    let mut input = b"0\r\n".to_vec();
    let line = b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
    while input.len() < MAX_TRAILER_BYTES - line.len() {
        input.extend_from_slice(line);
    }
    let mut ok = input.clone();
    ok.extend_from_slice(b"\r\n");
    assert!(decode_all(&ok, 10).unwrap().1.done);

    while input.len() < MAX_TRAILER_BYTES + 10 {
        input.extend_from_slice(line);
    }
    input.extend_from_slice(b"\r\n");
    assert_eq!(err_of(&input), ResponseError::BadChunk);
}

#[test]
fn size_line_is_bounded_without_buffering() {
    let mut d = ChunkedDecoder::new(1 << 20);
    let mut out = Vec::new();
    d.decode(b"4;", &mut out).unwrap();
    let filler = vec![b'x'; 1024];
    let mut result = Ok(());
    for _ in 0..8 {
        if let Err(e) = d.decode(&filler, &mut out) {
            result = Err(e);
            break;
        }
    }
    assert_eq!(result, Err(ResponseError::BadChunk));
    assert!(out.is_empty());

    // A long but bounded extension is fine.
    let mut input = b"4;".to_vec();
    input.extend(std::iter::repeat_n(b'x', MAX_SIZE_LINE_BYTES - 3));
    input.extend_from_slice(b"\r\nWiki\r\n0\r\n\r\n");
    assert_eq!(decode_all(&input, 4).unwrap().0, b"Wiki");
}

#[test]
fn body_cap_is_enforced_before_the_data() {
    // Exactly at the cap.
    let (out, p) = decode_all(b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n", 9).unwrap();
    assert!(p.done);
    assert_eq!(out.len(), 9);
    // One over: refused at the second size line, before its data arrives.
    let mut d = ChunkedDecoder::new(8);
    let mut out = Vec::new();
    d.decode(b"4\r\nWiki\r\n", &mut out).unwrap();
    assert_eq!(
        d.decode(b"5\r\n", &mut out),
        Err(ResponseError::BodyTooLarge)
    );
    assert_eq!(out, b"Wiki");
}

#[test]
fn large_body_in_large_chunks() {
    let chunk = vec![0xABu8; 16 * 1024];
    let mut input = Vec::new();
    for _ in 0..64 {
        input.extend_from_slice(b"4000\r\n");
        input.extend_from_slice(&chunk);
        input.extend_from_slice(b"\r\n");
    }
    input.extend_from_slice(b"0\r\n\r\n");
    let mut d = ChunkedDecoder::new(1 << 20);
    let mut out = Vec::new();
    // Feed in odd-sized reads.
    let mut fed = 0;
    for piece in input.chunks(7919) {
        let p = d.decode(piece, &mut out).unwrap();
        fed += p.consumed;
    }
    assert_eq!(fed, input.len());
    assert!(d.is_done());
    assert_eq!(out.len(), 1 << 20);
    assert!(out.iter().all(|&b| b == 0xAB));
}
