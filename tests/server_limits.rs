//! The public listener's limits on real loopback sockets: refused requests are answered
//! and closed cleanly (431, 400, 413), connection persistence, the head, idle and
//! write-stall deadlines (slowloris, a client that never reads), a 16 MiB state shared
//! by 32 slow downloads without growing memory, pipelining behind a large body, and the
//! inbound cap (oldest idle shed; otherwise new connections wait until one closes).
//!
//! The tests run one at a time (they measure time and memory on a shared machine).

mod common;

use common::inbound::{
    agreed, big_state, connect_small_rcvbuf, is_closed, metric_of, read_to_end_within,
    slow_readers, Client, End,
};
use common::mock::NodeData;
use common::parse_reply;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

const MIB: usize = 1024 * 1024;

/// The fixtures with a 16 MiB state.
fn big_data() -> NodeData {
    NodeData::with_state(big_state(16 * MIB))
}

/// Sends `raw`, reads to the end (3 s cap): the one reply, and how the connection ended.
fn refused(addr: std::net::SocketAddr, raw: &[u8]) -> (common::HttpReply, End, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.write_all(raw)
        .expect("the whole request is read, not reset");
    let (bytes, end) = read_to_end_within(&mut s, Duration::from_secs(3));
    let reply = parse_reply(&bytes).unwrap_or_else(|| panic!("no reply: {bytes:?} {end:?}"));
    (reply, end, bytes)
}

