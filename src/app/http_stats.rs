//! Counts of the inbound requests answered, for `leanpoint_http_requests_total{route,code}`
//! and `leanpoint_http_request_duration_seconds{route}`: a fixed table indexed by route
//! label and status bucket, so memory is bounded whatever clients send. Pure.
//!
//! The counters are `Cell`s: the server records a request while the router (rendering
//! `/metrics` in the same pass) reads the same `AppState` through a shared reference.

use crate::server::route_label::RouteLabel;
use std::cell::Cell;

/// Status codes leanpoint answers, each its own `code` label value.
const KNOWN_CODES: [u16; 8] = [200, 304, 400, 404, 405, 413, 431, 503];

/// Every `code` label value: the known codes, then a class per hundred for any other
/// code, then `other` for a code outside 100-599.
pub const CODE_LABELS: [&str; 14] = [
    "200", "304", "400", "404", "405", "413", "431", "503", "1xx", "2xx", "3xx", "4xx", "5xx",
    "other",
];

/// Upper bounds (µs) of the duration buckets, and their `le` label values (seconds).
pub const DURATION_BOUNDS_US: [u64; 6] = [100, 500, 1_000, 5_000, 25_000, 100_000];
/// `le` of each bound of [`DURATION_BOUNDS_US`], then `+Inf`.
pub const DURATION_LE: [&str; 7] = ["0.0001", "0.0005", "0.001", "0.005", "0.025", "0.1", "+Inf"];

/// Index of `status` in [`CODE_LABELS`].
pub fn code_index(status: u16) -> usize {
    if let Some(i) = KNOWN_CODES.iter().position(|&c| c == status) {
        return i;
    }
    match status {
        100..=599 => KNOWN_CODES.len() + usize::from(status / 100) - 1,
        _ => CODE_LABELS.len() - 1,
    }
}

/// Durations of one route's requests.
#[derive(Debug, Default)]
pub struct Durations {
    /// Requests per bucket (not cumulative), the last one above every bound.
    buckets: [Cell<u64>; DURATION_LE.len()],
    sum_us: Cell<u64>,
}

impl Durations {
    fn record(&self, micros: u64) {
        let i = DURATION_BOUNDS_US
            .iter()
            .position(|&b| micros <= b)
            .unwrap_or(DURATION_BOUNDS_US.len());
        if let Some(cell) = self.buckets.get(i) {
            bump(cell, 1);
        }
        bump(&self.sum_us, micros);
    }

    /// Cumulative counts per `le` of [`DURATION_LE`] (the last is the total).
    pub fn cumulative(&self) -> [u64; DURATION_LE.len()] {
        let mut acc = 0u64;
        let mut out = [0; DURATION_LE.len()];
        for (slot, cell) in out.iter_mut().zip(&self.buckets) {
            acc = acc.saturating_add(cell.get());
            *slot = acc;
        }
        out
    }

    /// Sum of the durations, µs.
    pub fn sum_us(&self) -> u64 {
        self.sum_us.get()
    }
}

fn bump(cell: &Cell<u64>, by: u64) {
    cell.set(cell.get().saturating_add(by));
}

/// Requests by route and status bucket, durations by route, and access-log lines lost.
#[derive(Debug, Default)]
pub struct HttpStats {
    counts: [[Cell<u64>; CODE_LABELS.len()]; RouteLabel::COUNT],
    durations: [Durations; RouteLabel::COUNT],
    access_log_dropped: Cell<u64>,
}

impl HttpStats {
    /// Counts one request of `route` answered `status` in `micros` µs.
    pub fn record(&self, route: RouteLabel, status: u16, micros: u64) {
        if let Some(cell) = self
            .counts
            .get(route.index())
            .and_then(|row| row.get(code_index(status)))
        {
            bump(cell, 1);
        }
        if let Some(d) = self.durations.get(route.index()) {
            d.record(micros);
        }
    }

    /// Requests of `route` in the bucket of [`CODE_LABELS`] at `code`.
    pub fn count(&self, route: RouteLabel, code: usize) -> u64 {
        self.counts
            .get(route.index())
            .and_then(|row| row.get(code))
            .map_or(0, Cell::get)
    }

    /// Requests of `route`, any status.
    pub fn route_total(&self, route: RouteLabel) -> u64 {
        self.counts
            .get(route.index())
            .map_or(0, |row| row.iter().map(Cell::get).sum())
    }

    /// The durations of `route`'s requests.
    pub fn durations(&self, route: RouteLabel) -> Option<&Durations> {
        self.durations.get(route.index())
    }

    /// Counts `lines` access-log lines dropped (buffer full or write failed).
    pub fn access_log_dropped(&self, lines: u64) {
        bump(&self.access_log_dropped, lines);
    }

    /// Access-log lines dropped since start.
    pub fn access_log_dropped_total(&self) -> u64 {
        self.access_log_dropped.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fall_in_bounded_buckets() {
        for (i, code) in KNOWN_CODES.iter().enumerate() {
            assert_eq!(CODE_LABELS[code_index(*code)], code.to_string());
            assert_eq!(code_index(*code), i);
        }
        assert_eq!(CODE_LABELS[code_index(201)], "2xx");
        assert_eq!(CODE_LABELS[code_index(101)], "1xx");
        assert_eq!(CODE_LABELS[code_index(302)], "3xx");
        assert_eq!(CODE_LABELS[code_index(418)], "4xx");
        assert_eq!(CODE_LABELS[code_index(500)], "5xx");
        assert_eq!(CODE_LABELS[code_index(599)], "5xx");
        for odd in [0, 99, 600, 999, u16::MAX] {
            assert_eq!(CODE_LABELS[code_index(odd)], "other", "{odd}");
        }
        // Every code lands inside the table.
        assert!((0..=u16::MAX).all(|c| code_index(c) < CODE_LABELS.len()));
    }

    #[test]
    fn counts_by_route_and_code() {
        let stats = HttpStats::default();
        stats.record(RouteLabel::Other, 404, 10);
        stats.record(RouteLabel::Other, 404, 10);
        stats.record(RouteLabel::Healthz, 503, 10);
        stats.record(RouteLabel::Healthz, 777, 10);
        assert_eq!(stats.count(RouteLabel::Other, code_index(404)), 2);
        assert_eq!(stats.count(RouteLabel::Healthz, code_index(503)), 1);
        assert_eq!(stats.count(RouteLabel::Healthz, code_index(200)), 0);
        assert_eq!(stats.count(RouteLabel::Healthz, CODE_LABELS.len() - 1), 1);
        assert_eq!(stats.route_total(RouteLabel::Healthz), 2);
        assert_eq!(stats.route_total(RouteLabel::Status), 0);
        assert_eq!(stats.count(RouteLabel::Status, 99), 0, "out of range is 0");
    }

    #[test]
    fn durations_are_cumulative_per_bound() {
        let stats = HttpStats::default();
        for us in [50, 100, 101, 2_000, 1_000_000] {
            stats.record(RouteLabel::Metrics, 200, us);
        }
        let d = stats.durations(RouteLabel::Metrics).unwrap();
        assert_eq!(d.cumulative(), [2, 3, 3, 4, 4, 4, 5]);
        assert_eq!(d.sum_us(), 50 + 100 + 101 + 2_000 + 1_000_000);
        let none = stats.durations(RouteLabel::Status).unwrap();
        assert_eq!(none.cumulative(), [0; 7]);
    }

    #[test]
    fn dropped_lines_add_up() {
        let stats = HttpStats::default();
        stats.access_log_dropped(3);
        stats.access_log_dropped(2);
        assert_eq!(stats.access_log_dropped_total(), 5);
    }
}
