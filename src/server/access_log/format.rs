//! Access-log lines, pure: an [`Exchange`] and the wall time in, one line out.
//!
//! - `json`: `{"time":"2023-11-14T22:13:20.042Z","client":"127.0.0.1:50312","method":"GET",
//!   "path":"/status","status":200,"bytes":412,"duration_ms":0.031,"user_agent":"curl/8.5.0"}`
//!   (one object per line; `client`, `method`, `path` and `user_agent` are `null` when
//!   unknown; `path` is the target as sent, query included).
//! - `common`: the Common Log Format of Apache (`%h %l %u %t "%r" %>s %b`) and nginx:
//!   `127.0.0.1 - - [14/Nov/2023:22:13:20 +0000] "GET /status HTTP/1.1" 200 412`, where
//!   the request line is escaped (`"`, `\`, and bytes outside printable ASCII as `\xHH`)
//!   and a reply without body bytes shows `-`.

use crate::config::AccessLogFormat;
use crate::http1::date::{civil_from_days, MONTHS};
use crate::server::exchange::Exchange;
use crate::server::render::json::{write_str, write_u64};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends the line for `e` answered at wall time `time_ms`, newline included.
pub fn write_line(out: &mut Vec<u8>, format: AccessLogFormat, time_ms: i64, e: &Exchange<'_>) {
    match format {
        AccessLogFormat::Json => write_json(out, time_ms, e),
        AccessLogFormat::Common => write_common(out, time_ms, e),
    }
    out.push(b'\n');
}

