//! The socket shell of one inbound connection: read into a bounded buffer, parse
//! pipelined requests with the pure parser, route each with the pure router, queue the
//! replies in order (shared bodies by reference, never copied), and write them as the
//! socket allows. Deadlines are chosen here and armed by the server.
//!
//! Its lifecycle is one [`Phase`] (`conn/phase.rs`): awaiting a head, answering, idle,
//! lingering, each arming one [`Deadline`].
//!
//! A connection that must close after its last reply (an error, `Connection: close`,
//! HTTP/1.0) does a lingering close: once the reply is written it shuts its write side
//! (FIN) and discards what the peer still sends until the peer closes, a byte cap, or a
//! deadline. Closing with unread bytes would make the kernel send a reset, and a reset
//! can destroy the reply before the peer reads it (a 431 to a 100 KB head, say).

mod phase;

pub use phase::{Deadline, Phase};

use super::admission::Activity;
use super::exchange::Exchange;
use super::router::{Body, Reply, RouteInput};
use crate::http1::encode::{encode_not_modified, encode_response_head};
use crate::http1::request::{parse_request, Method, Request, RequestError, RequestLimits};
use crate::timer::TimerSlot;
use mio::net::TcpStream;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::Shutdown;

/// Bodies up to this size are copied into the head's buffer (one write, one chunk).
const INLINE_BODY: usize = 16 * 1024;
/// Reads one `drive` call may do before yielding to other connections (fairness: a
/// client that pipelines without pause cannot monopolise the loop).
pub const READS_PER_DRIVE: usize = 16;
/// Requests one `drive` call may answer before yielding to other connections.
pub const REQUESTS_PER_DRIVE: usize = 64;
/// Stop parsing pipelined requests while this much output is queued.
const OUTPUT_HIGH_WATER: usize = 1024 * 1024;
/// Most bytes discarded by a lingering close before closing anyway.
pub const LINGER_MAX_BYTES: usize = 1024 * 1024;

enum Chunk {
    Bytes(Vec<u8>),
    Body(Body),
}

impl Chunk {
    fn as_slice(&self) -> &[u8] {
        match self {
            Chunk::Bytes(b) => b,
            Chunk::Body(b) => b.as_slice(),
        }
    }
}

/// What the connection wants after being driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drive {
    /// Keep it; arm this deadline (from the given monotonic start).
    Keep(Deadline, u64),
    /// Close it now.
    Close,
}

/// One inbound connection.
pub struct InboundConn {
    stream: TcpStream,
    inbuf: Vec<u8>,
    out: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    front_pos: usize,
    out_bytes: usize,
    read_closed: bool,
    /// The connection closes once its queued replies are written (lingering first).
    close_after_write: bool,
    /// Where it is in its lifecycle, and so which deadline is due when.
    phase: Phase,
    /// Bytes discarded while lingering.
    discarded: usize,
    /// Requests answered on it.
    pub served: u64,
    /// The last `drive` stopped at its read budget with input possibly left.
    more_input: bool,
    /// Requests the current `drive` call may still answer.
    budget: usize,
    pub timer: TimerSlot,
    /// The deadline `timer` was armed for.
    pub deadline: Deadline,
    /// The client's address, when known (handed to the handler with each request).
    pub peer: Option<std::net::SocketAddr>,
    /// Accepted by the admin listener (its own pool, its own routes).
    pub admin: bool,
}

/// Per-call inputs of `drive`.
pub struct DriveInput<'a> {
    pub now: u64,
    pub limits: &'a RequestLimits,
    /// Answers one request (leanpoint's router, or the simulator's node).
    pub handler: &'a mut dyn FnMut(RouteInput<'_>) -> Reply,
    /// The `Date` header value to send, if any.
    pub date: Option<&'a str>,
    pub scratch: &'a mut [u8],
    /// Told of every reply queued, refusals of the parser included (metrics, access log).
    pub observe: Option<&'a mut dyn FnMut(&Exchange<'_>)>,
}

impl InboundConn {
    pub fn new(stream: TcpStream, now: u64) -> Self {
        InboundConn {
            stream,
            inbuf: Vec::new(),
            out: VecDeque::new(),
            front_pos: 0,
            out_bytes: 0,
            read_closed: false,
            close_after_write: false,
            phase: Phase::AwaitingHead { since: now },
            discarded: 0,
            served: 0,
            more_input: false,
            budget: REQUESTS_PER_DRIVE,
            timer: TimerSlot::default(),
            deadline: Deadline::Head,
            peer: None,
            admin: false,
        }
    }

    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Where it is in its lifecycle.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// What it is doing, for choosing whom to displace at the cap.
    pub fn activity(&self) -> Activity {
        match self.phase {
            Phase::Lingering { since } | Phase::Idle { since } => Activity::Idle { since },
            Phase::Answering {
                since,
                last_progress,
                ..
            } => Activity::Writing {
                since,
                last_progress,
            },
            Phase::AwaitingHead { since } => Activity::Head {
                since,
                received: self.inbuf.len(),
            },
        }
    }

