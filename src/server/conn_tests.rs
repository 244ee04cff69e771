//! `InboundConn::drive` over real loopback socket pairs, without a loop or timers: the
//! deadline it asks for, pipelining behind a reply larger than the high-water mark, the
//! 304 and HTTP/1.0 keep-alive heads, and the lingering close.

use super::*;
use crate::server::router::{Body, Reply, RouteInput};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream as StdStream};
use std::time::{Duration, Instant};

const BIG: usize = 3 * 1024 * 1024;

/// A connection accepted at monotonic `now`, and the client's end (non-blocking).
fn pair(now: u64) -> (InboundConn, StdStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = StdStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    server.set_nonblocking(true).unwrap();
    client.set_nonblocking(true).unwrap();
    (InboundConn::new(TcpStream::from_std(server), now), client)
}

fn handler(input: RouteInput<'_>) -> Reply {
    match input.target {
        "/big" => Reply {
            status: 200,
            content_type: "application/octet-stream",
            body: Body::Owned(vec![7; BIG]),
            headers: Vec::new(),
        },
        "/etag" => Reply {
            status: 304,
            content_type: "application/octet-stream",
            body: Body::Empty,
            headers: vec![("ETag", "\"0xab\"".to_string())],
        },
        _ => Reply::text(200, b"ok\n"),
    }
}

fn drive(conn: &mut InboundConn, now: u64) -> Drive {
    let mut scratch = vec![0u8; 64 * 1024];
    conn.drive(DriveInput {
        now,
        limits: &RequestLimits::default(),
        handler: &mut handler,
        date: None,
        scratch: &mut scratch,
        observe: None,
    })
}

/// Reads what is readable; true at EOF.
fn drain(client: &mut StdStream, into: &mut Vec<u8>) -> bool {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match client.read(&mut chunk) {
            Ok(0) => return true,
            Ok(n) => into.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => return false,
            Err(e) => panic!("{e}"),
        }
    }
}

