//! Families for watching finality and the inbound side: how far heads run ahead of the
//! agreed finalized slot, how long since it last advanced, where each upstream stands
//! against it (`app::Standing`), and the requests answered by route and status.

use super::{Family, MetricsInput, Samples, Sink, Type, Value};
use crate::app::http_stats::{CODE_LABELS, DURATION_LE};
use crate::app::Standing;
use crate::server::route_label::RouteLabel;

use Samples::{Labelled, Maybe, One, PerUpstream};
use Type::{Counter, Gauge, Histogram};

const fn family(name: &'static str, help: &'static str, ty: Type, samples: Samples) -> Family {
    Family {
        name,
        help,
        ty,
        samples,
    }
}

/// The monitoring families, after the established ones.
#[rustfmt::skip]
pub(super) const MONITOR: &[Family] = &[
    family("leanpoint_finality_lag_slots",
        "Highest head slot among the upstreams that voted last round minus the agreed finalized slot (0 without either).",
        Gauge, One(|m| Value::U64(finality_lag(m)))),
    family("leanpoint_finalized_advance_age_seconds",
        "Seconds since the agreed finalized checkpoint last advanced (absent before any agreement).",
        Gauge, Maybe(advance_age)),
    family("leanpoint_finalized_advanced_timestamp_seconds",
        "Wall time the agreed finalized checkpoint was first agreed, seconds since the epoch (absent before any agreement).",
        Gauge, Maybe(advanced_at)),
    family("leanpoint_upstream_finality_lag_slots",
        "Slots the upstream's finalized checkpoint is behind the agreed one (0 when agreeing, ahead or on a minority root; absent when unknown or its last poll failed).",
        Gauge, PerUpstream(upstream_lag)),
    family("leanpoint_upstream_minority",
        "Whether the upstream holds another root at the agreed finalized slot (a minority checkpoint).",
        Gauge, PerUpstream(|m, u| {
            Some(u64::from(Standing::of_record(u, m.app.agreed.as_ref()) == Standing::Minority))
        })),
    family("leanpoint_http_requests_total",
        "Inbound requests answered, by route and status code.", Counter,
        Labelled(http_requests)),
    family("leanpoint_http_request_duration_seconds",
        "Time from a request head parsed to its reply queued, by route.", Histogram,
        Labelled(http_durations)),
    family("leanpoint_access_log_dropped_total",
        "Access-log lines dropped because the log buffer was full or a write failed.", Counter,
        One(|m| Value::U64(m.app.http.access_log_dropped_total()))),
];

/// Highest head slot among the upstreams that voted last round, minus the agreed
/// finalized slot; 0 without agreement or without heads.
pub(super) fn finality_lag(m: &MetricsInput<'_>) -> u64 {
    let Some(agreed) = &m.app.agreed else {
        return 0;
    };
    m.app
        .upstreams
        .iter()
        .filter(|u| u.healthy)
        .filter_map(|u| u.head_slot)
        .max()
        .map_or(0, |head| head.saturating_sub(agreed.finalized.slot))
}

/// Ms since the agreed checkpoint was first agreed (never negative), before any: none.
fn advance_age(m: &MetricsInput<'_>) -> Option<Value> {
    let agreed = m.app.agreed.as_ref()?;
    let age = m.now_ms.saturating_sub(agreed.first_agreed_ms).max(0);
    Some(Value::MillisAsSeconds(u64::try_from(age).unwrap_or(0)))
}

fn advanced_at(m: &MetricsInput<'_>) -> Option<Value> {
    let at = m.app.agreed.as_ref()?.first_agreed_ms.max(0);
    Some(Value::MillisAsSeconds(u64::try_from(at).unwrap_or(0)))
}

fn upstream_lag(m: &MetricsInput<'_>, u: &crate::app::UpstreamRecord) -> Option<u64> {
    match Standing::of_record(u, m.app.agreed.as_ref()) {
        Standing::Unknown => None,
        standing => Some(standing.lag_slots()),
    }
}

/// One sample per (route, code) seen at least once: the label set is bounded by the
/// table, and series appear with their first request.
fn http_requests(m: &MetricsInput<'_>, sink: &mut Sink<'_>) {
    let stats = &m.app.http;
    for route in RouteLabel::ALL {
        for (code, label) in CODE_LABELS.iter().enumerate() {
            let n = stats.count(route, code);
            if n > 0 {
                sink.sample(&[("route", route.as_str()), ("code", label)], Value::U64(n));
            }
        }
    }
}

/// Buckets, sum and count per route that has answered at least once.
fn http_durations(m: &MetricsInput<'_>, sink: &mut Sink<'_>) {
    let stats = &m.app.http;
    for route in RouteLabel::ALL {
        let Some(d) = stats.durations(route) else {
            continue;
        };
        let cumulative = d.cumulative();
        let total = cumulative.last().copied().unwrap_or(0);
        if total == 0 {
            continue;
        }
        let r = route.as_str();
        for (le, n) in DURATION_LE.iter().zip(cumulative) {
            sink.sample_suffixed("_bucket", &[("route", r), ("le", le)], Value::U64(n));
        }
        sink.sample_suffixed("_sum", &[("route", r)], Value::MicrosAsSeconds(d.sum_us()));
        sink.sample_suffixed("_count", &[("route", r)], Value::U64(total));
    }
}