#[test]
fn refused_requests_are_answered_then_closed_cleanly() {
    let _g = serial();
    let (_node, lp) = agreed(NodeData::fixture(), &[]);

    // A 100 KB head: 431, then FIN (not a reset that could destroy the reply).
    let mut raw = b"GET /status HTTP/1.1\r\nHost: t\r\nX-Big: ".to_vec();
    raw.resize(raw.len() + 100 * 1024, b'a');
    raw.extend_from_slice(b"\r\n\r\n");
    let (reply, end, _) = refused(lp.addr, &raw);
    assert_eq!(reply.status, 431);
    assert_eq!(reply.text(), "Request header fields too large\n");
    assert_eq!(reply.header("connection"), Some("close"));
    assert_eq!(end, End::Eof);

    // Too many headers.
    let mut raw = b"GET /status HTTP/1.1\r\nHost: t\r\n".to_vec();
    for i in 0..100 {
        raw.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    let (reply, end, _) = refused(lp.addr, &raw);
    assert_eq!((reply.status, end), (431, End::Eof));

    // Content-Length and Transfer-Encoding together (smuggling), then a second request
    // hidden in the "body": 400, and nothing after it is answered.
    let (reply, end, bytes) = refused(
        lp.addr,
        b"GET /status HTTP/1.1\r\nHost: t\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (400, "Bad request\n")
    );
    assert_eq!(end, End::Eof);
    assert_eq!(bytes.windows(9).filter(|w| w == b"HTTP/1.1 ").count(), 1);

    // A body.
    let (reply, end, _) = refused(
        lp.addr,
        b"GET /status HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert!(matches!(reply.status, 400 | 413), "{}", reply.status);
    assert_eq!(end, End::Eof);
    let (reply, end, _) = refused(
        lp.addr,
        b"POST /status HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    // Any method but GET/HEAD is 405 as the contract says, body or not; then close.
    assert_eq!(
        (reply.status, reply.text().as_str()),
        (405, "Method not allowed\n")
    );
    assert_eq!(end, End::Eof);
    let (reply, end, _) = refused(
        lp.addr,
        b"POST /status HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!((reply.status, end), (405, End::Eof));

    // Garbage and an unknown version.
    let (reply, end, _) = refused(
        lp.addr,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    );
    assert_eq!((reply.status, end), (400, End::Eof));
    let (reply, end, _) = refused(lp.addr, b"GET / HTTP/2.0\r\n\r\n");
    assert_eq!((reply.status, end), (400, End::Eof));

    // The server is still fine.
    assert_eq!(lp.get("/healthz").text(), "ok\n");
}

#[test]
fn connection_persistence_follows_version_and_connection_header() {
    let _g = serial();
    let (_node, lp) = agreed(NodeData::fixture(), &[]);
    for raw in [
        "GET /healthz HTTP/1.0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Close\r\n\r\n",
    ] {
        let started = Instant::now();
        let mut s = TcpStream::connect(lp.addr).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let (bytes, end) = read_to_end_within(&mut s, Duration::from_secs(3));
        assert_eq!(end, End::Eof, "{raw:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "{raw:?}");
        let reply = parse_reply(&bytes).unwrap();
        assert_eq!(
            (reply.status, reply.text().as_str()),
            (200, "ok\n"),
            "{raw:?}"
        );
        assert_eq!(reply.header("connection"), Some("close"), "{raw:?}");
    }
    // HTTP/1.0 with keep-alive: told so, and the connection stays usable.
    let mut c = Client::connect(lp.addr);
    for _ in 0..3 {
        c.send(b"GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
        let reply = c.read_reply(true).expect("reply");
        assert_eq!(reply.text(), "ok\n");
        assert_eq!(reply.header("connection"), Some("keep-alive"));
    }
    // HTTP/1.1 default: persistent, no Connection header needed.
    let mut c = Client::connect(lp.addr);
    for _ in 0..3 {
        let reply = c.get("/healthz");
        assert_eq!(reply.text(), "ok\n");
        assert_eq!(reply.header("connection"), None);
    }
}

#[test]
fn head_and_idle_deadlines_close_silent_connections() {
    let _g = serial();
    let (_node, lp) = agreed(
        NodeData::fixture(),
        &["--header-timeout-ms", "800", "--idle-timeout-ms", "500"],
    );
    let before = metric_of(&lp, "leanpoint_inbound_timed_out_total");

    // Connects and says nothing: closed at the head deadline.
    let t0 = Instant::now();
    let mut silent = TcpStream::connect(lp.addr).unwrap();
    // Waits, then starts a head and trickles it: still closed 800 ms after connecting.
    let mut late = TcpStream::connect(lp.addr).unwrap();
    // One request, then idle: closed at the idle deadline.
    let mut idle = Client::connect(lp.addr);
    assert_eq!(idle.get("/healthz").text(), "ok\n");
    let idle_from = Instant::now();

    std::thread::sleep(Duration::from_millis(650));
    late.write_all(b"GET /status HTTP/1.1\r\n").unwrap();
    let mut closed = [None::<Duration>; 3];
    while t0.elapsed() < Duration::from_secs(3) && closed.iter().any(Option::is_none) {
        let _ = late.write_all(b"X");
        for (i, s) in [&mut silent, &mut late, &mut idle.stream]
            .into_iter()
            .enumerate()
        {
            if closed[i].is_none() && is_closed(s) {
                closed[i] = Some(t0.elapsed());
            }
        }
        std::thread::sleep(Duration::from_millis(30));
    }
    let [silent_at, late_at, idle_at] = closed.map(|c| c.expect("closed by a deadline"));
    assert!(silent_at >= Duration::from_millis(750), "{silent_at:?}");
    assert!(silent_at < Duration::from_millis(1500), "{silent_at:?}");
    assert!(
        late_at < Duration::from_millis(1250),
        "the first head deadline counts from the accept: {late_at:?}"
    );
    let idle_for = idle_at - idle_from.duration_since(t0);
    assert!(idle_for >= Duration::from_millis(450), "{idle_for:?}");
    assert!(idle_for < Duration::from_millis(1300), "{idle_for:?}");
    let after = metric_of(&lp, "leanpoint_inbound_timed_out_total");
    assert!(after - before >= 3.0, "{before} -> {after}");
}

#[test]
fn slowloris_is_cut_at_the_head_deadline_and_healthz_stays_fast() {
    let _g = serial();
    let (_node, lp) = agreed(NodeData::fixture(), &["--header-timeout-ms", "1000"]);
    const N: usize = 300;
    let mut slow: Vec<(TcpStream, Instant, Option<Duration>)> = Vec::with_capacity(N);
    for _ in 0..N {
        let mut s = TcpStream::connect(lp.addr).expect("connect");
        s.write_all(b"GET /status HTTP/1.1\r\nHost: t\r\nX-Slow: ")
            .unwrap();
        s.set_nonblocking(true).unwrap();
        slow.push((s, Instant::now(), None));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    while started.elapsed() < Duration::from_millis(2500) {
        for (s, opened, closed) in slow.iter_mut().filter(|e| e.2.is_none()) {
            let _ = s.write_all(b"a");
            let mut byte = [0u8; 64];
            match s.read(&mut byte) {
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Ok(n) if n > 0 => panic!("a slowloris connection got an answer"),
                _ => *closed = Some(opened.elapsed()),
            }
        }
        let t = Instant::now();
        let reply = lp.get("/healthz");
        latencies.push(t.elapsed());
        assert_eq!((reply.status, reply.text().as_str()), (200, "ok\n"));
        std::thread::sleep(Duration::from_millis(80));
    }
    latencies.sort();
    let worst = *latencies.last().unwrap();
    let median = latencies[latencies.len() / 2];
    eprintln!("healthz under slowloris: median {median:?}, worst {worst:?}");
    assert!(worst < Duration::from_millis(200), "worst {worst:?}");
    for (i, (_, _, closed)) in slow.iter().enumerate() {
        let at = closed.unwrap_or_else(|| panic!("slowloris #{i} still open"));
        assert!(
            at >= Duration::from_millis(900),
            "#{i} closed early at {at:?}"
        );
        assert!(
            at < Duration::from_millis(2200),
            "#{i} closed late at {at:?}"
        );
    }
    assert!(metric_of(&lp, "leanpoint_inbound_timed_out_total") >= N as f64);
    assert_eq!(metric_of(&lp, "leanpoint_inbound_connections"), 1.0);
}

#[test]
fn a_client_that_never_reads_is_dropped_at_the_write_stall_deadline() {
    let _g = serial();
    let data = big_data();
    let len = data.state.len();
    let (_node, lp) = agreed(data, &["--write-timeout-ms", "1000", "--poll-ms", "60000"]);
    let head = common::http_request(
        lp.addr,
        "HEAD /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        head.header("content-length"),
        Some(len.to_string().as_str())
    );
    let before = metric_of(&lp, "leanpoint_inbound_timed_out_total");

    let mut s = connect_small_rcvbuf(lp.addr, 4096);
    s.write_all(b"GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let sent = Instant::now();
    let mut dropped_after = None;
    while sent.elapsed() < Duration::from_secs(8) {
        std::thread::sleep(Duration::from_millis(100));
        if metric_of(&lp, "leanpoint_inbound_timed_out_total") > before {
            dropped_after = Some(sent.elapsed());
            break;
        }
    }
    let after = dropped_after.expect("the stalled connection was not dropped");
    assert!(after >= Duration::from_millis(900), "{after:?}");
    assert!(after < Duration::from_secs(4), "{after:?}");
    let (bytes, end) = read_to_end_within(&mut s, Duration::from_secs(3));
    assert_ne!(end, End::Open, "the server closed it");
    assert!(bytes.len() < len, "{} bytes", bytes.len());
    assert_eq!(metric_of(&lp, "leanpoint_inbound_connections"), 1.0);
}

#[test]
fn thirty_two_slow_downloads_share_one_state() {
    let _g = serial();
    let data = big_data();
    let state = data.state.clone();
    let (_node, lp) = agreed(data, &["--poll-ms", "60000"]);
    // One whole download, byte for byte, also warms the allocator.
    let mut c = Client::connect(lp.addr);
    let full = c.get("/lean/v0/states/finalized");
    assert!(full.body == state, "served state differs");
    drop(c);
    std::thread::sleep(Duration::from_millis(200));
    let baseline = lp.rss_kib();

    let (peak, conns) = slow_readers(&lp, "/lean/v0/states/finalized", 32);
    let peak = peak.max(baseline);
    let growth_kib = peak.saturating_sub(baseline);
    eprintln!("RSS baseline {baseline} KiB, peak {peak} KiB, growth {growth_kib} KiB");
    assert!(conns.iter().all(|(_, got)| *got > 0 && *got < state.len()));
    assert!(growth_kib <= 8 * 1024, "RSS grew by {growth_kib} KiB");
    assert_eq!(metric_of(&lp, "leanpoint_inbound_connections"), 33.0);
}

#[test]
fn pipelined_requests_behind_a_large_body_are_answered() {
    let _g = serial();
    let data = big_data();
    let len = data.state.len();
    let (_node, lp) = agreed(data, &["--poll-ms", "60000"]);
    let mut c = Client::connect(lp.addr);
    c.send(
        b"GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n\
          GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    let started = Instant::now();
    for i in 0..4 {
        let reply = c
            .read_reply(true)
            .unwrap_or_else(|| panic!("reply {i} missing"));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body.len(), if i == 2 { 3 } else { len }, "#{i}");
    }
    assert!(started.elapsed() < Duration::from_secs(8));
    let (rest, end) = read_to_end_within(&mut c.stream, Duration::from_secs(2));
    assert!(rest.is_empty() && c.leftover().is_empty());
    assert_eq!(end, End::Eof);
}

#[test]
fn at_the_cap_the_oldest_idle_connection_is_shed() {
    let _g = serial();
    let (_node, lp) = agreed(NodeData::fixture(), &["--max-connections", "20"]);
    let mut idle: Vec<Client> = Vec::new();
    for _ in 0..20 {
        let mut c = Client::connect(lp.addr);
        assert_eq!(c.get("/status").status, 200);
        idle.push(c);
        std::thread::sleep(Duration::from_millis(5));
    }
    // A 21st connection is served; exactly the oldest idle one made room.
    let mut newcomer = Client::connect(lp.addr);
    assert_eq!(newcomer.get("/status").status, 200);
    assert!(is_closed(&mut idle[0].stream), "oldest idle not shed");
    for (i, c) in idle.iter_mut().enumerate().skip(1) {
        assert!(!is_closed(&mut c.stream), "#{i} shed needlessly");
    }
    // The metrics request sheds the next oldest: two sheds in all.
    assert_eq!(metric_of(&lp, "leanpoint_inbound_shed_total"), 2.0);
    assert!(is_closed(&mut idle[1].stream));
    assert_eq!(idle[2].get("/healthz").text(), "ok\n");
    assert_eq!(newcomer.get("/healthz").text(), "ok\n");
}

#[test]
fn at_the_cap_without_idle_connections_newcomers_wait() {
    let _g = serial();
    // Heads are never displaced here (a grace longer than the test): only idle ones are.
    let (_node, lp) = agreed(
        NodeData::fixture(),
        &["--max-connections", "20", "--head-grace-ms", "60000"],
    );
    let partial = |addr| {
        let mut c = Client::connect(addr);
        c.send(b"GET /status HTTP/1.1\r\nHost: t\r\n");
        c
    };
    let mut busy: Vec<Client> = (0..20).map(|_| partial(lp.addr)).collect();
    std::thread::sleep(Duration::from_millis(200));

    // A newcomer is queued by the kernel, not answered.
    let mut waiting = Client::connect(lp.addr);
    waiting.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    waiting
        .stream
        .set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    assert!(waiting.read_reply(true).is_none(), "answered over the cap");
    // One closes: accepting resumes as soon as a slot is free.
    busy.truncate(19);
    waiting
        .stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let reply = waiting
        .read_reply(true)
        .expect("admitted after some closed");
    assert_eq!(reply.text(), "ok\n");

    // Full again with busy connections only.
    drop(waiting);
    busy.push(partial(lp.addr));
    std::thread::sleep(Duration::from_millis(200));
    let mut second = Client::connect(lp.addr);
    second.send(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
    second
        .stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    assert!(second.read_reply(true).is_none(), "answered over the cap");
    // One busy connection finishes its request and goes idle: it is shed for the newcomer.
    busy[0].send(b"\r\n");
    assert_eq!(busy[0].read_reply(true).expect("reply").status, 200);
    second
        .stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let reply = second
        .read_reply(true)
        .expect("admitted by shedding the idle one");
    assert_eq!(reply.text(), "ok\n");
    assert!(is_closed(&mut busy[0].stream));
    drop(busy);
    let m = lp.wait_for("/metrics", Duration::from_secs(3), |r| r.status == 200);
    let shed = common::inbound::metric(&m.text(), "leanpoint_inbound_shed_total").unwrap();
    assert!(shed >= 1.0, "{shed}");
}
