//! One request answered on an inbound connection, as handed to the server's observer
//! (request metrics, access log): who asked, the head as received, what was answered and
//! how long it took. The method, request line and `User-Agent` are read from the raw head
//! on demand, so that only the access log pays for them. Pure.

use std::net::SocketAddr;
use std::time::Duration;

/// Most bytes of a request line looked at (a head over the limit may be longer).
pub const MAX_REQUEST_LINE: usize = 8 * 1024;

/// One request and its reply.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The client's address, when known.
    pub client: Option<SocketAddr>,
    /// The request head as received; for a head refused by the parser (400, 413, 431),
    /// what was buffered of it, at most the head limit.
    pub head: &'a [u8],
    /// The target as parsed (path and query); None when the head was refused.
    pub target: Option<&'a str>,
    pub status: u16,
    /// Body bytes queued for the client (0 for HEAD and 304).
    pub body_bytes: usize,
    /// From the request head parsed to the reply queued (0 for a refused head).
    pub duration: Duration,
}

impl<'a> Exchange<'a> {
    /// A reply of `status` with `body_bytes` to the request whose head is `head`, not
    /// (yet) parsed: no target, no duration.
    pub fn new(client: Option<SocketAddr>, head: &'a [u8], status: u16, body_bytes: usize) -> Self {
        Exchange {
            client,
            head,
            target: None,
            status,
            body_bytes,
            duration: Duration::ZERO,
        }
    }

    /// The same, for a parsed request of `target` answered in `duration`.
    pub fn parsed(self, target: &'a str, duration: Duration) -> Self {
        Exchange {
            target: Some(target),
            duration,
            ..self
        }
    }

    /// The request line without its line end (at most [`MAX_REQUEST_LINE`] bytes).
    pub fn request_line(&self) -> &'a [u8] {
        let head = self.head.get(..MAX_REQUEST_LINE).unwrap_or(self.head);
        let end = head.iter().position(|&b| b == b'\n').unwrap_or(head.len());
        let line = head.get(..end).unwrap_or_default();
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    /// The method token as sent (`GET`, `POST`, ...), if the line starts with one.
    pub fn method(&self) -> Option<&'a str> {
        let token = self.request_line().split(|&b| b == b' ').next()?;
        let valid = !token.is_empty() && token.iter().all(|&b| is_tchar(b));
        valid.then(|| std::str::from_utf8(token).ok()).flatten()
    }

    /// The target: as parsed, or else the second word of a whole request line when it
    /// is printable ASCII (a refused head may still have a readable request line).
    pub fn path(&self) -> Option<&'a str> {
        if let Some(target) = self.target {
            return Some(target);
        }
        let mut words = self.request_line().split(|&b| b == b' ');
        let word = words.nth(1)?;
        words.next()?; // a version follows: the target is whole, not cut
        let printable = !word.is_empty() && word.iter().all(|&b| b.is_ascii_graphic());
        printable.then(|| std::str::from_utf8(word).ok()).flatten()
    }

    /// The value of the first `User-Agent` field, trimmed (raw bytes: may not be UTF-8).
    pub fn user_agent(&self) -> Option<&'a [u8]> {
        let mut lines = self.head.split(|&b| b == b'\n');
        lines.next(); // the request line
        for line in lines {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                break;
            }
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = line.split_at(colon);
            if name.eq_ignore_ascii_case(b"user-agent") {
                return Some(trim_ows(value.get(1..).unwrap_or_default()));
            }
        }
        None
    }

    /// The duration in whole microseconds.
    pub fn micros(&self) -> u64 {
        u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX)
    }
}

/// A character of an HTTP token (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `value` without leading and trailing spaces and tabs.
fn trim_ows(value: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = value.iter().position(|b| !ows(b)).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !ows(b)).map_or(start, |i| i + 1);
    value.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange<'a>(head: &'a [u8], target: Option<&'a str>) -> Exchange<'a> {
        Exchange {
            client: None,
            head,
            target,
            status: 200,
            body_bytes: 0,
            duration: Duration::from_micros(1500),
        }
    }

    #[test]
    fn reads_method_path_and_user_agent() {
        let head = b"GET /status?x=1 HTTP/1.1\r\nHost: a\r\nuser-AGENT: \t curl/8.0 \r\n\r\n";
        let e = exchange(head, Some("/status?x=1"));
        assert_eq!(e.request_line(), b"GET /status?x=1 HTTP/1.1");
        assert_eq!(e.method(), Some("GET"));
        assert_eq!(e.path(), Some("/status?x=1"));
        assert_eq!(e.user_agent(), Some(&b"curl/8.0"[..]));
        assert_eq!(e.micros(), 1500);
    }

    #[test]
    fn a_refused_head_still_gives_what_it_can() {
        let e = exchange(b"POST /lean/v0/nope HTTP/1.1\nContent-Length: 5\n\n", None);
        assert_eq!(e.method(), Some("POST"));
        assert_eq!(e.path(), Some("/lean/v0/nope"));
        assert_eq!(e.user_agent(), None);
        let garbage = exchange(b"\x01\x02 \xff\xfe\r\n", None);
        assert_eq!(garbage.method(), None);
        assert_eq!(garbage.path(), None);
        let empty = exchange(b"", None);
        assert_eq!((empty.method(), empty.path()), (None, None));
        assert_eq!(empty.request_line(), b"");
    }

    #[test]
    fn user_agent_stops_at_the_end_of_the_head() {
        let e = exchange(b"GET / HTTP/1.1\r\n\r\nUser-Agent: body\r\n", Some("/"));
        assert_eq!(e.user_agent(), None);
        let e = exchange(b"GET / HTTP/1.1\r\nUser-Agent:\r\n\r\n", Some("/"));
        assert_eq!(e.user_agent(), Some(&b""[..]));
    }

    #[test]
    fn a_long_request_line_is_cut() {
        let mut head = b"GET /".to_vec();
        head.extend(std::iter::repeat_n(b'a', 3 * MAX_REQUEST_LINE));
        let e = exchange(&head, None);
        assert_eq!(e.request_line().len(), MAX_REQUEST_LINE);
        assert_eq!(e.path(), None, "the cut line has no end of the target");
    }
}
