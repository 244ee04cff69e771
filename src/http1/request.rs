//! Inbound request parsing for the public listener, with `httparse` and limits: a head
//! over the limit → 431, a bad request line or header → 400, a request body (or both
//! Content-Length and Transfer-Encoding) → 400/413. Pure: bytes in, result out.

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub max_head_bytes: usize,
    pub max_headers: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_head_bytes: 8 * 1024,
            max_headers: 64,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    /// Any other method (answered 405).
    Other,
}

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    /// The request target as sent (path and optional query), e.g. `/status?x=1`.
    pub target: String,
    /// HTTP/1.x minor version (0 or 1).
    pub minor_version: u8,
    /// Whether the connection stays open after the response (HTTP/1.1 default yes,
    /// HTTP/1.0 default no, `Connection: close` / `keep-alive` honoured).
    pub keep_alive: bool,
    /// `If-None-Match` value as sent, if any.
    pub if_none_match: Option<String>,
    /// Length of the head in bytes (the next pipelined request starts here).
    pub head_len: usize,
}

/// Why a request was refused; `status()` gives the answer to send before closing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RequestError {
    #[error("request head too large")]
    HeadTooLarge,
    #[error("too many request headers")]
    TooManyHeaders,
    #[error("malformed request")]
    Malformed,
    #[error("both Content-Length and Transfer-Encoding")]
    Smuggling,
    #[error("request bodies are not accepted")]
    BodyNotAllowed,
    #[error("unsupported HTTP version")]
    BadVersion,
}

impl RequestError {
    /// The HTTP status to answer with.
    pub fn status(self) -> u16 {
        match self {
            RequestError::HeadTooLarge | RequestError::TooManyHeaders => 431,
            RequestError::Malformed | RequestError::Smuggling | RequestError::BadVersion => 400,
            RequestError::BodyNotAllowed => 413,
        }
    }
}

/// Parses one request head from the start of `buf`. `Ok(None)` means incomplete (more
/// bytes needed, and the limit not yet exceeded).
pub fn parse_request(buf: &[u8], limits: &RequestLimits) -> Result<Option<Request>, RequestError> {
    let _ = (buf, limits);
    todo!()
}
