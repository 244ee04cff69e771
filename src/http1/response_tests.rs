//! Tests of the response reader: every framing, malformed heads, limits, interim
//! responses, keep-alive rules, the live fixtures, split points and 1-byte feeding.

use super::*;

const FIXTURES: &[(&[u8], &[u8], &str)] = &[
    (
        include_bytes!("testdata/admin_aggregator.headers"),
        include_bytes!("testdata/admin_aggregator.body"),
        "application/json",
    ),
    (
        include_bytes!("testdata/blocks_finalized.headers"),
        include_bytes!("testdata/blocks_finalized.ssz"),
        "application/octet-stream",
    ),
    (
        include_bytes!("testdata/checkpoints_justified.headers"),
        include_bytes!("testdata/checkpoints_justified.body"),
        "application/json",
    ),
    (
        include_bytes!("testdata/fork_choice.headers"),
        include_bytes!("testdata/fork_choice.body"),
        "application/json",
    ),
    (
        include_bytes!("testdata/health.headers"),
        include_bytes!("testdata/health.body"),
        "application/json",
    ),
    (
        include_bytes!("testdata/states_finalized.headers"),
        include_bytes!("testdata/states_finalized.ssz"),
        "application/octet-stream",
    ),
];

fn reader() -> ResponseReader {
    ResponseReader::new(ResponseLimits::default(), false)
}

/// Feeds all of `input` at once; the response must complete.
fn read(input: &[u8]) -> (Response, usize) {
    read_with(reader(), input)
}

fn read_with(mut r: ResponseReader, input: &[u8]) -> (Response, usize) {
    match r.feed(input) {
        Ok(ReadProgress::Complete { response, consumed }) => (response, consumed),
        other => panic!("{:?} for {:?}", other, String::from_utf8_lossy(input)),
    }
}

fn err_of(input: &[u8]) -> ResponseError {
    err_with(reader(), input)
}

fn err_with(mut r: ResponseReader, input: &[u8]) -> ResponseError {
    match r.feed(input) {
        Err(e) => e,
        other => panic!("{:?} for {:?}", other, String::from_utf8_lossy(input)),
    }
}

/// Feeds `input` one byte at a time; returns the response and the index of the byte
/// that completed it.
fn read_bytewise(input: &[u8]) -> (Response, usize) {
    let mut r = reader();
    for (i, b) in input.iter().enumerate() {
        match r.feed(std::slice::from_ref(b)).unwrap() {
            ReadProgress::Partial => assert!(r.started()),
            ReadProgress::Complete { response, consumed } => {
                assert_eq!(consumed, 1);
                return (response, i);
            }
        }
    }
    panic!("incomplete after {} bytes", input.len());
}

fn fixture_message(head: &[u8], body: &[u8]) -> Vec<u8> {
    // The fixture heads are stored with CRLF line endings, as sent.
    assert!(head.ends_with(b"\r\n\r\n"));
    let mut m = head.to_vec();
    m.extend_from_slice(body);
    m
}

#[test]
fn live_fixtures_whole_and_bytewise() {
    for &(head, body, ct) in FIXTURES {
        let msg = fixture_message(head, body);
        let (resp, consumed) = read(&msg);
        assert_eq!(consumed, msg.len());
        assert_eq!(resp.status, 200);
        assert_eq!(resp.content_type.as_deref(), Some(ct));
        assert!(resp.keep_alive);
        assert_eq!(resp.body, body);

        let (resp2, at) = read_bytewise(&msg);
        assert_eq!(at, msg.len() - 1);
        assert_eq!(resp2, resp);
    }
}

