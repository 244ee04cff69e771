//! Encoding: upstream GET requests and public response heads. Plain byte appends into
//! a buffer sized up front; integers are written by hand (no `format!` machinery).
//! Inputs are written as given: callers pass values free of CR/LF (config-validated
//! targets and hosts, constant header names and values).

/// `User-Agent` sent upstream.
pub const USER_AGENT: &str = concat!("leanpoint/", env!("CARGO_PKG_VERSION"));

/// Encodes `GET {target} HTTP/1.1` with `Host`, the given `Accept`, keep-alive, and a
/// `User-Agent`. `host_header` is `host:port` (IPv6 in brackets).
pub fn encode_get(target: &str, host_header: &str, accept: &str) -> Vec<u8> {
    let parts: [&[u8]; 9] = [
        b"GET ",
        target.as_bytes(),
        b" HTTP/1.1\r\nHost: ",
        host_header.as_bytes(),
        b"\r\nAccept: ",
        accept.as_bytes(),
        b"\r\nUser-Agent: ",
        USER_AGENT.as_bytes(),
        b"\r\nConnection: keep-alive\r\n\r\n",
    ];
    let mut out = Vec::with_capacity(parts.iter().map(|p| p.len()).sum());
    for p in parts {
        out.extend_from_slice(p);
    }
    out
}

/// Appends a response head: status line, `Content-Type`, `Content-Length`, the extra
/// headers given as `(name, value)`, and `Connection: close` when `!keep_alive`.
/// An empty `content_type` omits that header (e.g. for 304).
pub fn encode_response_head(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    content_length: usize,
    keep_alive: bool,
    extra: &[(&str, &str)],
) {
    let reason = reason(status);
    let extra_len: usize = extra.iter().map(|(n, v)| n.len() + v.len() + 4).sum();
    out.reserve(96 + reason.len() + content_type.len() + extra_len);

    out.extend_from_slice(b"HTTP/1.1 ");
    write_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    if !content_type.is_empty() {
        out.extend_from_slice(b"\r\nContent-Type: ");
        out.extend_from_slice(content_type.as_bytes());
    }
    out.extend_from_slice(b"\r\nContent-Length: ");
    write_decimal(out, content_length as u64);
    out.extend_from_slice(b"\r\n");
    finish_head(out, keep_alive, extra);
}

/// Appends a `304` head: the extra headers (ETag, Cache-Control) but no `Content-Length`
/// or `Content-Type`, since a 304 may only carry the length of the 200 it stands for.
pub fn encode_not_modified(out: &mut Vec<u8>, keep_alive: bool, extra: &[(&str, &str)]) {
    out.extend_from_slice(b"HTTP/1.1 304 Not Modified\r\n");
    finish_head(out, keep_alive, extra);
}

/// The extra headers, `Connection: close` when not keeping the connection, the blank line.
fn finish_head(out: &mut Vec<u8>, keep_alive: bool, extra: &[(&str, &str)]) {
    for (name, value) in extra {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends the decimal digits of `n`.
pub fn write_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(d) = digits.get_mut(start) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or(&[]));
}

/// The reason phrase for a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::request::{parse_request, Method, RequestLimits};
    use crate::http1::response::{ReadProgress, ResponseLimits, ResponseReader};

    #[test]
    fn get_request_bytes() {
        let req = encode_get(
            "/lean/v0/states/finalized",
            "[::1]:5052",
            "application/octet-stream",
        );
        let expected = format!(
            "GET /lean/v0/states/finalized HTTP/1.1\r\nHost: [::1]:5052\r\nAccept: application/octet-stream\r\nUser-Agent: leanpoint/{}\r\nConnection: keep-alive\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        assert_eq!(String::from_utf8(req.clone()).unwrap(), expected);
        assert_eq!(req.capacity(), req.len());
        // And our own request parser reads it back.
        let parsed = parse_request(&req, &RequestLimits::default())
            .unwrap()
            .unwrap();
        assert_eq!(parsed.method, Method::Get);
        assert_eq!(parsed.target, "/lean/v0/states/finalized");
        assert!(parsed.keep_alive);
        assert_eq!(parsed.head_len, req.len());
    }

    #[test]
    fn response_head_bytes() {
        let mut out = b"previous".to_vec();
        encode_response_head(
            &mut out,
            200,
            "application/json",
            1234,
            true,
            &[("ETag", "\"ab\"")],
        );
        assert_eq!(
            &out[..],
            &b"previousHTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1234\r\nETag: \"ab\"\r\n\r\n"[..]
        );

        let mut out = Vec::new();
        encode_response_head(&mut out, 431, "text/plain", 0, false, &[]);
        assert_eq!(
            &out[..],
            &b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Type: text/plain\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"[..]
        );

        let mut out = Vec::new();
        encode_response_head(&mut out, 304, "", 0, true, &[]);
        assert_eq!(
            &out[..],
            &b"HTTP/1.1 304 Not Modified\r\nContent-Length: 0\r\n\r\n"[..]
        );
    }

    #[test]
    fn response_head_round_trips_through_the_reader() {
        for (status, ka) in [(200u16, true), (404, false), (503, true)] {
            let body = b"{\"x\":1}";
            let mut msg = Vec::new();
            encode_response_head(
                &mut msg,
                status,
                "application/json",
                body.len(),
                ka,
                &[("Cache-Control", "no-cache")],
            );
            msg.extend_from_slice(body);
            let mut r = ResponseReader::new(ResponseLimits::default(), false);
            match r.feed(&msg).unwrap() {
                ReadProgress::Complete { response, consumed } => {
                    assert_eq!(consumed, msg.len());
                    assert_eq!(response.status, status);
                    assert_eq!(response.keep_alive, ka);
                    assert_eq!(response.body, body);
                    assert_eq!(response.content_type.as_deref(), Some("application/json"));
                }
                ReadProgress::Partial => panic!("partial"),
            }
        }
    }

    #[test]
    fn decimal_writing() {
        for n in [0u64, 7, 10, 99, 100, 12345, 1 << 40, u64::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn reasons() {
        assert_eq!(reason(200), "OK");
        assert_eq!(reason(413), "Payload Too Large");
        assert_eq!(reason(299), "Unknown");
    }
}
