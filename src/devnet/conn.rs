//! One accepted connection of a simulated node, by behaviour: HTTP through the project's
//! inbound shell (`InboundConn`), or one of the raw faults (never answer, reset with
//! SO_LINGER 0, answer garbage and close).

use super::profile::{Profile, Rng};
use crate::server::conn::{Deadline, InboundConn};
use crate::server::listener::LINGER_MS;
use mio::net::TcpStream;
use nix::sys::socket::{setsockopt, sockopt::Linger};
use std::io::{self, Read, Write};

/// What a `garbage` node answers: bytes no HTTP parser accepts.
pub const GARBAGE: &[u8] = b"\x00\x17\x03\x03\xfe\xffthis is not HTTP\r\n\r\n";

/// Deadlines of HTTP connections: a request head (also before the first request),
/// keep-alive idleness, a stalled write.
pub const HEAD_TIMEOUT_MS: u64 = 10_000;
pub const IDLE_TIMEOUT_MS: u64 = 60_000;
pub const WRITE_TIMEOUT_MS: u64 = 30_000;

/// How long the deadline `kind` lasts.
pub fn http_timeout(kind: Deadline) -> u64 {
    match kind {
        Deadline::Head => HEAD_TIMEOUT_MS,
        Deadline::Idle => IDLE_TIMEOUT_MS,
        Deadline::Write => WRITE_TIMEOUT_MS,
        Deadline::Linger => LINGER_MS,
    }
}

/// An accepted connection.
pub enum NodeConn {
    /// Answers HTTP. `delayed`: a `slow` node's answer waits for its timer.
    Http {
        conn: Box<InboundConn>,
        delayed: bool,
    },
    /// Reads and never answers.
    Silent(TcpStream),
    /// Reset once the request has arrived.
    Reset(TcpStream),
    /// Answers garbage once the request has arrived, then closes.
    Garbage(TcpStream),
}

/// What to do with a raw connection after an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawStep {
    Keep,
    Close,
}

impl NodeConn {
    /// The connection a node of `profile` makes of an accepted stream.
    pub fn accept(
        profile: Profile,
        stream: TcpStream,
        now: u64,
        rng: &mut Rng,
        flaky_percent: u8,
    ) -> NodeConn {
        match profile {
            Profile::Silent => NodeConn::Silent(stream),
            Profile::Garbage => NodeConn::Garbage(stream),
            Profile::Flaky if rng.chance(flaky_percent) => NodeConn::Reset(stream),
            _ => NodeConn::Http {
                conn: Box::new(InboundConn::new(stream, now)),
                delayed: false,
            },
        }
    }

    pub fn stream_mut(&mut self) -> &mut TcpStream {
        match self {
            NodeConn::Http { conn, .. } => conn.stream_mut(),
            NodeConn::Silent(s) | NodeConn::Reset(s) | NodeConn::Garbage(s) => s,
        }
    }

    /// Handles readiness of a raw (non-HTTP) connection.
    pub fn on_raw_event(&mut self, scratch: &mut [u8]) -> RawStep {
        match self {
            NodeConn::Http { .. } => RawStep::Keep,
            NodeConn::Silent(s) => match drain(s, scratch) {
                Drained::Open(_) => RawStep::Keep,
                Drained::Closed => RawStep::Close,
            },
            NodeConn::Reset(s) => match drain(s, scratch) {
                Drained::Open(false) => RawStep::Keep,
                Drained::Open(true) => {
                    // Close with an RST instead of a FIN.
                    let linger = nix::libc::linger {
                        l_onoff: 1,
                        l_linger: 0,
                    };
                    if let Err(e) = setsockopt(s, Linger, &linger) {
                        tracing::debug!(error = %e, "SO_LINGER 0 failed");
                    }
                    RawStep::Close
                }
                Drained::Closed => RawStep::Close,
            },
            NodeConn::Garbage(s) => match drain(s, scratch) {
                Drained::Open(false) => RawStep::Keep,
                Drained::Open(true) => {
                    // Best effort: the bytes fit any socket buffer.
                    let _ = s.write(GARBAGE);
                    RawStep::Close
                }
                Drained::Closed => RawStep::Close,
            },
        }
    }
}

/// The outcome of reading everything available.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Drained {
    /// Still open; whether any byte was read.
    Open(bool),
    /// End of stream or error.
    Closed,
}

fn drain(stream: &mut TcpStream, scratch: &mut [u8]) -> Drained {
    let mut got = false;
    loop {
        match stream.read(scratch) {
            Ok(0) => return Drained::Closed,
            Ok(_) => got = true,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Drained::Open(got),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Drained::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Duration;

    /// A connected (client, server-side mio stream) pair on loopback.
    fn pair() -> (std::net::TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        (client, TcpStream::from_std(server))
    }

    /// Retries `on_raw_event` until the sent bytes have arrived (loopback is fast).
    fn event_until_not_keep(conn: &mut NodeConn) -> RawStep {
        let mut scratch = [0u8; 1024];
        for _ in 0..200 {
            if conn.on_raw_event(&mut scratch) == RawStep::Close {
                return RawStep::Close;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        RawStep::Keep
    }

    const REQUEST: &[u8] = b"GET /lean/v0/health HTTP/1.1\r\nHost: x\r\n\r\n";

    #[test]
    fn reset_sends_an_rst_after_the_request() {
        let (mut client, server) = pair();
        let mut conn = NodeConn::Reset(server);
        let mut scratch = [0u8; 64];
        assert_eq!(
            conn.on_raw_event(&mut scratch),
            RawStep::Keep,
            "nothing yet"
        );
        client.write_all(REQUEST).unwrap();
        assert_eq!(event_until_not_keep(&mut conn), RawStep::Close);
        drop(conn);
        let mut buf = [0u8; 16];
        let err = client.read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::ConnectionReset);
    }

    #[test]
    fn garbage_answers_non_http_then_closes() {
        let (mut client, server) = pair();
        let mut conn = NodeConn::Garbage(server);
        client.write_all(REQUEST).unwrap();
        assert_eq!(event_until_not_keep(&mut conn), RawStep::Close);
        drop(conn);
        let mut got = Vec::new();
        client.read_to_end(&mut got).unwrap();
        assert_eq!(got, GARBAGE);
        assert!(!got.starts_with(b"HTTP/"));
    }

    #[test]
    fn silent_reads_and_holds_until_the_client_closes() {
        let (mut client, server) = pair();
        let mut conn = NodeConn::Silent(server);
        client.write_all(REQUEST).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut scratch = [0u8; 1024];
        assert_eq!(conn.on_raw_event(&mut scratch), RawStep::Keep);
        client
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut buf = [0u8; 16];
        let e = client.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock, "no answer");
        drop(client);
        assert_eq!(event_until_not_keep(&mut conn), RawStep::Close);
    }

    #[test]
    fn flaky_resets_about_the_share_asked() {
        let mut rng = Rng::new(1);
        let mut resets = 0;
        for _ in 0..200 {
            let (_client, server) = pair();
            if let NodeConn::Reset(_) = NodeConn::accept(Profile::Flaky, server, 0, &mut rng, 30) {
                resets += 1;
            }
        }
        assert!((30..=90).contains(&resets), "{resets} of 200");
        let (_c, server) = pair();
        assert!(matches!(
            NodeConn::accept(Profile::Slow, server, 0, &mut rng, 30),
            NodeConn::Http { delayed: false, .. }
        ));
    }
}