#[test]
fn live_fixture_every_split_point_with_trailing_bytes() {
    let (head, body, _) = FIXTURES[4];
    let msg = fixture_message(head, body);
    for k in 0..msg.len() {
        let mut r = reader();
        assert_eq!(
            r.feed(&msg[..k]).unwrap(),
            ReadProgress::Partial,
            "split {k}"
        );
        assert_eq!(r.started(), k > 0);
        let mut second = msg[k..].to_vec();
        second.extend_from_slice(b"junk");
        match r.feed(&second).unwrap() {
            ReadProgress::Complete { response, consumed } => {
                assert_eq!(consumed, msg.len() - k, "split {k}");
                assert_eq!(response.body, body);
            }
            ReadProgress::Partial => panic!("partial at split {k}"),
        }
    }
}

#[test]
fn content_length_body_stops_at_its_length() {
    let (resp, consumed) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef");
    assert_eq!(resp.body, b"abc");
    assert_eq!(consumed, 38 + 3);
}

#[test]
fn identical_duplicate_content_lengths_are_accepted() {
    let (resp, _) =
        read(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\ncontent-length: 3, 3\r\n\r\nabc");
    assert_eq!(resp.body, b"abc");
}

#[test]
fn bad_content_lengths() {
    for cl in [
        &b"3\r\nContent-Length: 4"[..],
        b"3, 4",
        b"abc",
        b"-1",
        b"+3",
        b"0x3",
        b"",
        b"99999999999999999999999",
    ] {
        let mut msg = b"HTTP/1.1 200 OK\r\nContent-Length: ".to_vec();
        msg.extend_from_slice(cl);
        msg.extend_from_slice(b"\r\n\r\nabc");
        assert_eq!(
            err_of(&msg),
            ResponseError::BadContentLength,
            "{:?}",
            String::from_utf8_lossy(cl)
        );
    }
}

#[test]
fn content_length_over_cap_is_refused_before_the_body() {
    let limits = ResponseLimits {
        max_body_bytes: 10,
        ..ResponseLimits::default()
    };
    let r = ResponseReader::new(limits, false);
    assert_eq!(
        err_with(r, b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n"),
        ResponseError::BodyTooLarge
    );
    let r = ResponseReader::new(limits, false);
    let (resp, _) = read_with(
        r,
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789",
    );
    assert_eq!(resp.body.len(), 10);
    let r = ResponseReader::new(limits, false);
    assert_eq!(
        err_with(
            r,
            b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551615\r\n\r\n"
        ),
        ResponseError::BodyTooLarge
    );
}

#[test]
fn zero_content_length_completes_at_the_head() {
    let (resp, consumed) = read(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nXX");
    assert!(resp.body.is_empty() && resp.keep_alive);
    assert_eq!(consumed, 38);
}

#[test]
fn chunked_body() {
    let msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type:  text/plain \r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\nX: y\r\n\r\n";
    let (resp, consumed) = read(msg);
    assert_eq!(consumed, msg.len());
    assert_eq!(resp.body, b"Wikipedia");
    assert_eq!(resp.content_type.as_deref(), Some("text/plain"));
    assert!(resp.keep_alive);
    let (resp2, _) = read_bytewise(msg);
    assert_eq!(resp2, resp);
}

#[test]
fn chunked_wins_over_content_length_but_closes() {
    let (resp, _) = read(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    assert_eq!(resp.body, b"abc");
    assert!(!resp.keep_alive);
    // Chunked in HTTP/1.0 is decoded, but the connection is not reused.
    let (resp, _) = read(
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    );
    assert!(!resp.keep_alive);
}

#[test]
fn unsupported_transfer_encodings() {
    for te in [
        &b"gzip"[..],
        b"gzip, chunked",
        b"chunked, gzip",
        b"identity",
        b"chunked, chunked",
        b"",
    ] {
        let mut msg = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: ".to_vec();
        msg.extend_from_slice(te);
        msg.extend_from_slice(b"\r\n\r\n0\r\n\r\n");
        assert_eq!(
            err_of(&msg),
            ResponseError::UnsupportedTransferEncoding,
            "{:?}",
            String::from_utf8_lossy(te)
        );
    }
    assert_eq!(
        err_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ResponseError::UnsupportedTransferEncoding
    );
}

#[test]
fn chunk_errors_surface() {
    assert_eq!(
        err_of(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n"),
        ResponseError::BadChunk
    );
    let limits = ResponseLimits {
        max_body_bytes: 4,
        ..ResponseLimits::default()
    };
    let r = ResponseReader::new(limits, false);
    assert_eq!(
        err_with(
            r,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n"
        ),
        ResponseError::BodyTooLarge
    );
}

#[test]
fn close_delimited_body() {
    let mut r = reader();
    let head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\"";
    assert_eq!(r.feed(head).unwrap(), ReadProgress::Partial);
    assert_eq!(r.feed(b":1}").unwrap(), ReadProgress::Partial);
    let resp = r.eof().unwrap();
    assert_eq!(resp.body, b"{\"a\":1}");
    assert!(!resp.keep_alive);
    assert_eq!(resp.status, 200);
}

#[test]
fn close_delimited_body_is_capped() {
    let limits = ResponseLimits {
        max_body_bytes: 5,
        ..ResponseLimits::default()
    };
    let mut r = ResponseReader::new(limits, false);
    assert_eq!(
        r.feed(b"HTTP/1.1 200 OK\r\n\r\n12345").unwrap(),
        ReadProgress::Partial
    );
    assert_eq!(r.feed(b"6"), Err(ResponseError::BodyTooLarge));
}

#[test]
fn eof_before_completion_is_closed_early() {
    assert_eq!(reader().eof(), Err(ResponseError::ClosedEarly));
    for partial in [
        &b"HTTP/1.1 200 OK\r\nContent-Le"[..],
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\n",
    ] {
        let mut r = reader();
        assert_eq!(r.feed(partial).unwrap(), ReadProgress::Partial);
        assert!(r.started());
        assert_eq!(r.eof(), Err(ResponseError::ClosedEarly));
    }
}

#[test]
fn no_body_statuses_and_head_requests() {
    for status in [&b"204 No Content"[..], b"304 Not Modified"] {
        let mut msg = b"HTTP/1.1 ".to_vec();
        msg.extend_from_slice(status);
        let head_len = msg.len() + 4;
        msg.extend_from_slice(b"\r\n\r\nextra");
        let (resp, consumed) = read(&msg);
        assert!(resp.body.is_empty());
        assert_eq!(consumed, head_len);
    }
    // HEAD: Content-Length and even chunked describe a body that is not sent.
    for msg in [
        &b"HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let (resp, consumed) = read_with(ResponseReader::new(ResponseLimits::default(), true), msg);
        assert!(resp.body.is_empty() && resp.keep_alive);
        assert_eq!(consumed, msg.len());
    }
}

#[test]
fn interim_responses_are_skipped() {
    let msg = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    let (resp, consumed) = read(msg);
    assert_eq!(
        (resp.status, &resp.body[..], consumed),
        (200, &b"ok"[..], msg.len())
    );
    let (resp2, _) = read_bytewise(msg);
    assert_eq!(resp2, resp);
    assert_eq!(
        err_of(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
        ResponseError::BadHead
    );
}

#[test]
fn keep_alive_rules() {
    let cases: &[(&[u8], bool)] = &[
        (b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", true),
        (
            b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (
            b"HTTP/1.1 200 OK\r\nConnection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false),
        (
            b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n",
            true,
        ),
        (
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n",
            false,
        ),
    ];
    for &(msg, ka) in cases {
        assert_eq!(
            read(msg).0.keep_alive,
            ka,
            "{:?}",
            String::from_utf8_lossy(msg)
        );
    }
}

#[test]
fn malformed_heads() {
    for msg in [
        &b"HTTP/2 200 OK\r\n\r\n"[..],
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"HTTP/1.1 099 Low\r\n\r\n",
        b"FTP/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header: x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\r\n folded\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: a\0b\r\n\r\n",
        b"garbage\r\n\r\n",
    ] {
        assert_eq!(
            err_of(msg),
            ResponseError::BadHead,
            "{:?}",
            String::from_utf8_lossy(msg)
        );
    }
}

#[test]
fn leading_empty_lines_and_bare_lf_heads() {
    let (resp, _) = read(b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    assert_eq!(resp.body, b"x");
    let (resp, consumed) = read(b"HTTP/1.1 200 OK\nContent-Length: 1\n\nxy");
    assert_eq!((&resp.body[..], consumed), (&b"x"[..], 36));
}

#[test]
fn head_limits() {
    let limits = ResponseLimits {
        max_head_bytes: 64,
        max_headers: 2,
        max_body_bytes: 100,
    };
    // Exactly at the limit: accepted.
    let mut msg = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ".to_vec();
    msg.resize(64 - 4, b'a');
    msg.extend_from_slice(b"\r\n\r\n");
    assert_eq!(msg.len(), 64);
    read_with(ResponseReader::new(limits, false), &msg);
    // One more byte: refused, and refused while still incomplete when fed bytewise.
    msg.insert(40, b'a');
    assert_eq!(
        err_with(ResponseReader::new(limits, false), &msg),
        ResponseError::HeadTooLarge
    );
    let mut r = ResponseReader::new(limits, false);
    let mut got = None;
    for (i, b) in msg.iter().enumerate() {
        if let Err(e) = r.feed(std::slice::from_ref(b)) {
            got = Some((e, i));
            break;
        }
    }
    assert_eq!(got, Some((ResponseError::HeadTooLarge, 64)));
    // A head that never ends.
    let mut r = ResponseReader::new(limits, false);
    assert_eq!(r.feed(&[b'x'; 65]), Err(ResponseError::HeadTooLarge));
    // Interim heads count towards the limit.
    let mut msg = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(2);
    msg.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(
        err_with(ResponseReader::new(limits, false), &msg),
        ResponseError::HeadTooLarge
    );

    let three = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(
        err_with(ResponseReader::new(limits, false), three),
        ResponseError::TooManyHeaders
    );
    let two = b"HTTP/1.1 200 OK\r\nA: 1\r\nContent-Length: 0\r\n\r\n";
    read_with(ResponseReader::new(limits, false), two);
}

#[test]
fn reader_is_spent_after_completion_or_error() {
    let mut r = reader();
    assert!(matches!(
        r.feed(b"HTTP/1.1 204 No Content\r\n\r\n"),
        Ok(ReadProgress::Complete { .. })
    ));
    assert_eq!(r.feed(b"x"), Err(ResponseError::BadHead));
    assert_eq!(r.eof(), Err(ResponseError::ClosedEarly));

    let mut r = reader();
    assert!(r.feed(b"HTTP/9.9 200 OK\r\n\r\n").is_err());
    assert_eq!(
        r.feed(b"HTTP/1.1 200 OK\r\n\r\n"),
        Err(ResponseError::BadHead)
    );
}

#[test]
fn large_content_length_body_fed_in_reads() {
    let len = 16 * 1024 * 1024;
    let limits = ResponseLimits {
        max_body_bytes: len,
        ..ResponseLimits::default()
    };
    let mut r = ResponseReader::new(limits, false);
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {len}\r\n\r\n");
    assert_eq!(r.feed(head.as_bytes()).unwrap(), ReadProgress::Partial);
    let read_buf = vec![7u8; 64 * 1024];
    let mut left = len;
    loop {
        let n = left.min(read_buf.len());
        left -= n;
        match r.feed(&read_buf[..n]).unwrap() {
            ReadProgress::Partial => assert!(left > 0),
            ReadProgress::Complete { response, consumed } => {
                assert_eq!((left, consumed), (0, n));
                assert_eq!(response.body.len(), len);
                // Reserved once from Content-Length: no regrowth past it.
                assert_eq!(response.body.capacity(), len);
                break;
            }
        }
    }
}
