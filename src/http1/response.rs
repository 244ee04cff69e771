//! Upstream response parsing: the head with `httparse` (partial input, limits on header
//! count and head size), then body framing by Content-Length, chunked, or close; no body
//! for HEAD, 1xx, 204 and 304. Interim 1xx responses are skipped. Pure: bytes in, result out.
//!
//! The head is copied line by line into a small buffer (never past its blank line, so
//! body bytes are not copied twice) and handed to `httparse` once complete; body bytes go
//! straight from the input into the body `Vec`, reserved up front for a Content-Length.

use thiserror::Error;

use super::body::BodySink;
use super::chunked::ChunkedDecoder;
use super::fields::{trim_ows, ConnectionOptions, ContentLength, TransferCodings};

/// Limits for one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimits {
    /// Largest head (status line + headers + blank line) accepted; interim 1xx heads
    /// count towards it too.
    pub max_head_bytes: usize,
    /// Most headers accepted.
    pub max_headers: usize,
    /// Largest decoded body accepted.
    pub max_body_bytes: usize,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 1024 * 1024,
        }
    }
}

/// Why a response could not be read. Small, `Copy`, comparable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ResponseError {
    #[error("response head larger than the limit")]
    HeadTooLarge,
    #[error("too many response headers")]
    TooManyHeaders,
    #[error("malformed response head")]
    BadHead,
    #[error("bad Content-Length")]
    BadContentLength,
    #[error("bad chunk size or chunk framing")]
    BadChunk,
    #[error("body larger than the limit")]
    BodyTooLarge,
    #[error("connection closed before the response was complete")]
    ClosedEarly,
    #[error("unsupported Transfer-Encoding")]
    UnsupportedTransferEncoding,
}

/// A complete response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// `Content-Type` as sent (trimmed), if any.
    pub content_type: Option<String>,
    /// Whether the connection may be reused for another request.
    pub keep_alive: bool,
    /// The decoded body (empty for HEAD/204/304, and for a discarding reader).
    pub body: Vec<u8>,
}

/// What feeding bytes produced.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadProgress {
    /// More bytes are needed.
    Partial,
    /// The response is complete; `consumed` bytes of the *last* input belonged to it
    /// (anything after is a protocol violation for a client that does not pipeline and
    /// may be ignored).
    Complete { response: Response, consumed: usize },
}

/// Where the reader is.
#[derive(Debug)]
enum State {
    /// Reading a (possibly interim) head.
    Head,
    /// `remaining` body bytes to go.
    Length {
        remaining: u64,
    },
    Chunked(ChunkedDecoder),
    /// Body runs to EOF.
    Close,
    /// The response was returned; nothing more is accepted.
    Done,
}

/// What a complete head means for the reader.
enum HeadOutcome {
    /// An interim 1xx: read the next head.
    Interim,
    /// The final head; the body (if any) is set up in the state.
    Final,
}

/// Incremental reader of one response. Feed it what the socket gives; call `eof` when
/// the peer closes (a close-delimited body completes there, anything else is ClosedEarly).
#[derive(Debug)]
pub struct ResponseReader {
    limits: ResponseLimits,
    head_request: bool,
    state: State,
    started: bool,
    /// The head being read, up to and including its blank line.
    head: Vec<u8>,
    /// Start of the current (unfinished) line in `head`.
    line_start: usize,
    /// True once a non-empty line has been read in this head (empty lines before the
    /// status line are skipped).
    head_has_line: bool,
    /// Head bytes read so far, interim heads included.
    head_total: usize,
    status: u16,
    content_type: Option<String>,
    keep_alive: bool,
    body: BodySink,
    /// Chunked output of a discarding reader, handed to the tap then dropped.
    scratch: Vec<u8>,
}

impl ResponseReader {
    /// `head_request` is true when the request was HEAD (no body follows).
    pub fn new(limits: ResponseLimits, head_request: bool) -> Self {
        ResponseReader {
            limits,
            head_request,
            state: State::Head,
            started: false,
            head: Vec::new(),
            line_start: 0,
            head_has_line: false,
            head_total: 0,
            status: 0,
            content_type: None,
            keep_alive: false,
            body: BodySink::default(),
            scratch: Vec::new(),
        }
    }