/// Drives and reads until `done(received)` or 5 s. Like the edge-triggered loop, a
/// connection that asks for a `Head` or `Idle` deadline is waiting for input that never
/// comes here: that is a failure while replies are still missing.
fn exchange(
    conn: &mut InboundConn,
    client: &mut StdStream,
    done: impl Fn(&[u8]) -> bool,
) -> Vec<u8> {
    let mut got = Vec::new();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "slow after {} bytes",
            got.len()
        );
        let outcome = drive(conn, 1);
        drain(client, &mut got);
        if done(&got) {
            return got;
        }
        assert!(
            matches!(outcome, Drive::Keep(Deadline::Write, _)),
            "{outcome:?} with replies missing after {} bytes",
            got.len()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_first_head_counts_from_the_accept_later_ones_from_their_first_byte() {
    let (mut conn, mut client) = pair(100);
    assert_eq!(drive(&mut conn, 150), Drive::Keep(Deadline::Head, 100));
    client.write_all(b"GET /ok HTTP/1.1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drive(&mut conn, 700), Drive::Keep(Deadline::Head, 100));
    client.write_all(b"Host: t\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let got = exchange(&mut conn, &mut client, |g| g.ends_with(b"ok\n"));
    assert!(text(&got).starts_with("HTTP/1.1 200 OK\r\n"));
    assert_eq!(conn.served, 1);
    assert!(matches!(
        drive(&mut conn, 2000),
        Drive::Keep(Deadline::Idle, _)
    ));
    client.write_all(b"GET /ok HTTP/1.1\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drive(&mut conn, 3000), Drive::Keep(Deadline::Head, 3000));
}

#[test]
fn pipelined_requests_behind_a_large_reply_are_answered_without_more_input() {
    let (mut conn, mut client) = pair(0);
    client
        .write_all(b"GET /big HTTP/1.1\r\n\r\nGET /big HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let got = exchange(&mut conn, &mut client, |g| {
        g.len() > 2 * BIG && g.ends_with(b"\r\n\r\nok\n")
    });
    assert_eq!(got.windows(9).filter(|w| w == b"HTTP/1.1 ").count(), 3);
    assert_eq!(conn.served, 3);
    assert!(conn.is_idle());
}

#[test]
fn not_modified_has_no_length_and_http10_keep_alive_is_confirmed() {
    let (mut conn, mut client) = pair(0);
    client
        .write_all(b"GET /etag HTTP/1.1\r\n\r\nGET /ok HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let got = text(&exchange(&mut conn, &mut client, |g| g.ends_with(b"ok\n")));
    let (not_modified, ok) = got.split_once("\r\n\r\n").unwrap();
    assert_eq!(not_modified, "HTTP/1.1 304 Not Modified\r\nETag: \"0xab\"");
    assert!(ok.contains("Content-Length: 3\r\n"), "{ok}");
    assert!(ok.contains("Connection: keep-alive\r\n"), "{ok}");
    assert!(matches!(
        drive(&mut conn, 5),
        Drive::Keep(Deadline::Idle, _)
    ));
}

#[test]
fn head_requests_get_the_length_but_no_body() {
    let (mut conn, mut client) = pair(0);
    client
        .write_all(b"HEAD /big HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let got = text(&exchange(&mut conn, &mut client, |g| g.ends_with(b"ok\n")));
    assert!(got.starts_with(&format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {BIG}\r\n\r\nHTTP/1.1 200 OK\r\n"
    )), "{got}");
}

#[test]
fn an_error_reply_is_followed_by_a_lingering_close() {
    let (mut conn, mut client) = pair(0);
    let mut raw = b"GET /ok HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello".to_vec();
    raw.resize(raw.len() + 20_000, b'x');
    client.write_all(&raw).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drive(&mut conn, 40), Drive::Keep(Deadline::Linger, 40));
    assert!(conn.lingering());
    // The reply, then FIN: the client reads it all and sees EOF.
    let mut got = Vec::new();
    let started = Instant::now();
    while !drain(&mut client, &mut got) {
        assert!(started.elapsed() < Duration::from_secs(2), "no EOF");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(text(&got).starts_with("HTTP/1.1 413 "), "{}", text(&got));
    assert!(text(&got).ends_with("Request bodies are not accepted\n"));
    // More bytes from the peer are discarded; its close ends the connection.
    client.write_all(b"more").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drive(&mut conn, 50), Drive::Keep(Deadline::Linger, 40));
    drop(client);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drive(&mut conn, 60), Drive::Close);
}

#[test]
fn a_lingering_close_ends_after_the_byte_cap() {
    let (mut conn, mut client) = pair(0);
    client
        .write_all(b"GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(drive(&mut conn, 1), Drive::Keep(Deadline::Linger, 1));
    let junk = vec![b'x'; 64 * 1024];
    let mut sent = 0;
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(5));
        if let Ok(n) = client.write(&junk) {
            sent += n;
        }
        if drive(&mut conn, 2) == Drive::Close {
            break;
        }
    }
    assert!(sent > LINGER_MAX_BYTES);
}

#[test]
fn a_half_closed_client_still_gets_its_replies() {
    let (mut conn, mut client) = pair(0);
    client
        .write_all(b"GET /big HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n")
        .unwrap();
    client.shutdown(std::net::Shutdown::Write).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let mut got = Vec::new();
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stuck after {}",
            got.len()
        );
        let outcome = drive(&mut conn, 1);
        drain(&mut client, &mut got);
        if outcome == Drive::Close {
            break;
        }
        assert!(
            matches!(outcome, Drive::Keep(Deadline::Write, _)),
            "{outcome:?}"
        );
    }
    drain(&mut client, &mut got);
    assert!(got.len() > BIG && got.ends_with(b"\r\n\r\nok\n"));
}

#[test]
fn the_observer_sees_every_reply_refusals_included() {
    let (mut conn, mut client) = pair(0);
    conn.peer = Some("127.0.0.1:4242".parse().unwrap());
    client
        .write_all(
            b"GET /etag HTTP/1.1\r\n\r\nHEAD /x HTTP/1.1\r\n\r\n\
              GET /x?q HTTP/1.1\r\nUser-Agent: t/1\r\n\r\n\
              GET /y HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
        )
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut seen = Vec::new();
    let mut scratch = vec![0u8; 64 * 1024];
    conn.drive(DriveInput {
        now: 1,
        limits: &RequestLimits::default(),
        handler: &mut handler,
        date: None,
        scratch: &mut scratch,
        observe: Some(&mut |e: &Exchange<'_>| {
            seen.push((
                e.method().map(str::to_string),
                e.path().map(str::to_string),
                e.status,
                e.body_bytes,
                e.user_agent().map(<[u8]>::to_vec),
                e.client,
            ))
        }),
    });
    let peer = Some("127.0.0.1:4242".parse().unwrap());
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        seen,
        vec![
            (s("GET"), s("/etag"), 304, 0, None, peer),
            (s("HEAD"), s("/x"), 200, 0, None, peer),
            (s("GET"), s("/x?q"), 200, 3, Some(b"t/1".to_vec()), peer),
            (s("GET"), s("/y"), 413, 32, None, peer),
        ]
    );
}
