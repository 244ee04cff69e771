//! Prometheus text exposition (`text/plain; version=0.0.4`) of the original's six metrics
//! plus per-upstream gauges, fd budget, inbound and upstream socket counts.
//!
//! Every family has `# HELP` and `# TYPE` and its samples are contiguous. The six
//! original names (and the brief's `_ms` names) carry abbreviated units, which
//! `promtool check metrics` lints but parses; they are kept for compatibility.

use crate::app::{AppState, UpstreamErrorKind, UpstreamRecord};
use crate::server::render::json::{write_i64, write_u64};

/// The `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

#[derive(Clone, Copy)]
enum Type {
    Gauge,
    Counter,
}

fn family(out: &mut Vec<u8>, name: &str, help: &str, ty: Type) {
    out.extend_from_slice(b"# HELP ");
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    out.extend_from_slice(help.as_bytes());
    out.extend_from_slice(b"\n# TYPE ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(match ty {
        Type::Gauge => b" gauge\n",
        Type::Counter => b" counter\n",
    });
}

/// A family with one unlabelled sample.
fn single(out: &mut Vec<u8>, name: &str, help: &str, ty: Type, value: u64) {
    family(out, name, help, ty);
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_u64(out, value);
    out.push(b'\n');
}

fn single_i64(out: &mut Vec<u8>, name: &str, help: &str, value: i64) {
    family(out, name, help, Type::Gauge);
    out.extend_from_slice(name.as_bytes());
    out.push(b' ');
    write_i64(out, value);
    out.push(b'\n');
}

/// Appends a label value escaped per the exposition format (`\\`, `\"`, `\n`).
pub fn write_label_value(out: &mut Vec<u8>, value: &str) {
    for &b in value.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'"' => out.extend_from_slice(b"\\\""),
            b'\n' => out.extend_from_slice(b"\\n"),
            _ => out.push(b),
        }
    }
}

/// `name{upstream="…"` without the closing brace.
fn upstream_sample_start(out: &mut Vec<u8>, name: &str, upstream: &str) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"{upstream=\"");
    write_label_value(out, upstream);
    out.push(b'"');
}

/// A gauge family with one sample per upstream that has a value.
fn per_upstream(
    out: &mut Vec<u8>,
    app: &AppState,
    name: &str,
    help: &str,
    value: impl Fn(&UpstreamRecord) -> Option<u64>,
) {
    family(out, name, help, Type::Gauge);
    for u in &app.upstreams {
        if let Some(v) = value(u) {
            upstream_sample_start(out, name, &u.spec.name);
            out.extend_from_slice(b"} ");
            write_u64(out, v);
            out.push(b'\n');
        }
    }
}

/// The loop's gauges, read from their owners when a scrape is answered: open fds from
/// `/proc/self/fd`, socket counts from the slab. (Requests in flight are counted from
/// the upstream records.)
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoopGauges {
    pub open_fds: usize,
    /// Open connections of the public listener.
    pub inbound_open: usize,
    pub upstream_sockets_open: usize,
}

