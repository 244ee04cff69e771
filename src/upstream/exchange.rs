//! One request/response exchange with an upstream, free of I/O: the request bytes still
//! to send, the response read through the pure `ResponseReader` (body bytes counted and,
//! for a state, fed to the incremental `StateHasher` as they arrive, kept or not), and
//! what a failure means. The socket shell (`conn.rs`) only moves bytes in and out.

use crate::app::UpstreamErrorKind;
use crate::http1::response::{ReadProgress, Response, ResponseLimits, ResponseReader};
use crate::lean::lstar::{LayoutError, StateHasher, StateRoots};
use crate::upstream::poll::response_error_kind;

/// What to do with a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyMode {
    /// Keep the bytes (else only count them).
    pub keep: bool,
    /// Feed them to the incremental state hasher.
    pub hash_state: bool,
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

/// A response that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExchangeError {
    pub kind: UpstreamErrorKind,
    pub detail: String,
}

/// One exchange in progress.
pub struct Exchange {
    request: Vec<u8>,
    sent: usize,
    reader: ResponseReader,
    /// Boxed: a hasher is about 2 KiB, and most requests have none.
    hasher: Option<Box<StateHasher>>,
    body_len: usize,
}

impl Exchange {
    /// An exchange that sends `request` and reads the response within `limits`.
    pub fn new(request: Vec<u8>, limits: ResponseLimits, mode: BodyMode) -> Exchange {
        Exchange {
            request,
            sent: 0,
            reader: if mode.keep {
                ResponseReader::new(limits, false)
            } else {
                ResponseReader::discarding(limits, false)
            },
            hasher: mode.hash_state.then(|| Box::new(StateHasher::new())),
            body_len: 0,
        }
    }

    /// The request bytes not written yet.
    pub fn unsent(&self) -> &[u8] {
        self.request.get(self.sent..).unwrap_or_default()
    }

    /// `n` more request bytes were written.
    pub fn wrote(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.request.len());
    }

    /// Whether any byte of the response has arrived (a failure before that, on a reused
    /// keep-alive connection, is worth one retry on a new one).
    pub fn response_started(&self) -> bool {
        self.reader.started()
    }

    /// Body bytes received so far.
    pub fn body_len(&self) -> usize {
        self.body_len
    }

    /// Feeds bytes read from the socket: the response once it is complete.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<Option<Completed>, ExchangeError> {
        let (hasher, body_len) = (&mut self.hasher, &mut self.body_len);
        let mut tap = |body: &[u8]| {
            *body_len += body.len();
            if let Some(h) = hasher.as_mut() {
                h.update(body);
            }
        };
        match self.reader.feed_tapped(bytes, &mut tap) {
            Ok(ReadProgress::Partial) => Ok(None),
            Ok(ReadProgress::Complete {
                mut response,
                consumed,
            }) => {
                // Bytes beyond the framing: the peer lied about a length, so the
                // connection cannot be trusted for another request.
                if consumed < bytes.len() {
                    response.keep_alive = false;
                }
                Ok(Some(self.complete(response)))
            }
            Err(e) => Err(read_error(e)),
        }
    }

    /// The peer closed: the response if its framing allows the close to end it.
    pub fn eof(&mut self) -> Result<Completed, ExchangeError> {
        match self.reader.eof() {
            Ok(response) => Ok(self.complete(response)),
            Err(e) => Err(read_error(e)),
        }
    }

    fn complete(&mut self, response: Response) -> Completed {
        Completed {
            response,
            body_len: self.body_len,
            state: self.hasher.take().map(|h| h.finish()),
        }
    }
}

fn read_error(e: crate::http1::response::ResponseError) -> ExchangeError {
    ExchangeError {
        kind: response_error_kind(e),
        detail: format!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lean::lstar::state_roots;

    const STATE: &[u8] = include_bytes!("../lean/testdata/states_finalized.ssz");

    fn state_response() -> Vec<u8> {
        let mut raw = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
            STATE.len()
        )
        .into_bytes();
        raw.extend_from_slice(STATE);
        raw
    }

    fn limits() -> ResponseLimits {
        ResponseLimits {
            max_body_bytes: 1 << 20,
            ..ResponseLimits::default()
        }
    }

    fn hashing(keep: bool) -> Exchange {
        let mode = BodyMode {
            keep,
            hash_state: true,
        };
        Exchange::new(b"GET /s HTTP/1.1\r\n\r\n".to_vec(), limits(), mode)
    }

    /// Feeds `raw` in pieces of `step` bytes; the completed response.
    fn feed_in_steps(ex: &mut Exchange, raw: &[u8], step: usize) -> Completed {
        let mut done = None;
        for piece in raw.chunks(step) {
            assert!(done.is_none(), "bytes after completion");
            done = ex.feed(piece).expect("valid response");
        }
        done.expect("complete")
    }

    #[test]
    fn the_state_root_does_not_depend_on_how_the_bytes_arrive() {
        let raw = state_response();
        let want = state_roots(STATE).expect("fixture is a state");
        for step in [1, 7, 4096, raw.len()] {
            let mut ex = hashing(false);
            assert!(!ex.response_started());
            let done = feed_in_steps(&mut ex, &raw, step);
            assert_eq!(done.body_len, STATE.len());
            assert!(done.response.body.is_empty(), "not kept");
            let roots = done.state.expect("hashed").expect("valid layout");
            assert_eq!(roots, want, "step {step}");
        }
        let mut kept = hashing(true);
        assert_eq!(feed_in_steps(&mut kept, &raw, 999).response.body, STATE);
    }

    #[test]
    fn the_request_is_sent_in_as_many_writes_as_the_socket_takes() {
        let mut ex = hashing(false);
        assert_eq!(ex.unsent(), b"GET /s HTTP/1.1\r\n\r\n");
        ex.wrote(4);
        assert_eq!(ex.unsent(), b"/s HTTP/1.1\r\n\r\n");
        ex.wrote(100);
        assert!(ex.unsent().is_empty());
    }

    #[test]
    fn bytes_beyond_the_framing_forbid_reuse() {
        let mut raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA".to_vec();
        let mut ex = Exchange::new(
            Vec::new(),
            limits(),
            BodyMode {
                keep: true,
                hash_state: false,
            },
        );
        let done = ex.feed(&raw).expect("valid").expect("complete");
        assert_eq!(done.response.body, b"ok");
        assert!(!done.response.keep_alive);
        raw.truncate(raw.len() - 5);
        let mut clean = Exchange::new(
            Vec::new(),
            limits(),
            BodyMode {
                keep: true,
                hash_state: false,
            },
        );
        assert!(
            clean
                .feed(&raw)
                .expect("valid")
                .expect("complete")
                .response
                .keep_alive
        );
    }

    #[test]
    fn a_close_ends_a_close_delimited_body_and_fails_a_short_one() {
        let mode = BodyMode {
            keep: true,
            hash_state: false,
        };
        let mut delimited = Exchange::new(Vec::new(), limits(), mode);
        assert!(delimited
            .feed(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall")
            .expect("valid")
            .is_none());
        assert!(delimited.response_started());
        assert_eq!(delimited.eof().expect("complete").response.body, b"all");
        let mut short = Exchange::new(Vec::new(), limits(), mode);
        let _ = short.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
        let err = short.eof().expect_err("3 of 10 bytes");
        assert_eq!(err.kind, UpstreamErrorKind::ClosedEarly);
    }
}
