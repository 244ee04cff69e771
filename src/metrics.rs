//! Prometheus text exposition (`text/plain; version=0.0.4`) of the original's six metrics
//! plus per-upstream gauges, fd budget, inbound and upstream socket counts, finality
//! monitoring and inbound HTTP requests.
//!
//! The families are data: a table of [`Family`] rows (name, help, type and the function
//! that gives its samples), in `families.rs` (the established ones, in their historical
//! order) and `monitor.rs` (finality lag, per-upstream standing, HTTP requests), written
//! by the short renderer below with the primitives of `expo.rs`.
//!
//! Every family has `# HELP` and `# TYPE` and its samples are contiguous. The six
//! original names (and the brief's `_ms` names) carry abbreviated units, which
//! `promtool check metrics` lints but parses; they are kept for compatibility.

mod expo;
mod families;
mod monitor;

use crate::app::{AppState, UpstreamRecord};

pub use expo::{write_label_value, Sink, Value};

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The loop's gauges, read from their owners when a scrape is answered: open fds from
/// `/proc/self/fd`, socket counts from the slab. (Requests in flight are counted from
/// the upstream records.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoopGauges {
    /// Open fds of the process (`/proc/self/fd`).
    pub open_fds: usize,
    /// Open connections of the public listener (the slab's count).
    pub inbound_open: usize,
    /// Open upstream sockets (the slab's count).
    pub upstream_sockets_open: usize,
    /// Public inbound connections when `open_fds` was read (it is read at most every
    /// 100 ms): fd pressure compares the two counts of one moment.
    pub inbound_at_fd_read: usize,
}

impl LoopGauges {
    /// Whether the fds outside the inbound pool exceed their share (`/healthz`'s
    /// `fd_pressure`), from the open fds and the inbound connections of one moment: a
    /// reading of a moment ago against connections closed since would count them as
    /// fds outside the pool.
    pub fn fd_pressure(&self, app: &AppState) -> bool {
        app.fd_pressure(self.open_fds, self.inbound_at_fd_read)
    }
}

/// Everything a family's samples are computed from.
#[derive(Clone, Copy)]
pub struct MetricsInput<'a> {
    pub app: &'a AppState,
    pub gauges: &'a LoopGauges,
    /// Wall-clock ms since the Unix epoch.
    pub now_ms: i64,
}

/// The `# TYPE` of a family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    Gauge,
    Counter,
    Histogram,
}

impl Type {
    fn as_str(self) -> &'static str {
        match self {
            Type::Gauge => "gauge",
            Type::Counter => "counter",
            Type::Histogram => "histogram",
        }
    }
}

/// How a family's samples are produced.
#[derive(Clone, Copy)]
pub enum Samples {
    /// One unlabelled sample.
    One(fn(&MetricsInput<'_>) -> Value),
    /// One unlabelled sample, or none (the family is still declared).
    Maybe(fn(&MetricsInput<'_>) -> Option<Value>),
    /// One `upstream="NAME"` sample per upstream that has a value.
    PerUpstream(fn(&MetricsInput<'_>, &UpstreamRecord) -> Option<u64>),
    /// Samples with labels of their own, written to the sink.
    Labelled(fn(&MetricsInput<'_>, &mut Sink<'_>)),
}

/// One metric family.
#[derive(Clone, Copy)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
    pub ty: Type,
    pub samples: Samples,
}

/// Every family, in exposition order.
pub fn families() -> impl Iterator<Item = &'static Family> {
    families::ESTABLISHED.iter().chain(monitor::MONITOR)
}

/// Appends the whole exposition for `app` with the loop's `gauges` at wall time `now_ms`.
pub fn render_metrics(app: &AppState, gauges: &LoopGauges, now_ms: i64, out: &mut Vec<u8>) {
    let input = MetricsInput {
        app,
        gauges,
        now_ms,
    };
    for family in families() {
        render_family(family, &input, out);
    }
}

/// Appends one family: `# HELP`, `# TYPE`, then its samples.
fn render_family(family: &Family, input: &MetricsInput<'_>, out: &mut Vec<u8>) {
    expo::header(out, family.name, family.help, family.ty.as_str());
    let mut sink = Sink::new(out, family.name);
    match family.samples {
        Samples::One(value) => sink.sample(&[], value(input)),
        Samples::Maybe(value) => {
            if let Some(v) = value(input) {
                sink.sample(&[], v);
            }
        }
        Samples::PerUpstream(value) => {
            for u in &input.app.upstreams {
                if let Some(v) = value(input, u) {
                    sink.sample(&[("upstream", &u.spec.name)], Value::U64(v));
                }
            }
        }
        Samples::Labelled(write) => write(input, &mut sink),
    }
}

#[cfg(test)]
mod tests;