/// Appends the whole exposition for `app` with the loop's `gauges` at wall time `now_ms`.
pub fn render_metrics(app: &AppState, gauges: &LoopGauges, now_ms: i64, out: &mut Vec<u8>) {
    let open_fds = gauges.open_fds;
    use Type::{Counter, Gauge};
    let agreed = app.agreed.as_ref();
    let c = &app.counters;
    let budget = &app.fd_budget;

    // The original's six.
    let justified = agreed.map_or(0, |a| a.justified.slot);
    let finalized = agreed.map_or(0, |a| a.finalized.slot);
    single(
        out,
        "leanpoint_justified_slot",
        "Agreed justified slot.",
        Gauge,
        justified,
    );
    single(
        out,
        "leanpoint_finalized_slot",
        "Agreed finalized slot.",
        Gauge,
        finalized,
    );
    single_i64(
        out,
        "leanpoint_last_success_timestamp_ms",
        "Wall time of the last round with consensus, ms since the epoch (0 before any).",
        app.last_success_ms,
    );
    single_i64(
        out,
        "leanpoint_last_updated_timestamp_ms",
        "Wall time the last poll round completed, ms since the epoch (0 before any).",
        app.last_updated_ms,
    );
    let round_ms = c.last_round_ms;
    single(
        out,
        "leanpoint_last_latency_ms",
        "Duration of the last poll round in ms.",
        Gauge,
        round_ms,
    );
    single(
        out,
        "leanpoint_error_total",
        "Poll rounds that ended without consensus.",
        Counter,
        app.error_count,
    );

    // Per upstream.
    let up = |u: &UpstreamRecord| Some(u64::from(u.healthy));
    per_upstream(
        out,
        app,
        "leanpoint_upstream_up",
        "Whether the upstream's last poll gave a vote (its finalized checkpoint).",
        up,
    );
    per_upstream(
        out,
        app,
        "leanpoint_upstream_latency_ms",
        "Latency of the upstream's last complete poll in ms.",
        |u| u.last_latency_ms,
    );
    per_upstream(
        out,
        app,
        "leanpoint_upstream_justified_slot",
        "Justified slot last reported by the upstream.",
        |u| u.last_justified.map(|j| j.slot),
    );
    per_upstream(
        out,
        app,
        "leanpoint_upstream_finalized_slot",
        "Finalized slot last reported by the upstream.",
        |u| u.last_finalized_slot(),
    );
    per_upstream(
        out,
        app,
        "leanpoint_upstream_head_slot",
        "Head slot from the upstream's fork choice.",
        |u| u.head_slot,
    );
    per_upstream(
        out,
        app,
        "leanpoint_upstream_in_flight",
        "Whether a poll of the upstream is in progress.",
        |u| Some(u64::from(u.in_flight)),
    );
    let name = "leanpoint_upstream_errors_total";
    family(out, name, "Failed upstream requests by kind.", Counter);
    for u in &app.upstreams {
        for kind in UpstreamErrorKind::ALL {
            upstream_sample_start(out, name, &u.spec.name);
            out.extend_from_slice(b",kind=\"");
            out.extend_from_slice(kind.as_str().as_bytes());
            out.extend_from_slice(b"\"} ");
            write_u64(
                out,
                u.errors_by_kind.get(kind.index()).copied().unwrap_or(0),
            );
            out.push(b'\n');
        }
    }

    // File descriptors.
    single(
        out,
        "leanpoint_open_fds",
        "Open file descriptors of the process.",
        Gauge,
        open_fds as u64,
    );
    single(
        out,
        "leanpoint_fd_limit",
        "Soft RLIMIT_NOFILE in force.",
        Gauge,
        budget.limit as u64,
    );
    let name = "leanpoint_fd_budget";
    family(out, name, "File descriptors budgeted per pool.", Gauge);
    for (pool, n) in [
        ("reserved", budget.reserved),
        ("upstream", budget.upstream_pool),
        ("inbound", budget.inbound_pool),
    ] {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"{pool=\"");
        out.extend_from_slice(pool.as_bytes());
        out.extend_from_slice(b"\"} ");
        write_u64(out, n as u64);
        out.push(b'\n');
    }
    let pressure = u64::from(app.fd_pressure(open_fds, gauges.inbound_open));
    single(
        out,
        "leanpoint_fd_pressure",
        "Whether the fds outside the inbound pool exceed the pressure share of their budget.",
        Gauge,
        pressure,
    );

    // Sockets.
    single(
        out,
        "leanpoint_inbound_connections",
        "Open inbound connections.",
        Gauge,
        gauges.inbound_open as u64,
    );
    single(
        out,
        "leanpoint_inbound_accepted_total",
        "Inbound connections accepted.",
        Counter,
        c.inbound_accepted,
    );
    single(
        out,
        "leanpoint_inbound_shed_total",
        "Idle keep-alive connections closed to admit new ones.",
        Counter,
        c.inbound_shed,
    );
    single(
        out,
        "leanpoint_inbound_timed_out_total",
        "Inbound connections closed by a deadline.",
        Counter,
        c.inbound_timed_out,
    );
    single(
        out,
        "leanpoint_inbound_requests_total",
        "Inbound requests answered.",
        Counter,
        c.requests_served,
    );
    single(
        out,
        "leanpoint_accept_errors_total",
        "Accepts refused by EMFILE or ENFILE.",
        Counter,
        c.accept_errors,
    );
    single(
        out,
        "leanpoint_upstream_sockets_open",
        "Open upstream sockets.",
        Gauge,
        gauges.upstream_sockets_open as u64,
    );
    single(
        out,
        "leanpoint_upstream_requests_in_flight",
        "Upstream requests in flight.",
        Gauge,
        app.upstreams.iter().filter(|u| u.in_flight).count() as u64,
    );

    // Consensus and rounds.
    let last_agreed = agreed.filter(|_| app.round.has_consensus);
    let agreeing = last_agreed.map_or(0, |a| a.agreeing() as u64);
    let responding = app.round.responding_upstreams as u64;
    single(
        out,
        "leanpoint_upstreams",
        "Configured upstreams.",
        Gauge,
        app.upstreams.len() as u64,
    );
    single(
        out,
        "leanpoint_consensus_agreeing_upstreams",
        "Responders holding the winning checkpoint in the last round.",
        Gauge,
        agreeing,
    );
    single(
        out,
        "leanpoint_consensus_responding_upstreams",
        "Upstreams that responded in the last round.",
        Gauge,
        responding,
    );
    single(
        out,
        "leanpoint_consensus_identical_state_upstreams",
        "Kept for dashboards: equal to agreeing (members of one finalized root hold one state).",
        Gauge,
        agreeing,
    );
    single(
        out,
        "leanpoint_has_consensus",
        "Whether the last round reached consensus.",
        Gauge,
        u64::from(app.round.has_consensus),
    );
    single(
        out,
        "leanpoint_stale",
        "Whether the agreed data is stale.",
        Gauge,
        u64::from(app.is_stale(now_ms)),
    );
    single(
        out,
        "leanpoint_poll_round_duration_ms",
        "Duration of the last poll round in ms.",
        Gauge,
        round_ms,
    );
    single(
        out,
        "leanpoint_poll_rounds_total",
        "Poll rounds completed.",
        Counter,
        c.rounds,
    );
    render_bundle_metrics(app, out);
}