fn write_json(out: &mut Vec<u8>, time_ms: i64, e: &Exchange<'_>) {
    out.extend_from_slice(b"{\"time\":\"");
    write_rfc3339(out, time_ms);
    out.extend_from_slice(b"\",\"client\":");
    match e.client {
        Some(addr) => write_str(out, &addr.to_string()),
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"method\":");
    write_opt_str(out, e.method());
    out.extend_from_slice(b",\"path\":");
    write_opt_str(out, e.path());
    out.extend_from_slice(b",\"status\":");
    write_u64(out, u64::from(e.status));
    out.extend_from_slice(b",\"bytes\":");
    write_u64(out, e.body_bytes as u64);
    out.extend_from_slice(b",\"duration_ms\":");
    let us = e.micros();
    write_u64(out, us / 1000);
    out.push(b'.');
    write_padded(out, us % 1000, 3);
    out.extend_from_slice(b",\"user_agent\":");
    match e.user_agent() {
        Some(ua) => write_str(out, &String::from_utf8_lossy(ua)),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_common(out: &mut Vec<u8>, time_ms: i64, e: &Exchange<'_>) {
    match e.client {
        Some(addr) => out.extend_from_slice(addr.ip().to_string().as_bytes()),
        None => out.push(b'-'),
    }
    out.extend_from_slice(b" - - [");
    write_clf_time(out, time_ms);
    out.extend_from_slice(b"] \"");
    let line = e.request_line();
    if line.is_empty() {
        out.push(b'-');
    }
    for &b in line {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            b' '..=b'~' => out.push(b),
            _ => out.extend_from_slice(&[
                b'\\',
                b'x',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ]),
        }
    }
    out.extend_from_slice(b"\" ");
    write_u64(out, u64::from(e.status));
    out.push(b' ');
    match e.body_bytes {
        0 => out.push(b'-'),
        n => write_u64(out, n as u64),
    }
}

/// `n` in decimal, zero-padded to `width` digits.
fn write_padded(out: &mut Vec<u8>, n: u64, width: usize) {
    let mut digits = Vec::with_capacity(20);
    write_u64(&mut digits, n);
    out.extend(std::iter::repeat_n(
        b'0',
        width.saturating_sub(digits.len()),
    ));
    out.extend_from_slice(&digits);
}

/// (days since the epoch, second of the day, ms) of `time_ms` (clamped at the epoch).
fn split(time_ms: i64) -> (u64, u64, u64) {
    let ms = u64::try_from(time_ms).unwrap_or(0);
    let secs = ms / 1000;
    (secs / 86_400, secs % 86_400, ms % 1000)
}

/// `2023-11-14T22:13:20.042Z` (RFC 3339, UTC, milliseconds).
pub fn write_rfc3339(out: &mut Vec<u8>, time_ms: i64) {
    let (days, secs, ms) = split(time_ms);
    let (year, month, day) = civil_from_days(days);
    write_padded(out, year, 4);
    for (sep, n) in [
        (b'-', month),
        (b'-', day),
        (b'T', secs / 3600),
        (b':', secs / 60 % 60),
    ] {
        out.push(sep);
        write_padded(out, n, 2);
    }
    out.push(b':');
    write_padded(out, secs % 60, 2);
    out.push(b'.');
    write_padded(out, ms, 3);
    out.push(b'Z');
}

/// `14/Nov/2023:22:13:20 +0000` (the CLF `%t`, without its brackets).
fn write_clf_time(out: &mut Vec<u8>, time_ms: i64) {
    let (days, secs, _) = split(time_ms);
    let (year, month, day) = civil_from_days(days);
    write_padded(out, day, 2);
    out.push(b'/');
    let name = usize::try_from(month.saturating_sub(1))
        .ok()
        .and_then(|i| MONTHS.get(i))
        .unwrap_or(&"Jan");
    out.extend_from_slice(name.as_bytes());
    out.push(b'/');
    write_padded(out, year, 4);
    for n in [secs / 3600, secs / 60 % 60, secs % 60] {
        out.push(b':');
        write_padded(out, n, 2);
    }
    out.extend_from_slice(b" +0000");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// 2023-11-14T22:13:20.042Z
    const T: i64 = 1_700_000_000_042;

    fn line(format: AccessLogFormat, e: &Exchange<'_>) -> String {
        let mut out = Vec::new();
        write_line(&mut out, format, T, e);
        String::from_utf8(out).unwrap()
    }

    fn get() -> Exchange<'static> {
        Exchange::new(
            Some("127.0.0.1:50312".parse().unwrap()),
            b"GET /lean/v0/nope?x=\"1\" HTTP/1.1\r\nUser-Agent: curl/8.5.0 \"q\"\r\n\r\n",
            404,
            10,
        )
        .parsed("/lean/v0/nope?x=\"1\"", Duration::from_micros(12_345))
    }

    #[test]
    fn json_line() {
        let text = line(AccessLogFormat::Json, &get());
        assert_eq!(
            text,
            "{\"time\":\"2023-11-14T22:13:20.042Z\",\"client\":\"127.0.0.1:50312\",\
             \"method\":\"GET\",\"path\":\"/lean/v0/nope?x=\\\"1\\\"\",\"status\":404,\
             \"bytes\":10,\"duration_ms\":12.345,\"user_agent\":\"curl/8.5.0 \\\"q\\\"\"}\n"
        );
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["path"], "/lean/v0/nope?x=\"1\"");
        assert_eq!(v["duration_ms"], 12.345);
    }

    #[test]
    fn json_line_of_a_refused_head() {
        let e = Exchange::new(None, b"\x16\x03\x01 garbage\xff", 400, 12);
        let text = line(AccessLogFormat::Json, &e);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["client"], serde_json::Value::Null);
        assert_eq!(v["method"], serde_json::Value::Null);
        assert_eq!(v["path"], serde_json::Value::Null);
        assert_eq!(v["user_agent"], serde_json::Value::Null);
        assert_eq!(v["status"], 400);
        assert_eq!(v["duration_ms"], 0.0);
        assert!(text.contains("\"duration_ms\":0.000,"));
    }

    #[test]
    fn common_log_format() {
        assert_eq!(
            line(AccessLogFormat::Common, &get()),
            "127.0.0.1 - - [14/Nov/2023:22:13:20 +0000] \
             \"GET /lean/v0/nope?x=\\\"1\\\" HTTP/1.1\" 404 10\n"
        );
        let v6 = Exchange::new(
            Some("[::1]:9".parse().unwrap()),
            b"HEAD / HTTP/1.0\r\n\r\n",
            200,
            0,
        );
        assert_eq!(
            line(AccessLogFormat::Common, &v6),
            "::1 - - [14/Nov/2023:22:13:20 +0000] \"HEAD / HTTP/1.0\" 200 -\n"
        );
        let odd = Exchange::new(None, b"G\x01T /\\ \xff\r\n", 400, 12);
        assert_eq!(
            line(AccessLogFormat::Common, &odd),
            "- - - [14/Nov/2023:22:13:20 +0000] \"G\\x01T /\\\\ \\xff\" 400 12\n"
        );
        let empty = Exchange::new(None, b"", 400, 12);
        assert!(line(AccessLogFormat::Common, &empty).contains("] \"-\" 400 12\n"));
    }

    #[test]
    fn dates() {
        let mut out = Vec::new();
        write_rfc3339(&mut out, 0);
        out.push(b' ');
        write_rfc3339(&mut out, 951_782_400_007); // 2000-02-29T00:00:00.007Z
        out.push(b' ');
        write_rfc3339(&mut out, -5);
        out.push(b' ');
        write_clf_time(&mut out, 1_704_067_199_999); // 2023-12-31T23:59:59.999Z
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1970-01-01T00:00:00.000Z 2000-02-29T00:00:00.007Z 1970-01-01T00:00:00.000Z \
             31/Dec/2023:23:59:59 +0000"
        );
    }
}
