//! The socket shell of one inbound connection: read into a bounded buffer, parse
//! pipelined requests with the pure parser, route each with the pure router, queue the
//! replies in order (shared bodies by reference, never copied), and write them as the
//! socket allows. Deadlines are chosen here and armed by the server.

use super::router::{Body, Reply, RouteInput};
use crate::http1::encode::encode_response_head;
use crate::http1::request::{parse_request, Method, RequestError, RequestLimits};
use crate::timer::TimerHandle;
use mio::net::TcpStream;
use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};

/// Bodies up to this size are copied into the head's buffer (one write, one chunk).
const INLINE_BODY: usize = 16 * 1024;
/// Stop parsing pipelined requests while this much output is queued.
const OUTPUT_HIGH_WATER: usize = 1024 * 1024;

/// Which deadline is armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// Waiting for (the rest of) a request head.
    Head,
    /// Keep-alive, nothing pending.
    Idle,
    /// Output queued and not progressing.
    Write,
}

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
    close_after_write: bool,
    /// Monotonic ms the current request head started arriving.
    head_started: Option<u64>,
    /// Monotonic ms of the last write progress.
    last_write: u64,
    /// Monotonic ms it last became idle (for shedding the oldest idle connection).
    pub idle_since: u64,
    /// Requests answered on it.
    pub served: u64,
    pub timer: Option<TimerHandle>,
    pub deadline: Deadline,
}

/// Per-call inputs of `drive`.
pub struct DriveInput<'a> {
    pub now: u64,
    pub limits: &'a RequestLimits,
    /// Answers one request (leanpoint's router, or the simulator's node).
    pub handler: &'a mut dyn FnMut(RouteInput<'_>) -> Reply,
    pub scratch: &'a mut [u8],
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
            head_started: None,
            last_write: now,
            idle_since: now,
            served: 0,
            timer: None,
            deadline: Deadline::Head,
        }
    }

    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Idle: nothing buffered either way (safe to close to admit a new connection).
    pub fn is_idle(&self) -> bool {
        self.inbuf.is_empty() && self.out.is_empty()
    }

    /// Reads, answers and writes as far as the socket allows.
    pub fn drive(&mut self, input: DriveInput<'_>) -> Drive {
        let now = input.now;
        loop {
            // Answer what is buffered first (bounded by the output high-water mark).
            self.answer_buffered(now, input.limits, input.handler);
            if let Err(()) = self.write_out(now) {
                return Drive::Close;
            }
            if self.close_after_write || self.read_closed || self.out_bytes >= OUTPUT_HIGH_WATER {
                break;
            }
            match self.stream.read(input.scratch) {
                Ok(0) => self.read_closed = true,
                Ok(n) => {
                    if self.inbuf.is_empty() {
                        self.head_started = Some(now);
                    }
                    self.inbuf.extend_from_slice(&input.scratch[..n]);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Drive::Close,
            }
        }
        if self.out.is_empty() {
            if self.close_after_write || self.read_closed {
                return Drive::Close;
            }
            if self.inbuf.is_empty() {
                return Drive::Keep(Deadline::Idle, self.idle_since);
            }
            return Drive::Keep(Deadline::Head, self.head_started.unwrap_or(now));
        }
        Drive::Keep(Deadline::Write, self.last_write)
    }

    fn answer_buffered(
        &mut self,
        now: u64,
        limits: &RequestLimits,
        handler: &mut dyn FnMut(RouteInput<'_>) -> Reply,
    ) {
        let mut consumed = 0;
        while !self.close_after_write && self.out_bytes < OUTPUT_HIGH_WATER {
            match parse_request(&self.inbuf[consumed..], limits) {
                Ok(None) => break,
                Ok(Some(req)) => {
                    consumed += req.head_len;
                    let reply = handler(RouteInput {
                        method: req.method,
                        target: &req.target,
                        if_none_match: req.if_none_match.as_deref(),
                    });
                    let send_body = req.method != Method::Head && reply.status != 304;
                    if !req.keep_alive {
                        self.close_after_write = true;
                    }
                    let mut head = Vec::with_capacity(256);
                    let extra: Vec<(&str, &str)> = reply
                        .headers
                        .iter()
                        .map(|(k, v)| (*k, v.as_str()))
                        .collect();
                    encode_response_head(
                        &mut head,
                        reply.status,
                        reply.content_type,
                        reply.body.len(),
                        req.keep_alive,
                        &extra,
                    );
                    self.served += 1;
                    if send_body && !reply.body.is_empty() {
                        if reply.body.len() <= INLINE_BODY {
                            head.extend_from_slice(reply.body.as_slice());
                            self.push(Chunk::Bytes(head));
                        } else {
                            self.push(Chunk::Bytes(head));
                            self.push(Chunk::Body(reply.body));
                        }
                    } else {
                        self.push(Chunk::Bytes(head));
                    }
                }
                Err(e) => {
                    self.push(Chunk::Bytes(error_reply(e)));
                    self.close_after_write = true;
                    consumed = self.inbuf.len();
                }
            }
        }
        if consumed > 0 {
            self.inbuf.drain(..consumed);
            self.head_started = if self.inbuf.is_empty() {
                None
            } else {
                Some(now)
            };
            if self.inbuf.is_empty() {
                self.idle_since = now;
            }
        }
    }

    fn push(&mut self, chunk: Chunk) {
        if self.out.is_empty() {
            self.front_pos = 0;
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
                    &bytes[self.front_pos..]
                } else {
                    bytes
                });
                count += 1;
            }
            match self.stream.write_vectored(&slices[..count]) {
                Ok(0) => return Err(()),
                Ok(mut n) => {
                    self.last_write = now;
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
                    if self.out.is_empty() && self.inbuf.is_empty() {
                        self.idle_since = now;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(()),
            }
        }
        Ok(())
    }
}

/// The answer to a request that could not be parsed; the connection closes after it.
fn error_reply(e: RequestError) -> Vec<u8> {
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
        &[],
    );
    out.extend_from_slice(body);
    out
}