    /// Like `new`, but the body is only counted (for the limit), never kept: it reaches
    /// the caller through the tap of [`ResponseReader::feed_tapped`] alone.
    pub fn discarding(limits: ResponseLimits, head_request: bool) -> Self {
        let mut reader = Self::new(limits, head_request);
        reader.body = BodySink::discarding();
        reader
    }

    /// Feeds the next bytes read from the socket. After `Complete` (or an error) the
    /// reader is spent: further input is refused with `BadHead`.
    pub fn feed(&mut self, input: &[u8]) -> Result<ReadProgress, ResponseError> {
        self.feed_tapped(input, &mut |_| {})
    }

    /// `feed`, also handing every decoded body byte to `tap`, in order, as it arrives
    /// (a hash can then be computed while the body downloads).
    pub fn feed_tapped(
        &mut self,
        input: &[u8],
        tap: &mut dyn FnMut(&[u8]),
    ) -> Result<ReadProgress, ResponseError> {
        if !input.is_empty() {
            self.started = true;
        }
        let result = self.feed_inner(input, tap);
        if result.is_err() {
            self.state = State::Done;
        }
        result
    }

    fn feed_inner(
        &mut self,
        input: &[u8],
        tap: &mut dyn FnMut(&[u8]),
    ) -> Result<ReadProgress, ResponseError> {
        let mut pos = 0;
        loop {
            let rest = input.get(pos..).unwrap_or(&[]);
            match &mut self.state {
                State::Head => match self.scan_head(rest)? {
                    None => return Ok(ReadProgress::Partial),
                    Some(n) => {
                        pos += n;
                        if let HeadOutcome::Final = self.finish_head()? {
                            if let State::Done = self.state {
                                return Ok(self.complete(pos));
                            }
                        }
                    }
                },
                State::Length { remaining } => {
                    let n = usize::try_from(*remaining).map_or(rest.len(), |r| r.min(rest.len()));
                    let data = rest.get(..n).unwrap_or(&[]);
                    tap(data);
                    self.body.push(data);
                    *remaining -= n as u64;
                    if *remaining > 0 {
                        return Ok(ReadProgress::Partial);
                    }
                    return Ok(self.complete(pos + n));
                }
                State::Chunked(decoder) => {
                    let p = match self.body.storing() {
                        Some(out) => {
                            let before = out.len();
                            let p = decoder.decode(rest, out)?;
                            tap(out.get(before..).unwrap_or_default());
                            p
                        }
                        None => {
                            let p = decoder.decode(rest, &mut self.scratch)?;
                            tap(&self.scratch);
                            self.body.push(&self.scratch);
                            self.scratch.clear();
                            p
                        }
                    };
                    if !p.done {
                        return Ok(ReadProgress::Partial);
                    }
                    return Ok(self.complete(pos + p.consumed));
                }
                State::Close => {
                    if self.body.len().saturating_add(rest.len()) > self.limits.max_body_bytes {
                        return Err(ResponseError::BodyTooLarge);
                    }
                    tap(rest);
                    self.body.push(rest);
                    return Ok(ReadProgress::Partial);
                }
                State::Done => return Err(ResponseError::BadHead),
            }
        }
    }

    /// The peer closed the connection (read returned 0).
    pub fn eof(&mut self) -> Result<Response, ResponseError> {
        match self.state {
            State::Close => match self.complete(0) {
                ReadProgress::Complete { response, .. } => Ok(response),
                ReadProgress::Partial => Err(ResponseError::ClosedEarly),
            },
            _ => Err(ResponseError::ClosedEarly),
        }
    }

    /// True once any byte of the response has been fed (used to decide whether a
    /// request on a reused keep-alive connection may be retried on a fresh one).
    pub fn started(&self) -> bool {
        self.started
    }

    /// Copies head bytes from `input` up to the end of the head. Returns how many bytes
    /// ended the head, or `None` when all of `input` was taken and more is needed.
    fn scan_head(&mut self, input: &[u8]) -> Result<Option<usize>, ResponseError> {
        if self.head.capacity() == 0 && !input.is_empty() {
            // Typical heads are a few hundred bytes: one allocation instead of doubling.
            self.head.reserve(self.limits.max_head_bytes.min(512));
        }
        let mut i = 0;
        while i < input.len() {
            let rest = input.get(i..).unwrap_or(&[]);
            let newline = rest.iter().position(|&b| b == b'\n');
            let seg = newline.map_or(rest.len(), |p| p + 1);
            if self.head_total.saturating_add(seg) > self.limits.max_head_bytes {
                return Err(ResponseError::HeadTooLarge);
            }
            self.head.extend_from_slice(rest.get(..seg).unwrap_or(&[]));
            self.head_total += seg;
            i += seg;
            if newline.is_some() {
                let line_end = self.head.len() - 1;
                let line = self.head.get(self.line_start..line_end).unwrap_or(&[]);
                let empty = line.is_empty() || line == b"\r";
                self.line_start = self.head.len();
                if !empty {
                    self.head_has_line = true;
                } else if self.head_has_line {
                    return Ok(Some(i));
                }
            }
        }
        Ok(None)
    }

