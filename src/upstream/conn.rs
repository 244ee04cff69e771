//! The socket shell of one upstream connection: non-blocking connect completed with
//! `take_error` then `peer_addr`, then it only moves bytes: the request out of, and the
//! response into, the pure `Exchange` (`exchange.rs`: framing, body counting, state
//! hashing), and watches the idle keep-alive socket. It never arms timers or decides
//! what a failure means for the poll; the engine does.

pub use super::exchange::{BodyMode, Completed};

use super::exchange::{Exchange, ExchangeError};
use crate::app::UpstreamErrorKind;
use crate::http1::response::ResponseLimits;
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
    /// The request in progress (None while idle).
    exchange: Option<Exchange>,
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
            exchange: None,
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
        self.exchange = Some(Exchange::new(request, limits, mode));
        if self.phase == ConnPhase::Idle {
            self.phase = ConnPhase::Writing;
        }
    }

    /// A failure; retryable on a reused connection before any response byte (a server
    /// that closed an idle keep-alive connection).
    fn fail(&self, kind: UpstreamErrorKind, detail: String) -> ConnOutcome {
        let started = self
            .exchange
            .as_ref()
            .is_some_and(Exchange::response_started);
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
        self.exchange.as_ref().map_or(0, Exchange::body_len)
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
                            if self.exchange.is_none() {
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
                    while let Some(ex) = self.exchange.as_mut().filter(|e| !e.unsent().is_empty()) {
                        match self.stream.write(ex.unsent()) {
                            Ok(0) => {
                                return self.fail(
                                    UpstreamErrorKind::ClosedEarly,
                                    "write returned 0".into(),
                                )
                            }
                            Ok(n) => ex.wrote(n),
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
            let Some(ex) = self.exchange.as_mut() else {
                return ConnOutcome::Pending;
            };
            let fed = match self.stream.read(scratch) {
                Ok(0) => ex.eof().map(Some),
                Ok(n) => {
                    read += n;
                    ex.feed(scratch.get(..n).unwrap_or_default())
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return ConnOutcome::Pending,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return self.fail(io_error_kind(&e), format!("read: {e}")),
            };
            match fed {
                Ok(None) => {}
                Ok(Some(done)) => return self.complete(done),
                // Retryable only if the close came before any byte of the response
                // on a reused connection (a stale keep-alive connection).
                Err(ExchangeError { kind, detail }) => return self.fail(kind, detail),
            }
        }
    }

    fn complete(&mut self, done: Completed) -> ConnOutcome {
        self.exchange = None;
        self.reused = true;
        self.phase = ConnPhase::Idle;
        ConnOutcome::Response(Box::new(done))
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
