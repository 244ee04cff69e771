//! Upstream response parsing: the head with `httparse` (partial input, limits on header
//! count and head size), then body framing by Content-Length, chunked, or close; no body
//! for HEAD, 1xx, 204 and 304. Interim 1xx responses are skipped. Pure: bytes in, result out.

use thiserror::Error;

/// Limits for one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResponseLimits {
    /// Largest head (status line + headers + blank line) accepted.
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
    /// The decoded body (empty for HEAD/204/304).
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

/// Incremental reader of one response. Feed it what the socket gives; call `eof` when
/// the peer closes (a close-delimited body completes there, anything else is ClosedEarly).
#[derive(Debug)]
pub struct ResponseReader {
    _limits: ResponseLimits,
}

impl ResponseReader {
    /// `head_request` is true when the request was HEAD (no body follows).
    pub fn new(limits: ResponseLimits, head_request: bool) -> Self {
        let _ = head_request;
        ResponseReader { _limits: limits }
    }

    /// Feeds the next bytes read from the socket.
    pub fn feed(&mut self, input: &[u8]) -> Result<ReadProgress, ResponseError> {
        let _ = input;
        todo!()
    }

    /// The peer closed the connection (read returned 0).
    pub fn eof(&mut self) -> Result<Response, ResponseError> {
        todo!()
    }

    /// True once any byte of the response has been fed (used to decide whether a
    /// request on a reused keep-alive connection may be retried on a fresh one).
    pub fn started(&self) -> bool {
        todo!()
    }
}