    /// Parses the complete head in `self.head` and sets up the body framing.
    fn finish_head(&mut self) -> Result<HeadOutcome, ResponseError> {
        let mut headers = vec![httparse::EMPTY_HEADER; self.limits.max_headers];
        let mut parsed = httparse::Response::new(&mut headers);
        match parsed.parse(&self.head) {
            Ok(httparse::Status::Complete(_)) => {}
            Ok(httparse::Status::Partial) => return Err(ResponseError::BadHead),
            Err(httparse::Error::TooManyHeaders) => return Err(ResponseError::TooManyHeaders),
            Err(_) => return Err(ResponseError::BadHead),
        }
        let (Some(status), Some(minor)) = (parsed.code, parsed.version) else {
            return Err(ResponseError::BadHead);
        };
        match status {
            101 => return Err(ResponseError::BadHead),
            100..=199 => {
                self.head.clear();
                self.line_start = 0;
                self.head_has_line = false;
                return Ok(HeadOutcome::Interim);
            }
            200..=999 => {}
            _ => return Err(ResponseError::BadHead),
        }

        let mut connection = ConnectionOptions::default();
        let mut length = ContentLength::default();
        let mut codings = TransferCodings::default();
        let mut content_type = None;
        for h in parsed.headers.iter() {
            let name = h.name.as_bytes();
            if name.eq_ignore_ascii_case(b"content-length") {
                length.add(h.value);
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                codings.add(h.value);
            } else if name.eq_ignore_ascii_case(b"connection") {
                connection.add(h.value);
            } else if name.eq_ignore_ascii_case(b"content-type") && content_type.is_none() {
                content_type = Some(String::from_utf8_lossy(trim_ows(h.value)).into_owned());
            }
        }
        self.status = status;
        self.content_type = content_type;
        self.keep_alive = connection.persistent(minor);
        self.head = Vec::new();
        self.state = self.framing(status, minor, length, codings)?;
        Ok(HeadOutcome::Final)
    }

    /// Chooses the body framing of a final response (RFC 9112 §6.3).
    fn framing(
        &mut self,
        status: u16,
        minor: u8,
        length: ContentLength,
        codings: TransferCodings,
    ) -> Result<State, ResponseError> {
        if self.head_request || status == 204 || status == 304 {
            return Ok(State::Done);
        }
        if codings.present() {
            if !codings.is_chunked_only() {
                return Err(ResponseError::UnsupportedTransferEncoding);
            }
            // Chunked overrides Content-Length, but such a message (or chunked in
            // HTTP/1.0) may be a smuggling attempt: do not reuse the connection.
            if length.seen() || minor == 0 {
                self.keep_alive = false;
            }
            return Ok(State::Chunked(ChunkedDecoder::new(
                self.limits.max_body_bytes,
            )));
        }
        match length.value() {
            Err(_) => Err(ResponseError::BadContentLength),
            Ok(Some(n)) => {
                let len = usize::try_from(n).map_err(|_| ResponseError::BodyTooLarge)?;
                if len > self.limits.max_body_bytes {
                    return Err(ResponseError::BodyTooLarge);
                }
                if len == 0 {
                    return Ok(State::Done);
                }
                self.body.reserve(len);
                Ok(State::Length { remaining: n })
            }
            Ok(None) => {
                self.keep_alive = false;
                Ok(State::Close)
            }
        }
    }

    /// Finishes the response: `consumed` bytes of the last input belonged to it.
    fn complete(&mut self, consumed: usize) -> ReadProgress {
        self.state = State::Done;
        let body = self.body.finish();
        ReadProgress::Complete {
            response: Response {
                status: self.status,
                content_type: self.content_type.take(),
                keep_alive: self.keep_alive,
                body,
            },
            consumed,
        }
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