    /// Whether the last `drive` yielded at its read budget (drive it again soon).
    pub fn wants_more(&self) -> bool {
        self.more_input
    }

    /// Idle: nothing buffered either way (safe to close to admit a new connection).
    pub fn is_idle(&self) -> bool {
        self.inbuf.is_empty() && self.out.is_empty()
    }

    /// Whether the last reply is written and the connection is draining the peer's
    /// bytes before closing (its deadline is `Deadline::Linger`).
    pub fn lingering(&self) -> bool {
        matches!(self.phase, Phase::Lingering { .. })
    }

    /// Reads, answers and writes as far as the socket allows.
    pub fn drive(&mut self, mut input: DriveInput<'_>) -> Drive {
        let now = input.now;
        self.more_input = false;
        self.budget = REQUESTS_PER_DRIVE;
        if self.lingering() {
            return self.linger(input.scratch);
        }
        let mut reads = 0;
        loop {
            // Answer what is buffered first (bounded by the output high-water mark).
            let observe = input.observe.as_deref_mut();
            self.answer_buffered(now, input.limits, input.handler, input.date, observe);
            if let Err(()) = self.write_out(now) {
                return Drive::Close;
            }
            if self.close_after_write || self.out_bytes >= OUTPUT_HIGH_WATER {
                break;
            }
            if self.more_input {
                break;
            }
            if !self.read_closed {
                if reads == READS_PER_DRIVE {
                    // Input may remain; the server drives this connection again after
                    // the others had their turn (edge-triggered: no new event will come).
                    self.more_input = true;
                    break;
                }
                reads += 1;
                match self.stream.read(input.scratch) {
                    Ok(0) => {
                        self.read_closed = true;
                        continue;
                    }
                    Ok(n) => {
                        if self.inbuf.is_empty() {
                            self.phase = self.phase.on_head_started(now);
                        }
                        self.inbuf
                            .extend_from_slice(input.scratch.get(..n).unwrap_or_default());
                        continue;
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => return Drive::Close,
                }
            }
            // No more input for now. Requests left buffered behind a large reply may be
            // answerable now that it is written: go round again rather than wait for
            // an event that may never come.
            let observe = input.observe.as_deref_mut();
            if !self.answer_buffered(now, input.limits, input.handler, input.date, observe) {
                break;
            }
        }
        if self.out.is_empty() {
            if self.read_closed {
                return Drive::Close;
            }
            if self.close_after_write {
                return self.start_linger(now, input.scratch);
            }
        }
        debug_assert_eq!(
            self.out.is_empty(),
            !matches!(self.phase, Phase::Answering { .. }),
            "answering exactly while output is queued"
        );
        let (deadline, since) = self.phase.deadline();
        Drive::Keep(deadline, since)
    }

    /// Shuts the write side and starts discarding the peer's bytes.
    fn start_linger(&mut self, now: u64, scratch: &mut [u8]) -> Drive {
        if self.stream.shutdown(Shutdown::Write).is_err() {
            return Drive::Close;
        }
        self.phase = Phase::Lingering { since: now };
        self.linger(scratch)
    }

    /// Discards readable bytes; closes at the peer's EOF, an error, or the byte cap.
    fn linger(&mut self, scratch: &mut [u8]) -> Drive {
        loop {
            match self.stream.read(scratch) {
                Ok(0) => return Drive::Close,
                Ok(n) => {
                    self.discarded += n;
                    if self.discarded > LINGER_MAX_BYTES {
                        return Drive::Close;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let (deadline, since) = self.phase.deadline();
                    return Drive::Keep(deadline, since);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Drive::Close,
            }
        }
    }

    /// Answers the complete requests buffered, in order, while output is below the
    /// high-water mark; true when it queued anything.
    fn answer_buffered(
        &mut self,
        now: u64,
        limits: &RequestLimits,
        handler: &mut dyn FnMut(RouteInput<'_>) -> Reply,
        date: Option<&str>,
        mut observe: Option<&mut (dyn FnMut(&Exchange<'_>) + '_)>,
    ) -> bool {
        let mut consumed = 0;
        let mut answered = false;
        while !self.close_after_write && self.out_bytes < OUTPUT_HIGH_WATER {
            if self.budget == 0 {
                // Requests may remain buffered; yield to other connections.
                self.more_input = true;
                break;
            }
            match parse_request(self.inbuf.get(consumed..).unwrap_or_default(), limits) {
                Ok(None) => break,
                Ok(Some(req)) => {
                    let parsed_at = observe.is_some().then(std::time::Instant::now);
                    consumed += req.head_len;
                    answered = true;
                    self.budget -= 1;
                    let reply = handler(RouteInput {
                        method: req.method,
                        target: &req.target,
                        if_none_match: req.if_none_match.as_deref(),
                        client: self.peer.map(|p| p.ip()),
                    });
                    if !req.keep_alive {
                        self.close_after_write = true;
                    }
                    self.served += 1;
                    let status = reply.status;
                    let body_bytes = self.queue_reply(&req, reply, date, now);
                    if let (Some(observe), Some(at)) = (observe.as_deref_mut(), parsed_at) {
                        let start = consumed.saturating_sub(req.head_len);
                        let head = self.inbuf.get(start..consumed).unwrap_or_default();
                        let e = Exchange::new(self.peer, head, status, body_bytes);
                        observe(&e.parsed(&req.target, at.elapsed()));
                    }
                }
                Err(e) => {
                    let (reply, body_bytes) = error_reply(e, date);
                    self.push(Chunk::Bytes(reply), now);
                    self.close_after_write = true;
                    answered = true;
                    if let Some(observe) = observe.as_deref_mut() {
                        let head = self.inbuf.get(consumed..).unwrap_or_default();
                        let head = head.get(..limits.max_head_bytes).unwrap_or(head);
                        observe(&Exchange::new(self.peer, head, e.status(), body_bytes));
                    }
                    consumed = self.inbuf.len();
                }
            }
        }
        if consumed > 0 {
            self.inbuf.drain(..consumed);
            self.phase = self.phase.on_consumed(now, !self.inbuf.is_empty());
        }
        answered
    }

    /// Encodes `reply` to `req` (head, then the body unless HEAD or 304) and queues it;
    /// returns the body bytes queued.
    fn queue_reply(&mut self, req: &Request, reply: Reply, date: Option<&str>, now: u64) -> usize {
        let send_body = req.method != Method::Head && reply.status != 304;
        let body_bytes = if send_body { reply.body.len() } else { 0 };
        let mut head = Vec::with_capacity(256);
        let mut extra: Vec<(&str, &str)> = reply
            .headers
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect();
        if let Some(date) = date {
            extra.push(("Date", date));
        }
        if req.keep_alive && req.minor_version == 0 {
            // An HTTP/1.0 client keeps the connection only when told so.
            extra.push(("Connection", "keep-alive"));
        }
        if reply.status == 304 {
            encode_not_modified(&mut head, req.keep_alive, &extra);
        } else {
            encode_response_head(
                &mut head,
                reply.status,
                reply.content_type,
                reply.body.len(),
                req.keep_alive,
                &extra,
            );
        }
        if send_body && !reply.body.is_empty() {
            if reply.body.len() <= INLINE_BODY {
                head.extend_from_slice(reply.body.as_slice());
                self.push(Chunk::Bytes(head), now);
            } else {
                self.push(Chunk::Bytes(head), now);
                self.push(Chunk::Body(reply.body), now);
            }
        } else {
            self.push(Chunk::Bytes(head), now);
        }
        body_bytes
    }

    /// Queues output; the write-stall clock starts when output is queued to an empty
    /// queue, not at the last write of an earlier reply.
    fn push(&mut self, chunk: Chunk, now: u64) {
        if self.out.is_empty() {
            self.front_pos = 0;
            // A head left buffered behind this reply restarts its deadline when it is
            // consumed (`on_consumed`); until then it counts from now.
            let head_since = (!self.inbuf.is_empty()).then_some(now);
            self.phase = self.phase.on_output_queued(now, head_since);
        }
        self.out_bytes += chunk.as_slice().len();
        self.out.push_back(chunk);
    }

    /// Writes queued output; `Err` when the connection is broken.
    fn write_out(&mut self, now: u64) -> Result<(), ()> {
        while !self.out.is_empty() {
            let mut slices: [IoSlice<'_>; 16] = [IoSlice::new(&[]); 16];
            let mut count = 0;
            for (i, chunk) in self.out.iter().take(16).enumerate() {
                let bytes = chunk.as_slice();
                slices[i] = IoSlice::new(if i == 0 {
                    bytes.get(self.front_pos..).unwrap_or_default()
                } else {
                    bytes
                });
                count += 1;
            }
            match self.stream.write_vectored(&slices[..count]) {
                Ok(0) => return Err(()),
                Ok(mut n) => {
                    self.out_bytes -= n;
                    while n > 0 {
                        let Some(front) = self.out.front() else { break };
                        let left = front.as_slice().len() - self.front_pos;
                        if n >= left {
                            n -= left;
                            self.out.pop_front();
                            self.front_pos = 0;
                        } else {
                            self.front_pos += n;
                            n = 0;
                        }
                    }
                    self.phase = self.phase.on_written(now, self.out.is_empty());
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
        Ok(())
    }
}

/// The answer to a request that could not be parsed (the connection closes after it),
/// and the length of its body.
fn error_reply(e: RequestError, date: Option<&str>) -> (Vec<u8>, usize) {
    let body: &[u8] = match e {
        RequestError::HeadTooLarge | RequestError::TooManyHeaders => {
            b"Request header fields too large\n"
        }
        RequestError::BodyNotAllowed => b"Request bodies are not accepted\n",
        _ => b"Bad request\n",
    };
    let mut out = Vec::with_capacity(160);
    encode_response_head(
        &mut out,
        e.status(),
        "text/plain; charset=utf-8",
        body.len(),
        false,
        &date.map(|d| [("Date", d)]).unwrap_or_default()[..],
    );
    out.extend_from_slice(body);
    (out, body.len())
}

#[cfg(test)]
#[path = "conn_tests.rs"]
mod tests;
