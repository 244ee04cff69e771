//! The established families, in their historical order: the original's six, per
//! upstream, file descriptors, sockets, consensus and rounds, the verified bundle.
//! Their names, help texts and samples are a compatibility contract: append, never edit.

use super::{Family, MetricsInput, Samples, Sink, Type, Value};
use crate::app::UpstreamErrorKind;

use Samples::{Labelled, One, PerUpstream};
use Type::{Counter, Gauge};

const fn family(name: &'static str, help: &'static str, ty: Type, samples: Samples) -> Family {
    Family {
        name,
        help,
        ty,
        samples,
    }
}

/// The established families.
#[rustfmt::skip]
pub(super) const ESTABLISHED: &[Family] = &[
    // The original's six.
    family("leanpoint_justified_slot", "Agreed justified slot.", Gauge,
        One(|m| Value::U64(m.app.agreed.as_ref().map_or(0, |a| a.justified.slot)))),
    family("leanpoint_finalized_slot", "Agreed finalized slot.", Gauge,
        One(|m| Value::U64(m.app.agreed.as_ref().map_or(0, |a| a.finalized.slot)))),
    family("leanpoint_last_success_timestamp_ms",
        "Wall time of the last round with consensus, ms since the epoch (0 before any).", Gauge,
        One(|m| Value::I64(m.app.last_success_ms))),
    family("leanpoint_last_updated_timestamp_ms",
        "Wall time the last poll round completed, ms since the epoch (0 before any).", Gauge,
        One(|m| Value::I64(m.app.last_updated_ms))),
    family("leanpoint_last_latency_ms", "Duration of the last poll round in ms.", Gauge,
        One(|m| Value::U64(m.app.counters.last_round_ms))),
    family("leanpoint_error_total", "Poll rounds that ended without consensus.", Counter,
        One(|m| Value::U64(m.app.error_count))),
    // Per upstream.
    family("leanpoint_upstream_up",
        "Whether the upstream's last poll gave a vote (its finalized checkpoint).", Gauge,
        PerUpstream(|_, u| Some(u64::from(u.healthy)))),
    family("leanpoint_upstream_latency_ms",
        "Latency of the upstream's last complete poll in ms.", Gauge,
        PerUpstream(|_, u| u.last_latency_ms)),
    family("leanpoint_upstream_justified_slot",
        "Justified slot last reported by the upstream.", Gauge,
        PerUpstream(|_, u| u.last_justified.map(|j| j.slot))),
    family("leanpoint_upstream_finalized_slot",
        "Finalized slot last reported by the upstream.", Gauge,
        PerUpstream(|_, u| u.last_finalized_slot())),
    family("leanpoint_upstream_head_slot", "Head slot from the upstream's fork choice.", Gauge,
        PerUpstream(|_, u| u.head_slot)),
    family("leanpoint_upstream_in_flight", "Whether a poll of the upstream is in progress.",
        Gauge, PerUpstream(|_, u| Some(u64::from(u.in_flight)))),
    family("leanpoint_upstream_errors_total", "Failed upstream requests by kind.", Counter,
        Labelled(upstream_errors)),
    // File descriptors.
    family("leanpoint_open_fds", "Open file descriptors of the process.", Gauge,
        One(|m| Value::count(m.gauges.open_fds))),
    family("leanpoint_fd_limit", "Soft RLIMIT_NOFILE in force.", Gauge,
        One(|m| Value::count(m.app.fd_budget.limit))),
    family("leanpoint_fd_budget", "File descriptors budgeted per pool.", Gauge,
        Labelled(fd_budget)),
    family("leanpoint_fd_pressure",
        "Whether the fds outside the inbound pool exceed the pressure share of their budget.",
        Gauge, One(|m| Value::flag(fd_pressure(m)))),
    // Sockets.
    family("leanpoint_inbound_connections", "Open inbound connections.", Gauge,
        One(|m| Value::count(m.gauges.inbound_open))),
    family("leanpoint_inbound_accepted_total", "Inbound connections accepted.", Counter,
        One(|m| Value::U64(m.app.counters.inbound_accepted))),
    family("leanpoint_inbound_shed_total",
        "Idle keep-alive connections closed to admit new ones.", Counter,
        One(|m| Value::U64(m.app.counters.inbound_shed))),
    family("leanpoint_inbound_timed_out_total", "Inbound connections closed by a deadline.",
        Counter, One(|m| Value::U64(m.app.counters.inbound_timed_out))),
    family("leanpoint_inbound_requests_total", "Inbound requests answered.", Counter,
        One(|m| Value::U64(m.app.counters.requests_served))),
    family("leanpoint_accept_errors_total", "Accepts refused by EMFILE or ENFILE.", Counter,
        One(|m| Value::U64(m.app.counters.accept_errors))),
    family("leanpoint_upstream_sockets_open", "Open upstream sockets.", Gauge,
        One(|m| Value::count(m.gauges.upstream_sockets_open))),
    family("leanpoint_upstream_requests_in_flight", "Upstream requests in flight.", Gauge,
        One(|m| {
            // Counted from the owner, the upstream records, at scrape time.
            Value::count(m.app.upstreams.iter().filter(|u| u.in_flight).count())
        })),
    // Consensus and rounds.
    family("leanpoint_upstreams", "Configured upstreams.", Gauge,
        One(|m| Value::count(m.app.upstreams.len()))),
    family("leanpoint_consensus_agreeing_upstreams",
        "Responders holding the winning checkpoint in the last round.", Gauge,
        One(|m| Value::U64(agreeing(m)))),
    family("leanpoint_consensus_responding_upstreams",
        "Upstreams that responded in the last round.", Gauge,
        One(|m| Value::count(m.app.round.responding_upstreams))),
    family("leanpoint_consensus_identical_state_upstreams",
        "Kept for dashboards: equal to agreeing (members of one finalized root hold one state).",
        Gauge, One(|m| Value::U64(agreeing(m)))),
    family("leanpoint_has_consensus", "Whether the last round reached consensus.", Gauge,
        One(|m| Value::flag(m.app.round.has_consensus))),
    family("leanpoint_stale", "Whether the agreed data is stale.", Gauge,
        One(|m| Value::flag(m.app.is_stale(m.now_ms)))),
    family("leanpoint_poll_round_duration_ms", "Duration of the last poll round in ms.", Gauge,
        One(|m| Value::U64(m.app.counters.last_round_ms))),
    family("leanpoint_poll_rounds_total", "Poll rounds completed.", Counter,
        One(|m| Value::U64(m.app.counters.rounds))),
    // The verified bundle and what fetching upstreams costs.
    family("leanpoint_bundle_verified",
        "Whether the bundle served is the agreed finalized checkpoint's (verified by root).",
        Gauge, One(|m| Value::flag(m.app.bundle_is_current()))),
    family("leanpoint_bundle_slot", "Slot of the verified bundle served (0 when none).", Gauge,
        One(|m| Value::U64(m.app.bundle.as_ref().map_or(0, |b| b.checkpoint.slot)))),
    family("leanpoint_bundle_state_bytes", "Size of the verified state served.", Gauge,
        One(|m| Value::count(m.app.bundle.as_ref().map_or(0, |b| b.state.bytes.len())))),
    family("leanpoint_bundles_verified_total",
        "Bundles (block and state) verified against the agreed root and installed.", Counter,
        One(|m| Value::U64(m.app.counters.bundles_verified))),
    family("leanpoint_bundle_verification_failures_total",
        "Bundles an upstream served that failed verification (checkpoint mismatch, unknown layout).",
        Counter, One(|m| Value::U64(m.app.counters.bundle_failures))),
    family("leanpoint_upstream_fetched_bytes_total",
        "Body bytes received from upstreams, by request.", Counter, Labelled(fetched_bytes)),
];

