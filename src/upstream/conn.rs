//! The socket shell of one upstream connection: non-blocking connect completed with
//! `take_error` then `peer_addr`, the request write, the response read through the pure
//! `ResponseReader` (a state body fed to the incremental `StateHasher` as it arrives,
//! and kept or only counted), and the idle keep-alive state. It never arms timers or
//! decides what a failure means for the poll; the engine does.

use crate::app::UpstreamErrorKind;
use crate::http1::response::{ReadProgress, Response, ResponseLimits, ResponseReader};
use crate::lean::lstar::{LayoutError, StateHasher, StateRoots};
use crate::timer::TimerSlot;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::io::{self, Read, Write};
use std::net::SocketAddr;

/// Where the connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnPhase {
    Connecting,
    Writing,
    Reading,
    Idle,
}

/// What driving the connection produced.
#[derive(Debug)]
pub enum ConnOutcome {
    /// Waiting for the socket.
    Pending,
    /// A complete response; the connection is idle (or must be closed if not keep-alive).
    Response(Box<Completed>),
    /// The request failed; `retryable` when it ran on a reused connection and nothing
    /// of the response had arrived (a server closing an idle keep-alive connection).
    Failed {
        kind: UpstreamErrorKind,
        detail: String,
        retryable: bool,
    },
    /// An idle connection was closed by the server (or sent unsolicited bytes).
    IdleClosed,
}

/// A complete response with what was computed while it arrived.
#[derive(Debug)]
pub struct Completed {
    pub response: Response,
    /// Body bytes received (kept or not).
    pub body_len: usize,
    /// What the state hasher made of the body, when the request asked for it.
    pub state: Option<Result<StateRoots, LayoutError>>,
}

/// What to do with a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyMode {
    /// Keep the bytes (else only count them).
    pub keep: bool,
    /// Feed them to the incremental state hasher.
    pub hash_state: bool,
}

/// Most body bytes one `drive` call reads (and so hashes) before it yields: a 16 MiB
/// state arriving at loopback speed is hashed over several loop iterations, so inbound
/// clients are served in between.
pub const READ_BUDGET: usize = 1024 * 1024;

/// One upstream socket.
pub struct UpstreamConn {
    /// Index of the upstream it belongs to.
    pub upstream: usize,
    stream: TcpStream,
    pub phase: ConnPhase,
    out: Vec<u8>,
    out_pos: usize,
    reader: Option<ResponseReader>,
    /// Boxed: a hasher is about 2 KiB, and most requests have none.
    hasher: Option<Box<StateHasher>>,
    /// Body bytes of the response in progress.
    body_len: usize,
    /// The last `drive` stopped at [`READ_BUDGET`] with bytes possibly left in the
    /// socket: drive it again without waiting for readiness (edge-triggered).
    yielded: bool,
    /// A response was completed on it before (so a failure before any byte may be a
    /// stale keep-alive connection).
    pub reused: bool,
    /// Its one armed deadline.
    pub timer: TimerSlot,
    /// Monotonic ms at which the connect phase times out.
    pub connect_deadline: u64,
}

impl UpstreamConn {
    /// Starts a non-blocking connect and registers the socket for both directions.
    pub fn connect(
        addr: SocketAddr,
        upstream: usize,
        registry: &Registry,
        token: Token,
        connect_deadline: u64,
    ) -> io::Result<Self> {
        let mut stream = TcpStream::connect(addr)?;
        registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
        Ok(UpstreamConn {
            upstream,
            stream,
            phase: ConnPhase::Connecting,
            out: Vec::new(),
            out_pos: 0,
            reader: None,
            hasher: None,
            body_len: 0,
            yielded: false,
            reused: false,
            timer: TimerSlot::default(),
            connect_deadline,
        })
    }

    /// Queues a request; the write starts once connected.
    pub fn begin_request(&mut self, request: Vec<u8>, limits: ResponseLimits, mode: BodyMode) {
        debug_assert!(matches!(
            self.phase,
            ConnPhase::Connecting | ConnPhase::Idle
        ));
        self.out = request;
        self.out_pos = 0;
        self.reader = Some(if mode.keep {
            ResponseReader::new(limits, false)
        } else {
            ResponseReader::discarding(limits, false)
        });
        self.hasher = mode.hash_state.then(|| Box::new(StateHasher::new()));
        self.body_len = 0;
        if self.phase == ConnPhase::Idle {
            self.phase = ConnPhase::Writing;
        }
    }

    fn fail(&self, kind: UpstreamErrorKind, detail: String) -> ConnOutcome {
        let started = self.reader.as_ref().is_some_and(|r| r.started());
        ConnOutcome::Failed {
            kind,
            detail,
            retryable: self.reused && !started,
        }
    }

    /// Whether the last `drive` yielded at the read budget (see [`READ_BUDGET`]).
    pub fn yielded(&self) -> bool {
        self.yielded
    }

