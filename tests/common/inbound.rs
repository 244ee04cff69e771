//! Client-side helpers for the public listener's tests: keep-alive connections that
//! read one response at a time, sockets with a small receive buffer, closed-or-open
//! probes, Prometheus values, a large valid SSZ state, and a leanpoint that has
//! already agreed on a healthy mock node.

use super::mock::{Behavior, MockNode, NodeData};
use super::{parse_reply, HttpReply, Leanpoint};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// A keep-alive client connection that reads responses one by one (pipelining-safe).
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    /// Connects with a 5 s read timeout.
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .expect("connect to leanpoint");
        Client::from_stream(stream)
    }

    pub fn from_stream(stream: TcpStream) -> Client {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let _ = stream.set_nodelay(true);
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Writes raw bytes.
    pub fn send(&mut self, raw: &[u8]) {
        self.stream.write_all(raw).expect("write request");
    }

    /// Sends `GET path` (keep-alive) and reads the reply.
    pub fn get(&mut self, path: &str) -> HttpReply {
        self.send(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        self.read_reply(true).expect("reply")
    }

    /// Reads one response; `with_body` false for a HEAD or 304 (Content-Length ignored).
    /// `None` at EOF, reset or timeout before a whole response arrived.
    pub fn read_reply(&mut self, with_body: bool) -> Option<HttpReply> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = parse_reply(&self.buf[..end + 4])?;
                let len = if with_body && head.status != 304 {
                    head.header("content-length")?.parse::<usize>().ok()?
                } else {
                    0
                };
                if self.buf.len() >= end + 4 + len {
                    let body = self.buf[end + 4..end + 4 + len].to_vec();
                    self.buf.drain(..end + 4 + len);
                    return Some(HttpReply { body, ..head });
                }
            }
            let mut chunk = [0u8; 64 * 1024];
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Bytes received but not yet consumed by `read_reply`.
    pub fn leftover(&self) -> &[u8] {
        &self.buf
    }
}

/// How a connection ended when read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// Orderly EOF (FIN).
    Eof,
    /// Reset by the peer.
    Reset,
    /// Still open when the wait ran out.
    Open,
}

/// Reads until EOF, reset, or `within` passes; returns what was read and how it ended.
pub fn read_to_end_within(stream: &mut TcpStream, within: Duration) -> (Vec<u8>, End) {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (out, End::Open);
        }
        let _ = stream.set_read_timeout(Some(left.max(Duration::from_millis(1))));
        match stream.read(&mut chunk) {
            Ok(0) => return (out, End::Eof),
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return (out, End::Reset),
        }
    }
}

/// Whether the server has closed `stream` (EOF or reset pending), without blocking long.
/// Discards any bytes that are readable.
pub fn is_closed(stream: &mut TcpStream) -> bool {
    read_to_end_within(stream, Duration::from_millis(20)).1 != End::Open
}

/// Opens a connection whose receive buffer is `rcvbuf` bytes (set before connecting, so
/// the advertised window stays small).
pub fn connect_small_rcvbuf(addr: SocketAddr, rcvbuf: usize) -> TcpStream {
    use nix::sys::socket::{
        connect, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType, SockaddrIn,
    };
    let SocketAddr::V4(v4) = addr else {
        panic!("IPv4 only")
    };
    let fd: OwnedFd = socket(
        AddressFamily::Inet,
        SockType::Stream,
        SockFlag::SOCK_CLOEXEC,
        None,
    )
    .expect("socket");
    setsockopt(&fd, sockopt::RcvBuf, &rcvbuf).expect("SO_RCVBUF");
    connect(fd.as_raw_fd(), &SockaddrIn::from(v4)).expect("connect");
    TcpStream::from(fd)
}

/// The value of the Prometheus sample `selector` (`name` or `name{k="v",...}`, the exact
/// label set) in `text`; None when it is missing or the text does not parse.
pub fn metric(text: &str, selector: &str) -> Option<f64> {
    super::prom::Scrape::parse(text).ok()?.select(selector)
}

/// Reads the sample `name` (a selector, as for [`metric`]) from a running leanpoint.
pub fn metric_of(lp: &Leanpoint, name: &str) -> f64 {
    let reply = lp.get("/metrics");
    assert_eq!(reply.status, 200, "metrics: {}", reply.text());
    metric(&reply.text(), name).unwrap_or_else(|| panic!("metric {name} missing"))
}

