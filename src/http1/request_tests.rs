//! Tests of the request parser: methods, versions, keep-alive, bodies and smuggling,
//! limits, incomplete input, pipelining.

use super::*;

const WRK: &[u8] = b"GET /status HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";

fn parse(buf: &[u8]) -> Result<Option<Request>, RequestError> {
    parse_request(buf, &RequestLimits::default())
}

fn ok(buf: &[u8]) -> Request {
    match parse(buf) {
        Ok(Some(r)) => r,
        other => panic!("{other:?} for {:?}", String::from_utf8_lossy(buf)),
    }
}

fn err(buf: &[u8]) -> RequestError {
    match parse(buf) {
        Err(e) => e,
        other => panic!("{other:?} for {:?}", String::from_utf8_lossy(buf)),
    }
}

#[test]
fn parses_a_simple_get() {
    let r = ok(WRK);
    assert_eq!(
        r,
        Request {
            method: Method::Get,
            target: "/status".into(),
            minor_version: 1,
            keep_alive: true,
            if_none_match: None,
            head_len: WRK.len(),
        }
    );
}

#[test]
fn methods() {
    assert_eq!(ok(b"HEAD /a?b=c HTTP/1.1\r\n\r\n").method, Method::Head);
    assert_eq!(ok(b"HEAD /a?b=c HTTP/1.1\r\n\r\n").target, "/a?b=c");
    for m in ["POST", "PUT", "DELETE", "OPTIONS", "get", "PATCH", "BREW"] {
        let line = format!("{m} / HTTP/1.1\r\n\r\n");
        assert_eq!(ok(line.as_bytes()).method, Method::Other, "{m}");
    }
}

#[test]
fn every_prefix_is_incomplete() {
    let msg = b"GET /x HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"abc\"\r\n\r\n";
    for k in 0..msg.len() {
        assert_eq!(parse(&msg[..k]), Ok(None), "prefix {k}");
    }
    let r = ok(msg);
    assert_eq!(r.if_none_match.as_deref(), Some("\"abc\""));
    assert_eq!(r.head_len, msg.len());
}

#[test]
fn pipelined_requests_are_found_by_head_len() {
    let mut buf = WRK.to_vec();
    buf.extend_from_slice(b"HEAD /metrics HTTP/1.1\r\nConnection: close\r\n\r\nGET /par");
    let first = ok(&buf);
    assert_eq!(first.head_len, WRK.len());
    let rest = &buf[first.head_len..];
    let second = ok(rest);
    assert_eq!(
        (second.method, second.target.as_str()),
        (Method::Head, "/metrics")
    );
    assert!(!second.keep_alive);
    assert_eq!(parse(&rest[second.head_len..]), Ok(None));
}

#[test]
fn keep_alive_per_version_and_connection() {
    let cases: &[(&[u8], bool)] = &[
        (b"GET / HTTP/1.1\r\n\r\n", true),
        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false),
        (
            b"GET / HTTP/1.1\r\nConnection: Upgrade,  Close \r\n\r\n",
            false,
        ),
        (
            b"GET / HTTP/1.1\r\nconnection: keep-alive\r\nConnection: close\r\n\r\n",
            false,
        ),
        (b"GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", true),
        (b"GET / HTTP/1.0\r\n\r\n", false),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        (
            b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n",
            false,
        ),
    ];
    for &(msg, ka) in cases {
        assert_eq!(ok(msg).keep_alive, ka, "{:?}", String::from_utf8_lossy(msg));
    }
    assert_eq!(ok(b"GET / HTTP/1.0\r\n\r\n").minor_version, 0);
}

#[test]
fn versions() {
    for msg in [
        &b"GET / HTTP/2.0\r\n\r\n"[..],
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
    ] {
        assert_eq!(
            err(msg),
            RequestError::BadVersion,
            "{:?}",
            String::from_utf8_lossy(msg)
        );
    }
}

#[test]
fn malformed_requests() {
    for msg in [
        &b"GET\r\n\r\n"[..],
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET /a b HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nNoColon\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
        b"GET / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ] {
        let e = err(msg);
        assert!(
            matches!(e, RequestError::Malformed | RequestError::BadVersion),
            "{e:?} for {:?}",
            String::from_utf8_lossy(msg)
        );
        assert_eq!(e.status(), 400);
    }
}