/// Responders holding the winning checkpoint, when the last round had consensus.
fn agreeing(m: &MetricsInput<'_>) -> u64 {
    let app = m.app;
    app.agreed
        .as_ref()
        .filter(|_| app.round.has_consensus)
        .map_or(0, |a| a.agreeing() as u64)
}

/// `/healthz`'s fd-pressure verdict, from the loop's gauges.
pub(super) fn fd_pressure(m: &MetricsInput<'_>) -> bool {
    m.gauges.fd_pressure(m.app)
}

/// Every upstream × every error kind, zeros included.
fn upstream_errors(m: &MetricsInput<'_>, sink: &mut Sink<'_>) {
    for u in &m.app.upstreams {
        for kind in UpstreamErrorKind::ALL {
            let n = u.errors_by_kind.get(kind.index()).copied().unwrap_or(0);
            sink.sample(
                &[("upstream", &u.spec.name), ("kind", kind.as_str())],
                Value::U64(n),
            );
        }
    }
}

fn fd_budget(m: &MetricsInput<'_>, sink: &mut Sink<'_>) {
    let budget = &m.app.fd_budget;
    for (pool, n) in [
        ("reserved", budget.reserved),
        ("upstream", budget.upstream_pool),
        ("inbound", budget.inbound_pool),
    ] {
        sink.sample(&[("pool", pool)], Value::count(n));
    }
}

fn fetched_bytes(m: &MetricsInput<'_>, sink: &mut Sink<'_>) {
    let f = &m.app.counters.fetched;
    for (what, n) in [
        ("json", f.json),
        ("block", f.blocks),
        ("state", f.states),
        ("vote_state", f.vote_states),
    ] {
        sink.sample(&[("request", what)], Value::U64(n));
    }
}
