//! Encoding: upstream GET requests and public response heads.

/// Encodes `GET {target} HTTP/1.1` with `Host`, the given `Accept`, keep-alive, and a
/// `User-Agent`. `host_header` is `host:port` (IPv6 in brackets).
pub fn encode_get(target: &str, host_header: &str, accept: &str) -> Vec<u8> {
    let _ = (target, host_header, accept);
    todo!()
}

/// Appends a response head: status line, `Content-Type`, `Content-Length`, the extra
/// headers given as `(name, value)`, and `Connection: close` when `!keep_alive`.
pub fn encode_response_head(
    out: &mut Vec<u8>,
    status: u16,
    content_type: &str,
    content_length: usize,
    keep_alive: bool,
    extra: &[(&str, &str)],
) {
    let _ = (out, status, content_type, content_length, keep_alive, extra);
    todo!()
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