#[test]
fn bodies_and_smuggling() {
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"),
        RequestError::BodyNotAllowed
    );
    // Other methods are answered 405 (the router's job), then the connection closes.
    let post = ok(b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!((post.method, post.keep_alive), (Method::Other, false));
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
        RequestError::BodyNotAllowed
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        RequestError::Smuggling
    );
    assert_eq!(
        err(b"GET / HTTP/1.1\r\ntransfer-encoding: gzip\r\ncontent-length: 3\r\n\r\n"),
        RequestError::Smuggling
    );
    assert_eq!(RequestError::Smuggling.status(), 400);
    assert_eq!(RequestError::BodyNotAllowed.status(), 413);
    let r = ok(b"GET / HTTP/1.1\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n");
    assert_eq!(r.method, Method::Get);
}

#[test]
fn head_size_limit() {
    let limits = RequestLimits {
        max_head_bytes: 64,
        max_headers: 8,
    };
    let mut msg = b"GET / HTTP/1.1\r\nX: ".to_vec();
    msg.resize(60, b'a');
    msg.extend_from_slice(b"\r\n\r\n");
    assert_eq!(msg.len(), 64);
    assert_eq!(parse_request(&msg, &limits).unwrap().unwrap().head_len, 64);
    // Complete but one byte over.
    msg.insert(30, b'a');
    assert_eq!(
        parse_request(&msg, &limits),
        Err(RequestError::HeadTooLarge)
    );
    // Incomplete: fine below the limit, refused once the limit is reached.
    assert_eq!(parse_request(&msg[..63], &limits), Ok(None));
    assert_eq!(
        parse_request(&msg[..64], &limits),
        Err(RequestError::HeadTooLarge)
    );
    assert_eq!(
        parse_request(&[b'G'; 1000][..], &limits),
        Err(RequestError::HeadTooLarge)
    );
    // A complete head within the limit followed by more bytes is fine.
    let mut pipelined = WRK.to_vec();
    pipelined.extend_from_slice(&[b'x'; 200]);
    assert_eq!(
        parse_request(&pipelined, &limits)
            .unwrap()
            .unwrap()
            .head_len,
        WRK.len()
    );
    assert_eq!(RequestError::HeadTooLarge.status(), 431);
}

#[test]
fn header_count_limit() {
    let small = RequestLimits {
        max_head_bytes: 8192,
        max_headers: 2,
    };
    assert!(
        parse_request(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n", &small)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        parse_request(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", &small),
        Err(RequestError::TooManyHeaders)
    );
    // Detected before the head is complete.
    assert_eq!(
        parse_request(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n", &small),
        Err(RequestError::TooManyHeaders)
    );
    // Beyond the stack array: the heap fallback honours the limit too.
    let big = RequestLimits {
        max_head_bytes: 1 << 20,
        max_headers: 100,
    };
    let mut msg = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..100 {
        msg.extend_from_slice(format!("H{i}: v\r\n").as_bytes());
    }
    let mut over = msg.clone();
    msg.extend_from_slice(b"\r\n");
    assert!(parse_request(&msg, &big).unwrap().is_some());
    assert_eq!(
        parse_request(&msg, &RequestLimits::default()),
        Err(RequestError::TooManyHeaders)
    );
    over.extend_from_slice(b"H100: v\r\n\r\n");
    assert_eq!(
        parse_request(&over, &big),
        Err(RequestError::TooManyHeaders)
    );
    assert_eq!(RequestError::TooManyHeaders.status(), 431);
}

#[test]
fn if_none_match_variants() {
    let r = ok(b"GET / HTTP/1.1\r\nIf-None-Match:   W/\"1\"  \r\nif-none-match: \"2\"\r\n\r\n");
    assert_eq!(r.if_none_match.as_deref(), Some("W/\"1\", \"2\""));
}

#[test]
fn leading_empty_line_is_tolerated() {
    let r = ok(b"\r\nGET / HTTP/1.1\r\n\r\n");
    assert_eq!(r.head_len, 20);
}