/// The verified bundle and what fetching upstreams costs.
fn render_bundle_metrics(app: &AppState, out: &mut Vec<u8>) {
    use Type::{Counter, Gauge};
    let c = &app.counters;
    let bundle = app.bundle.as_deref();
    single(
        out,
        "leanpoint_bundle_verified",
        "Whether the bundle served is the agreed finalized checkpoint's (verified by root).",
        Gauge,
        u64::from(app.bundle_is_current()),
    );
    single(
        out,
        "leanpoint_bundle_slot",
        "Slot of the verified bundle served (0 when none).",
        Gauge,
        bundle.map_or(0, |b| b.checkpoint.slot),
    );
    single(
        out,
        "leanpoint_bundle_state_bytes",
        "Size of the verified state served.",
        Gauge,
        bundle.map_or(0, |b| b.state.bytes.len() as u64),
    );
    single(
        out,
        "leanpoint_bundles_verified_total",
        "Bundles (block and state) verified against the agreed root and installed.",
        Counter,
        c.bundles_verified,
    );
    single(
        out,
        "leanpoint_bundle_verification_failures_total",
        "Bundles an upstream served that failed verification (checkpoint mismatch, unknown layout).",
        Counter,
        c.bundle_failures,
    );
    let name = "leanpoint_upstream_fetched_bytes_total";
    family(
        out,
        name,
        "Body bytes received from upstreams, by request.",
        Counter,
    );
    for (what, n) in [
        ("json", c.fetched.json),
        ("block", c.fetched.blocks),
        ("state", c.fetched.states),
        ("vote_state", c.fetched.vote_states),
    ] {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"{request=\"");
        out.extend_from_slice(what.as_bytes());
        out.extend_from_slice(b"\"} ");
        write_u64(out, n);
        out.push(b'\n');
    }
}

#[cfg(test)]
mod tests;
