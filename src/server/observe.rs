//! What the server does with each reply queued on an inbound connection (the
//! `DriveInput::observe` hook): count it by route and status for
//! `leanpoint_http_requests_total` and the duration histogram, log the lean API's
//! errors at `debug`, and hand it to the access log when there is one.

use super::access_log::AccessLog;
use super::exchange::Exchange;
use super::route_label::{is_lean_api, RouteLabel};
use crate::app::{AppState, HttpStats};

/// The observer of one pass of the server over a connection.
pub struct Observer<'a> {
    pub stats: &'a HttpStats,
    pub log: Option<&'a AccessLog>,
    /// Whether a `--static-dir` is served (unknown paths are its files).
    pub static_dir: bool,
    /// Wall-clock ms since the Unix epoch (the access log's `time`).
    pub now_ms: i64,
}

impl Observer<'_> {
    /// Records one reply.
    pub fn observe(&self, e: &Exchange<'_>) {
        let path = e.path();
        let route = RouteLabel::of(path, self.static_dir, e.status);
        self.stats.record(route, e.status, e.micros());
        if e.status >= 400 && path.is_some_and(is_lean_api) {
            tracing::debug!(
                method = e.method().unwrap_or("-"),
                path = path.unwrap_or("-"),
                status = e.status,
                client = ?e.client,
                "lean API request answered with an error"
            );
        }
        if let Some(log) = self.log {
            self.stats.access_log_dropped(log.record(self.now_ms, e));
        }
    }
}

/// Writes what the access log buffered (once per loop iteration) and counts the lines
/// a failed write dropped.
pub fn flush_access_log(log: Option<&AccessLog>, app: &AppState) {
    if let Some(log) = log {
        app.http.access_log_dropped(log.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::http_stats::code_index;
    use crate::config::{AccessLogDest, AccessLogFormat};
    use std::time::Duration;

    fn e(head: &'static [u8], target: Option<&'static str>, status: u16) -> Exchange<'static> {
        let e = Exchange::new(None, head, status, 0);
        match target {
            Some(t) => e.parsed(t, Duration::from_micros(7)),
            None => e,
        }
    }

    #[test]
    fn counts_by_route_and_status() {
        let stats = HttpStats::default();
        let observer = Observer {
            stats: &stats,
            log: None,
            static_dir: false,
            now_ms: 0,
        };
        observer.observe(&e(
            b"GET /lean/v0/nope HTTP/1.1\r\n\r\n",
            Some("/lean/v0/nope"),
            404,
        ));
        observer.observe(&e(b"GET /healthz HTTP/1.1\r\n\r\n", Some("/healthz"), 200));
        // A refused head is counted under the path of its request line, else other.
        observer.observe(&e(
            b"GET /healthz HTTP/1.1\r\nContent-Length: 1\r\n\r\n",
            None,
            413,
        ));
        observer.observe(&e(b"\x01\x02\x03", None, 400));
        assert_eq!(stats.count(RouteLabel::Other, code_index(404)), 1);
        assert_eq!(stats.count(RouteLabel::Healthz, code_index(200)), 1);
        assert_eq!(stats.count(RouteLabel::Healthz, code_index(413)), 1);
        assert_eq!(stats.count(RouteLabel::Other, code_index(400)), 1);
        assert_eq!(stats.access_log_dropped_total(), 0);
    }

    #[test]
    fn every_line_a_failing_sink_loses_is_counted() {
        // A sink whose writes fail: the lines of the write made at the high-water mark
        // are lost and counted while requests come, the rest at the loop's flush.
        let stats = HttpStats::default();
        let log = AccessLog::open(
            &AccessLogDest::File("/dev/full".into()),
            AccessLogFormat::Json,
        )
        .unwrap();
        let observer = Observer {
            stats: &stats,
            log: Some(&log),
            static_dir: false,
            now_ms: 0,
        };
        observer.observe(&e(b"GET / HTTP/1.1\r\n\r\n", Some("/"), 200));
        assert!(log.pending() > 0);
        let mut n = 0;
        while stats.access_log_dropped_total() == 0 {
            observer.observe(&e(b"GET / HTTP/1.1\r\n\r\n", Some("/"), 200));
            n += 1;
            assert!(n < 1_000_000, "no line was ever lost");
        }
        let app = crate::server::router::fixtures::fresh_app(&[]);
        flush_access_log(Some(&log), &app);
        assert_eq!(log.pending(), 0);
        assert_eq!(stats.route_total(RouteLabel::Dashboard), n + 1);
        let lost = stats.access_log_dropped_total() + app.http.access_log_dropped_total();
        assert_eq!(lost, n + 1, "every line of n + 1 replies, counted once");
    }
}
