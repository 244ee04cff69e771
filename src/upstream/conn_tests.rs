//! The upstream socket shell on real loopback sockets: a 6 MiB state is read and hashed
//! over several `drive` calls of at most about `READ_BUDGET` bytes each (so the loop
//! serves others in between), and the hash computed while it arrived is the state's root.

use super::*;
use crate::lean::lstar::state_roots;
use mio::{Events, Poll};
use std::time::{Duration, Instant};

/// A valid lstar state of about `total` bytes: the live fixture with a longer history.
fn big_state(total: usize) -> Vec<u8> {
    let fixture: &[u8] = include_bytes!("../lean/testdata/states_finalized.ssz");
    let offset = |i: usize| {
        u32::from_le_bytes(fixture[208 + 4 * i..212 + 4 * i].try_into().unwrap()) as usize
    };
    let extra = (total - fixture.len()) / 32 * 32;
    let mut state = fixture[..228].to_vec();
    for i in 1..5 {
        let moved = u32::try_from(offset(i) + extra).unwrap();
        state[208 + 4 * i..212 + 4 * i].copy_from_slice(&moved.to_le_bytes());
    }
    state.extend_from_slice(&fixture[228..offset(1)]);
    state.extend((0..extra).map(|i| (i % 253) as u8));
    state.extend_from_slice(&fixture[offset(1)..]);
    state
}

/// A loopback server that reads one request, answers with `respond`, and lingers a
/// little so that the client reads everything before the close.
fn serve_once(
    respond: impl FnOnce(&mut std::net::TcpStream) + Send + 'static,
) -> (SocketAddr, std::thread::JoinHandle<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = std::io::Read::read(&mut s, &mut buf);
        respond(&mut s);
        std::thread::sleep(Duration::from_millis(200));
    });
    (addr, server)
}

/// Drives `conn` to its response, driving again at once after a yield and polling
/// for readiness otherwise; returns the response and the drive calls made.
fn drive_to_end(conn: &mut UpstreamConn, poll: &mut Poll) -> (Box<Completed>, Vec<usize>) {
    let mut scratch = vec![0u8; 64 * 1024];
    let mut events = Events::with_capacity(8);
    let mut steps = Vec::new();
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(10), "no response");
        let before = conn.body_len();
        let outcome = conn.drive(&mut scratch);
        steps.push(conn.body_len().saturating_sub(before));
        match outcome {
            ConnOutcome::Response(done) => return (done, steps),
            ConnOutcome::Pending if conn.yielded() => {}
            ConnOutcome::Pending => poll
                .poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap(),
            other => panic!("{other:?}"),
        }
    }
}

fn limits() -> ResponseLimits {
    ResponseLimits {
        max_body_bytes: 64 << 20,
        ..ResponseLimits::default()
    }
}

#[test]
fn a_big_state_is_hashed_over_several_bounded_drives() {
    let state = big_state(6 * 1024 * 1024);
    let expected = state_roots(&state).expect("valid state");
    let body = state.clone();
    let (addr, server) = serve_once(move |s| {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(&body).unwrap();
    });
    let mut poll = Poll::new().unwrap();
    let mut conn = UpstreamConn::connect(addr, 0, poll.registry(), Token(7), u64::MAX).unwrap();
    conn.begin_request(
        b"GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(),
        limits(),
        BodyMode {
            keep: true,
            hash_state: true,
        },
    );
    let (done, steps) = drive_to_end(&mut conn, &mut poll);
    server.join().unwrap();
    let largest_step = steps.iter().copied().max().unwrap_or(0);
    let drives = steps.len();
    assert_eq!(done.response.status, 200);
    assert_eq!(done.body_len, state.len());
    assert_eq!(done.response.body, state);
    assert_eq!(done.state, Some(Ok(expected)), "hashed while it arrived");
    assert!(
        largest_step <= READ_BUDGET + 64 * 1024,
        "one drive read {largest_step} bytes"
    );
    assert!(drives >= 6, "{drives} drives for 6 MiB");
    eprintln!("{drives} drives, largest step {largest_step} bytes");
}

#[test]
fn a_vote_state_is_hashed_and_not_kept() {
    let state = big_state(2 * 1024 * 1024);
    let expected = state_roots(&state).expect("valid state");
    let body = state.clone();
    let (addr, server) = serve_once(move |s| {
        // Chunked, as large states often are.
        s.write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap();
        for chunk in body.chunks(100_000) {
            s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
                .unwrap();
            s.write_all(chunk).unwrap();
            s.write_all(b"\r\n").unwrap();
        }
        s.write_all(b"0\r\n\r\n").unwrap();
    });
    let mut poll = Poll::new().unwrap();
    let mut conn = UpstreamConn::connect(addr, 0, poll.registry(), Token(3), u64::MAX).unwrap();
    conn.begin_request(
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(),
        limits(),
        BodyMode {
            keep: false,
            hash_state: true,
        },
    );
    let (done, _) = drive_to_end(&mut conn, &mut poll);
    server.join().unwrap();
    assert!(done.response.body.is_empty(), "a vote state is not kept");
    assert_eq!(done.body_len, state.len());
    assert_eq!(done.state, Some(Ok(expected)));
}

/// Drives `conn` until it reports something other than `Pending`.
fn drive_to_outcome(conn: &mut UpstreamConn, poll: &mut Poll) -> ConnOutcome {
    let mut scratch = vec![0u8; 64 * 1024];
    let mut events = Events::with_capacity(8);
    let started = Instant::now();
    loop {
        assert!(started.elapsed() < Duration::from_secs(10), "no outcome");
        match conn.drive(&mut scratch) {
            ConnOutcome::Pending => poll
                .poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap(),
            other => return other,
        }
    }
}

fn small_request(conn: &mut UpstreamConn) {
    let mode = BodyMode {
        keep: true,
        hash_state: false,
    };
    conn.begin_request(
        b"GET / HTTP/1.1\r\nHost: t\r\n\r\n".to_vec(),
        limits(),
        mode,
    );
}

#[test]
fn a_keep_alive_connection_closed_before_any_byte_is_retryable_once_reused_only() {
    // The server answers one request keep-alive, then closes the idle connection (its
    // keep-alive timeout) before the next request arrives.
    let (addr, server) = serve_once(|s| {
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .unwrap();
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let mut poll = Poll::new().unwrap();
    let mut conn = UpstreamConn::connect(addr, 0, poll.registry(), Token(5), u64::MAX).unwrap();
    small_request(&mut conn);
    let (done, _) = drive_to_end(&mut conn, &mut poll);
    assert!(done.response.keep_alive);
    std::thread::sleep(Duration::from_millis(50));
    small_request(&mut conn);
    match drive_to_outcome(&mut conn, &mut poll) {
        ConnOutcome::Failed { retryable, .. } => assert!(retryable, "reused, no byte"),
        other => panic!("{other:?}"),
    }
    server.join().unwrap();

    // The same close on a fresh connection is a real failure.
    let (addr, server) = serve_once(|s| {
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let mut fresh = UpstreamConn::connect(addr, 0, poll.registry(), Token(6), u64::MAX).unwrap();
    small_request(&mut fresh);
    match drive_to_outcome(&mut fresh, &mut poll) {
        ConnOutcome::Failed {
            retryable, kind, ..
        } => {
            assert!(!retryable, "a fresh connection is not retried");
            assert_eq!(kind, UpstreamErrorKind::ClosedEarly);
        }
        other => panic!("{other:?}"),
    }
    server.join().unwrap();
}