    /// Body bytes received for the response in progress.
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// Drives the connection as far as the socket allows, reading at most about
    /// [`READ_BUDGET`] bytes. Every event may be spurious.
    pub fn drive(&mut self, scratch: &mut [u8]) -> ConnOutcome {
        self.yielded = false;
        loop {
            match self.phase {
                ConnPhase::Connecting => {
                    match self.stream.take_error() {
                        Ok(None) => {}
                        Ok(Some(e)) | Err(e) => {
                            return self.fail(connect_error_kind(&e), format!("connect: {e}"))
                        }
                    }
                    match self.stream.peer_addr() {
                        Ok(_) => {
                            if self.reader.is_none() {
                                self.phase = ConnPhase::Idle;
                                return ConnOutcome::Pending;
                            }
                            self.phase = ConnPhase::Writing;
                        }
                        Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                            return ConnOutcome::Pending
                        }
                        Err(e) => {
                            return self.fail(connect_error_kind(&e), format!("connect: {e}"))
                        }
                    }
                }
                ConnPhase::Writing => {
                    while self.out_pos < self.out.len() {
                        match self.stream.write(&self.out[self.out_pos..]) {
                            Ok(0) => {
                                return self.fail(
                                    UpstreamErrorKind::ClosedEarly,
                                    "write returned 0".into(),
                                )
                            }
                            Ok(n) => self.out_pos += n,
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                return ConnOutcome::Pending
                            }
                            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                            Err(e) => return self.fail(io_error_kind(&e), format!("write: {e}")),
                        }
                    }
                    self.phase = ConnPhase::Reading;
                }
                ConnPhase::Reading => return self.read_response(scratch),
                ConnPhase::Idle => {
                    return match self.stream.read(scratch) {
                        Err(e)
                            if matches!(
                                e.kind(),
                                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                            ) =>
                        {
                            ConnOutcome::Pending
                        }
                        _ => ConnOutcome::IdleClosed,
                    }
                }
            }
        }
    }

    fn read_response(&mut self, scratch: &mut [u8]) -> ConnOutcome {
        let mut read = 0usize;
        loop {
            if read >= READ_BUDGET {
                self.yielded = true;
                return ConnOutcome::Pending;
            }
            let Some(reader) = self.reader.as_mut() else {
                return ConnOutcome::Pending;
            };
            let (hasher, body_len) = (&mut self.hasher, &mut self.body_len);
            let mut tap = |bytes: &[u8]| {
                *body_len += bytes.len();
                if let Some(h) = hasher.as_mut() {
                    h.update(bytes);
                }
            };
            match self.stream.read(scratch) {
                Ok(0) => {
                    return match reader.eof() {
                        Ok(response) => self.complete(response),
                        Err(e) => {
                            let kind = crate::upstream::poll::response_error_kind(e);
                            self.fail(kind, format!("{e}"))
                        }
                    }
                }
                Ok(n) => match reader.feed_tapped(&scratch[..n], &mut tap) {
                    Ok(ReadProgress::Partial) => read += n,
                    Ok(ReadProgress::Complete {
                        mut response,
                        consumed,
                    }) => {
                        // Bytes beyond the framing: the peer lied about a length, so
                        // the connection cannot be trusted for another request.
                        if consumed < n {
                            response.keep_alive = false;
                        }
                        return self.complete(response);
                    }
                    Err(e) => {
                        let kind = crate::upstream::poll::response_error_kind(e);
                        return ConnOutcome::Failed {
                            kind,
                            detail: format!("{e}"),
                            retryable: false,
                        };
                    }
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ConnOutcome::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail(io_error_kind(&e), format!("read: {e}")),
            }
        }
    }

    fn complete(&mut self, response: Response) -> ConnOutcome {
        self.reader = None;
        self.out = Vec::new();
        self.reused = true;
        self.phase = ConnPhase::Idle;
        ConnOutcome::Response(Box::new(Completed {
            response,
            body_len: self.body_len,
            state: self.hasher.take().map(|h| h.finish()),
        }))
    }
}

/// Kind of a connect-phase error.
fn connect_error_kind(e: &io::Error) -> UpstreamErrorKind {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => UpstreamErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => UpstreamErrorKind::ConnectTimeout,
        _ => io_error_kind(e),
    }
}

/// Kind of an error after the connection was up.
fn io_error_kind(e: &io::Error) -> UpstreamErrorKind {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => UpstreamErrorKind::Reset,
        io::ErrorKind::ConnectionRefused => UpstreamErrorKind::ConnectRefused,
        io::ErrorKind::UnexpectedEof => UpstreamErrorKind::ClosedEarly,
        _ => UpstreamErrorKind::Io,
    }
}

/// Kind of an error returned by `connect()` itself.
pub fn connect_call_error_kind(e: &io::Error) -> UpstreamErrorKind {
    connect_error_kind(e)
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
