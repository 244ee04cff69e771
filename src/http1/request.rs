//! Inbound request parsing for the public listener, with `httparse` and limits: a head
//! over the limit → 431, a bad request line or header → 400, a request body (or both
//! Content-Length and Transfer-Encoding) → 400/413. Pure: bytes in, result out.
//!
//! Hot path: headers live in an uninitialised stack array, only the first
//! `max_head_bytes` of the buffer are ever looked at, and the only allocations are the
//! target (and `If-None-Match` when sent).

use std::mem::MaybeUninit;

use thiserror::Error;

use super::fields::{trim_ows, ConnectionOptions, ContentLength};

/// Header slots kept on the stack; larger `max_headers` limits fall back to the heap.
const STACK_HEADERS: usize = 64;

/// Limits for one request head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    /// Largest head (request line + headers + blank line) accepted.
    pub max_head_bytes: usize,
    /// Most headers accepted.
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

/// The request method, as far as the listener cares.
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
    /// `If-None-Match` value as sent, if any (several fields are joined with `, `).
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
    let window = buf.get(..limits.max_head_bytes).unwrap_or(buf);
    if limits.max_headers <= STACK_HEADERS {
        let mut slots = [MaybeUninit::<httparse::Header<'_>>::uninit(); STACK_HEADERS];
        let slots = slots.get_mut(..limits.max_headers).unwrap_or(&mut []);
        parse_in(window, buf.len(), limits, slots)
    } else {
        let mut slots = vec![MaybeUninit::<httparse::Header<'_>>::uninit(); limits.max_headers];
        parse_in(window, buf.len(), limits, &mut slots)
    }
}

/// Parses `window` (the first `max_head_bytes` of a `buf_len`-byte buffer).
fn parse_in<'b>(
    window: &'b [u8],
    buf_len: usize,
    limits: &RequestLimits,
    slots: &mut [MaybeUninit<httparse::Header<'b>>],
) -> Result<Option<Request>, RequestError> {
    let mut req = httparse::Request::new(&mut []);
    let head_len = match req.parse_with_uninit_headers(window, slots) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf_len >= limits.max_head_bytes => {
            return Err(RequestError::HeadTooLarge)
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(RequestError::TooManyHeaders),
        Err(httparse::Error::Version) => return Err(RequestError::BadVersion),
        Err(_) => return Err(RequestError::Malformed),
    };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(RequestError::Malformed);
    };

    let mut connection = ConnectionOptions::default();
    let mut length = ContentLength::default();
    let mut transfer_encoding = false;
    let mut if_none_match: Option<String> = None;
    for h in req.headers.iter() {
        let name = h.name.as_bytes();
        if name.eq_ignore_ascii_case(b"connection") {
            connection.add(h.value);
        } else if name.eq_ignore_ascii_case(b"content-length") {
            length.add(h.value);
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            transfer_encoding = true;
        } else if name.eq_ignore_ascii_case(b"if-none-match") {
            let value = String::from_utf8_lossy(trim_ows(h.value));
            match &mut if_none_match {
                None => if_none_match = Some(value.into_owned()),
                Some(prev) => {
                    prev.push_str(", ");
                    prev.push_str(&value);
                }
            }
        }
    }
    if transfer_encoding && length.seen() {
        return Err(RequestError::Smuggling);
    }
    let method = match method {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        _ => Method::Other,
    };
    let has_body = transfer_encoding
        || match length.value() {
            Ok(None | Some(0)) => false,
            Ok(Some(_)) => true,
            Err(_) => return Err(RequestError::Malformed),
        };
    // A GET or HEAD with a body is refused (413). Any other method is answered 405 as
    // the contract says, and the connection then closes since its body is never read.
    if has_body && method != Method::Other {
        return Err(RequestError::BodyNotAllowed);
    }
    Ok(Some(Request {
        method,
        target: target.to_owned(),
        minor_version,
        keep_alive: connection.persistent(minor_version) && !has_body,
        if_none_match,
        head_len,
    }))
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