/// A valid lstar `State` of exactly `total` bytes (at least the fixture's size): the
/// fixture with its `historical_block_hashes` list grown toward its limit (2^18 roots,
/// 8 MiB) and the rest of the size in its last field, the `justifications_validators`
/// bitlist. The slots and checkpoints are the fixture's (finalized slot 18).
pub fn big_state(total: usize) -> Vec<u8> {
    let fixture = NodeData::fixture().state;
    let offset = |i: usize| -> usize {
        let at = 208 + 4 * i;
        u32::from_le_bytes(fixture[at..at + 4].try_into().unwrap()) as usize
    };
    assert_eq!(offset(0), 228, "fixture layout");
    let history = &fixture[offset(0)..offset(1)];
    let middle = &fixture[offset(1)..offset(4)];
    let room = total - 228 - middle.len() - 1;
    let hashes = (room / 32 * 32).min((1 << 18) * 32 - 32).max(history.len());
    let bits = room - hashes;
    let mut state = Vec::with_capacity(total);
    state.extend_from_slice(&fixture[..228]);
    for i in 1..5 {
        let moved = offset(i) - offset(1) + 228 + hashes;
        let moved = u32::try_from(moved).expect("offset fits u32");
        state[208 + 4 * i..212 + 4 * i].copy_from_slice(&moved.to_le_bytes());
    }
    state.extend((0..hashes).map(|i| (i % 251) as u8));
    state.extend_from_slice(middle);
    state.extend((0..bits).map(|i| (i % 241) as u8));
    state.push(0x01);
    assert_eq!(state.len(), total);
    state
}

/// A healthy mock node serving `data`, and a leanpoint (legacy `--lean-url` mode, upstream
/// `default`) started with `args` that has agreed on it (finalized slot 18) and verified
/// its bundle.
pub fn agreed(data: NodeData, args: &[&str]) -> (MockNode, Leanpoint) {
    agreed_under(data, args, None)
}

/// Same as [`agreed`], under `ulimit -n nofile` when given.
pub fn agreed_under(data: NodeData, args: &[&str], nofile: Option<u32>) -> (MockNode, Leanpoint) {
    agreed_by(data, args, |all| Leanpoint::start_with(all, nofile))
}

/// Same as [`agreed`], exec'd by `sh` after the shell commands `setup`.
pub fn agreed_after(data: NodeData, setup: &str, args: &[&str]) -> (MockNode, Leanpoint) {
    agreed_by(data, args, |all| Leanpoint::start_after(setup, all))
}

fn agreed_by(
    data: NodeData,
    args: &[&str],
    start: impl FnOnce(&[&str]) -> Leanpoint,
) -> (MockNode, Leanpoint) {
    let node = MockNode::start(Behavior::Healthy(data));
    let url = node.url();
    let mut all = vec!["--lean-url", url.as_str()];
    all.extend_from_slice(args);
    let lp = start(&all);
    let status = lp.wait_for("/status", Duration::from_secs(15), |r| {
        r.status == 200
            && r.json()["finalized_slot"].as_u64() == Some(18)
            && r.json()["bundle_verified"] == true
    });
    assert_eq!(
        status.json()["finalized_slot"],
        18,
        "no agreement: {}",
        status.text()
    );
    (node, lp)
}

/// One `GET path` with `Connection: close` on a fresh connection, as a health checker
/// does: the status and how long the whole exchange took, or `None` when no complete
/// reply came within `timeout` (connect included).
pub fn probe(addr: SocketAddr, path: &str, timeout: Duration) -> Option<(u16, Duration)> {
    let started = Instant::now();
    let mut s = TcpStream::connect_timeout(&addr, timeout).ok()?;
    let _ = s.set_nodelay(true);
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n").as_bytes())
        .ok()?;
    let left = timeout.saturating_sub(started.elapsed());
    let (bytes, end) = read_to_end_within(&mut s, left);
    let reply = parse_reply(&bytes)?;
    let complete = end == End::Eof
        || reply
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok())
            .is_some_and(|n| reply.body.len() >= n);
    complete.then(|| (reply.status, started.elapsed()))
}

/// `readers` keep-alive clients with a 64 KiB receive buffer request `path`, then each
/// reads 32 KiB every 50 ms for 3 s, so that every reply stays mid-write. Returns the
/// child's peak RSS (KiB) over that time, and the connections (left open) with the bytes
/// each one got.
pub fn slow_readers(lp: &Leanpoint, path: &str, readers: usize) -> (u64, Vec<(TcpStream, usize)>) {
    let mut conns: Vec<(TcpStream, usize)> = (0..readers)
        .map(|_| {
            let mut s = connect_small_rcvbuf(lp.addr, 64 * 1024);
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes())
                .expect("send request");
            s.set_nonblocking(true).expect("nonblocking");
            (s, 0)
        })
        .collect();
    let started = Instant::now();
    let mut peak = 0;
    let mut chunk = vec![0u8; 32 * 1024];
    while started.elapsed() < Duration::from_secs(3) {
        for (s, got) in conns.iter_mut() {
            if let Ok(n) = s.read(&mut chunk) {
                *got += n;
            }
        }
        peak = peak.max(lp.rss_kib());
        std::thread::sleep(Duration::from_millis(50));
    }
    (peak, conns)
}
