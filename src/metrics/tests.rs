//! Metrics tests: exposition structure (HELP and TYPE before contiguous samples, valid
//! values, escaped labels, histograms), the families and their order, the expected
//! values, and `promtool` (required under CI).

use super::*;
use crate::app::http_stats::DURATION_LE;
use crate::lean::Checkpoint;
use crate::server::route_label::RouteLabel;
use crate::server::router::fixtures::{agreed_app, fresh_app, NOW};
use std::collections::{BTreeMap, BTreeSet};

fn render(app: &AppState, fds: usize) -> String {
    let mut out = Vec::new();
    let gauges = LoopGauges {
        open_fds: fds,
        inbound_open: 3,
        upstream_sockets_open: 2,
        inbound_at_fd_read: 3,
    };
    render_metrics(app, &gauges, NOW, &mut out);
    String::from_utf8(out).unwrap()
}

/// The family a sample belongs to: its name, less `_bucket`, `_sum` or `_count` in a
/// histogram.
fn sample_family(line: &str, histogram: bool) -> &str {
    let end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..end];
    if histogram {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(family) = name.strip_suffix(suffix) {
                return family;
            }
        }
    }
    name
}

/// Checks the structure and returns family → type.
fn check_structure(text: &str) -> BTreeMap<String, String> {
    assert!(text.ends_with('\n'));
    let mut types = BTreeMap::new();
    let mut helped = BTreeSet::new();
    let mut finished = BTreeSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("help text");
            assert!(!help.is_empty(), "{name}");
            assert!(helped.insert(name.to_string()), "HELP twice for {name}");
            if let Some(prev) = current.take() {
                finished.insert(prev);
            }
            assert!(!finished.contains(name), "{name} not contiguous");
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').expect("type");
            assert!(helped.contains(name), "TYPE before HELP for {name}");
            assert!(["gauge", "counter", "histogram"].contains(&ty), "{ty}");
            assert!(types.insert(name.to_string(), ty.to_string()).is_none());
            current = Some(name.to_string());
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let histogram = current.as_ref().is_some_and(|c| types[c] == "histogram");
            let name = sample_family(line, histogram);
            assert_eq!(
                current.as_deref(),
                Some(name),
                "sample outside its family: {line}"
            );
            let value = line.rsplit_once(' ').expect("value").1;
            assert!(value.parse::<f64>().is_ok(), "{line}");
            assert!(name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
        }
    }
    for (name, ty) in &types {
        assert_eq!(
            ty == "counter",
            name.ends_with("_total"),
            "{name} is a {ty}"
        );
    }
    types
}

fn value_of(text: &str, sample: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix(sample)?
            .strip_prefix(' ')
            .map(str::to_string)
    })
}

const REQUIRED: &[&str] = &[
    "leanpoint_justified_slot",
    "leanpoint_finalized_slot",
    "leanpoint_last_success_timestamp_ms",
    "leanpoint_last_updated_timestamp_ms",
    "leanpoint_last_latency_ms",
    "leanpoint_error_total",
    "leanpoint_upstream_up",
    "leanpoint_upstream_latency_ms",
    "leanpoint_upstream_justified_slot",
    "leanpoint_upstream_finalized_slot",
    "leanpoint_upstream_in_flight",
    "leanpoint_upstream_errors_total",
    "leanpoint_open_fds",
    "leanpoint_fd_limit",
    "leanpoint_fd_budget",
    "leanpoint_inbound_connections",
    "leanpoint_inbound_accepted_total",
    "leanpoint_inbound_shed_total",
    "leanpoint_inbound_timed_out_total",
    "leanpoint_accept_errors_total",
    "leanpoint_upstream_sockets_open",
    "leanpoint_upstream_requests_in_flight",
    "leanpoint_consensus_agreeing_upstreams",
    "leanpoint_consensus_responding_upstreams",
    "leanpoint_consensus_identical_state_upstreams",
    "leanpoint_has_consensus",
    "leanpoint_poll_round_duration_ms",
    "leanpoint_poll_rounds_total",
    "leanpoint_bundle_verified",
    "leanpoint_bundle_slot",
    "leanpoint_bundles_verified_total",
    "leanpoint_bundle_verification_failures_total",
    "leanpoint_upstream_fetched_bytes_total",
    "leanpoint_finality_lag_slots",
    "leanpoint_finalized_advance_age_seconds",
    "leanpoint_finalized_advanced_timestamp_seconds",
    "leanpoint_upstream_finality_lag_slots",
    "leanpoint_upstream_minority",
    "leanpoint_http_requests_total",
    "leanpoint_http_request_duration_seconds",
    "leanpoint_access_log_dropped_total",
];

#[test]
fn structure_and_names() {
    for app in [agreed_app(), fresh_app(&[]), fresh_app(&["a", "b"])] {
        let types = check_structure(&render(&app, 7));
        for name in REQUIRED {
            assert!(types.contains_key(*name), "{name} missing");
        }
        assert_eq!(types["leanpoint_error_total"], "counter");
        assert_eq!(types["leanpoint_justified_slot"], "gauge");
    }
}

#[test]
fn values_follow_the_state() {
    let app = agreed_app();
    let text = render(&app, 7);
    let v = |s: &str| value_of(&text, s).unwrap_or_else(|| panic!("{s} missing"));
    assert_eq!(v("leanpoint_justified_slot"), "101");
    assert_eq!(v("leanpoint_finalized_slot"), "100");
    assert_eq!(
        v("leanpoint_last_success_timestamp_ms"),
        (NOW - 1000).to_string()
    );
    assert_eq!(v("leanpoint_last_latency_ms"), "37");
    assert_eq!(v("leanpoint_error_total"), "4");
    assert_eq!(v("leanpoint_poll_rounds_total"), "9");
    assert_eq!(v("leanpoint_upstream_up{upstream=\"zeam_0\"}"), "1");
    assert_eq!(v("leanpoint_upstream_up{upstream=\"qlean_0\"}"), "0");
    assert_eq!(v("leanpoint_upstream_in_flight{upstream=\"qlean_0\"}"), "1");
    assert_eq!(
        v("leanpoint_upstream_justified_slot{upstream=\"ream_0\"}"),
        "101"
    );
    assert!(value_of(
        &text,
        "leanpoint_upstream_justified_slot{upstream=\"qlean_0\"}"
    )
    .is_none());
    let errors = "leanpoint_upstream_errors_total{upstream=\"qlean_0\",kind=";
    assert_eq!(v(&format!("{errors}\"connect_refused\"}}")), "2");
    assert_eq!(v(&format!("{errors}\"bad_status\"}}")), "1");
    assert_eq!(v(&format!("{errors}\"io\"}}")), "0");
    assert_eq!(v("leanpoint_open_fds"), "7");
    assert_eq!(v("leanpoint_fd_limit"), "1024");
    assert_eq!(v("leanpoint_fd_budget{pool=\"inbound\"}"), "1009");
    assert_eq!(v("leanpoint_consensus_agreeing_upstreams"), "2");
    assert_eq!(v("leanpoint_has_consensus"), "1");
    assert_eq!(v("leanpoint_stale"), "0");
    let fresh = render(&fresh_app(&["a"]), 7);
    assert_eq!(
        value_of(&fresh, "leanpoint_justified_slot").as_deref(),
        Some("0")
    );
    assert_eq!(value_of(&fresh, "leanpoint_stale").as_deref(), Some("1"));
}

#[test]
fn label_values_are_escaped() {
    let app = fresh_app(&["a\"b\\c\nd"]);
    let text = render(&app, 1);
    check_structure(&text);
    assert!(text.contains("leanpoint_upstream_up{upstream=\"a\\\"b\\\\c\\nd\"} 0\n"));
}

/// Whether the tests run under CI (`CI` set and not empty), where promtool must exist.
/// Whether this runs under CI: `CI` set to anything but empty, `0` or `false` (the rule
/// of `tests/common::in_ci` and of the Makefile's `alerts` target).
fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| {
        let v = v.trim();
        !(v.is_empty() || v == "0" || v.eq_ignore_ascii_case("false"))
    })
}

/// Runs `promtool check metrics` on `text`: exit code and report, or `None` (with a
/// note) when promtool is not installed; under CI a missing promtool fails the test.
fn promtool(text: &str) -> Option<(Option<i32>, String)> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) if under_ci() => panic!("promtool is required under CI (CI is set): {e}"),
        Err(e) => {
            eprintln!("note: promtool not available ({e}); skipping the promtool check");
            return None;
        }
    };
    child.stdin.take()?.write_all(text.as_bytes()).ok()?;
    let output = child.wait_with_output().ok()?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Some((output.status.code(), report))
}

/// Only the abbreviated-unit lint of the contract's `_ms` names is tolerated (exit 3 is
/// lint problems only; parse errors exit 1). Skipped when promtool is absent, except
/// under CI, where that fails.
#[test]
fn promtool_accepts_the_exposition() {
    let mut app = agreed_app();
    app.upstreams[1].spec.name = "we\"ird\\name\nx".to_string();
    app.http.record(RouteLabel::Other, 404, 120);
    for route in RouteLabel::ALL {
        app.http.record(route, 200, 3);
    }
    let Some((code, report)) = promtool(&render(&app, 7)) else {
        return;
    };
    assert!(matches!(code, Some(0 | 3)), "{report}");
    for line in report.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.ends_with("metric names should not contain abbreviated units")
                && line.contains("_ms "),
            "unexpected promtool report: {line}"
        );
    }
    // The check can fail: a broken exposition is refused.
    let (code, _) =
        promtool("# HELP x y\n# TYPE x gauge\nx{a=\"b} 1\n").unwrap_or((Some(1), String::new()));
    assert_eq!(code, Some(1));
}

/// The families and their order: the established ones exactly as before (dashboards and
/// the compatibility contract), then the monitoring ones.
const ORDER: &[&str] = &[
    "leanpoint_justified_slot",
    "leanpoint_finalized_slot",
    "leanpoint_last_success_timestamp_ms",
    "leanpoint_last_updated_timestamp_ms",
    "leanpoint_last_latency_ms",
    "leanpoint_error_total",
    "leanpoint_upstream_up",
    "leanpoint_upstream_latency_ms",
    "leanpoint_upstream_justified_slot",
    "leanpoint_upstream_finalized_slot",
    "leanpoint_upstream_head_slot",
    "leanpoint_upstream_in_flight",
    "leanpoint_upstream_errors_total",
    "leanpoint_open_fds",
    "leanpoint_fd_limit",
    "leanpoint_fd_budget",
    "leanpoint_fd_pressure",
    "leanpoint_inbound_connections",
    "leanpoint_inbound_accepted_total",
    "leanpoint_inbound_shed_total",
    "leanpoint_inbound_timed_out_total",
    "leanpoint_inbound_requests_total",
    "leanpoint_accept_errors_total",
    "leanpoint_upstream_sockets_open",
    "leanpoint_upstream_requests_in_flight",
    "leanpoint_upstreams",
    "leanpoint_consensus_agreeing_upstreams",
    "leanpoint_consensus_responding_upstreams",
    "leanpoint_consensus_identical_state_upstreams",
    "leanpoint_has_consensus",
    "leanpoint_stale",
    "leanpoint_poll_round_duration_ms",
    "leanpoint_poll_rounds_total",
    "leanpoint_bundle_verified",
    "leanpoint_bundle_slot",
    "leanpoint_bundle_state_bytes",
    "leanpoint_bundles_verified_total",
    "leanpoint_bundle_verification_failures_total",
    "leanpoint_upstream_fetched_bytes_total",
    "leanpoint_finality_lag_slots",
    "leanpoint_finalized_advance_age_seconds",
    "leanpoint_finalized_advanced_timestamp_seconds",
    "leanpoint_upstream_finality_lag_slots",
    "leanpoint_upstream_minority",
    "leanpoint_http_requests_total",
    "leanpoint_http_request_duration_seconds",
    "leanpoint_access_log_dropped_total",
];

#[test]
fn families_keep_their_order() {
    let table: Vec<&str> = families().map(|f| f.name).collect();
    assert_eq!(table, ORDER);
    let text = render(&agreed_app(), 7);
    let rendered: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split(' ').next())
        .collect();
    assert_eq!(rendered, ORDER);
}

/// The original's six, byte for byte as the original printed them for this state.
#[test]
fn the_original_six_are_unchanged() {
    let text = render(&agreed_app(), 7);
    let expected = format!(
        "# HELP leanpoint_justified_slot Agreed justified slot.\n\
         # TYPE leanpoint_justified_slot gauge\n\
         leanpoint_justified_slot 101\n\
         # HELP leanpoint_finalized_slot Agreed finalized slot.\n\
         # TYPE leanpoint_finalized_slot gauge\n\
         leanpoint_finalized_slot 100\n\
         # HELP leanpoint_last_success_timestamp_ms Wall time of the last round with consensus, ms since the epoch (0 before any).\n\
         # TYPE leanpoint_last_success_timestamp_ms gauge\n\
         leanpoint_last_success_timestamp_ms {t}\n\
         # HELP leanpoint_last_updated_timestamp_ms Wall time the last poll round completed, ms since the epoch (0 before any).\n\
         # TYPE leanpoint_last_updated_timestamp_ms gauge\n\
         leanpoint_last_updated_timestamp_ms {t}\n\
         # HELP leanpoint_last_latency_ms Duration of the last poll round in ms.\n\
         # TYPE leanpoint_last_latency_ms gauge\n\
         leanpoint_last_latency_ms 37\n\
         # HELP leanpoint_error_total Poll rounds that ended without consensus.\n\
         # TYPE leanpoint_error_total counter\n\
         leanpoint_error_total 4\n",
        t = NOW - 1000
    );
    assert!(text.starts_with(&expected), "{text}");
}

#[test]
fn the_loop_gauges_are_rendered_and_in_flight_is_counted_from_the_records() {
    let mut app = agreed_app();
    // In flight: counted from the upstream records (one of the fixture's is).
    assert_eq!(app.upstreams.iter().filter(|u| u.in_flight).count(), 1);
    let gauges = LoopGauges {
        open_fds: 1000,
        inbound_open: 5,
        upstream_sockets_open: 2,
        inbound_at_fd_read: 5,
    };
    app.upstreams[0].in_flight = true;
    let mut out = Vec::new();
    render_metrics(&app, &gauges, NOW, &mut out);
    let text = String::from_utf8(out).unwrap();
    let v = |s: &str| value_of(&text, s).unwrap_or_else(|| panic!("{s} missing"));
    assert_eq!(v("leanpoint_open_fds"), "1000");
    assert_eq!(v("leanpoint_inbound_connections"), "5");
    assert_eq!(v("leanpoint_upstream_sockets_open"), "2");
    assert_eq!(v("leanpoint_upstream_requests_in_flight"), "2");
    // 1000 open, 5 of them inbound: 995 outside the pool's 1009 of 1024 is pressure.
    assert_eq!(v("leanpoint_fd_pressure"), "1");
    // The same 1000 read while 990 clients were connected, most gone since: 10 outside
    // the pool is no pressure (counting them against the 5 open now said 995).
    let churned = LoopGauges {
        inbound_at_fd_read: 990,
        ..gauges
    };
    assert!(!churned.fd_pressure(&app));
    let mut out = Vec::new();
    render_metrics(&app, &churned, NOW, &mut out);
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        value_of(&text, "leanpoint_fd_pressure").as_deref(),
        Some("0")
    );
    assert_eq!(
        value_of(&text, "leanpoint_inbound_connections").as_deref(),
        Some("5")
    );
}

#[test]
fn finality_lag_and_advance_age() {
    let app = agreed_app();
    let text = render(&app, 7);
    let v = |s: &str| value_of(&text, s).unwrap_or_else(|| panic!("{s} missing"));
    // Heads at 103 (the two voters), agreed finalized 100, agreed at NOW - 5000.
    assert_eq!(v("leanpoint_finality_lag_slots"), "3");
    assert_eq!(v("leanpoint_finalized_advance_age_seconds"), "5.000");
    assert_eq!(
        v("leanpoint_finalized_advanced_timestamp_seconds"),
        "1699999995.000"
    );
    // A head of an upstream that did not vote does not count.
    let mut app = agreed_app();
    app.upstreams[2].head_slot = Some(500);
    assert_eq!(
        value_of(&render(&app, 7), "leanpoint_finality_lag_slots").as_deref(),
        Some("3")
    );
    app.upstreams[2].healthy = true;
    assert_eq!(
        value_of(&render(&app, 7), "leanpoint_finality_lag_slots").as_deref(),
        Some("400")
    );
    // Before any agreement: lag 0, no age sample (the family is still declared).
    let fresh = render(&fresh_app(&["a"]), 7);
    check_structure(&fresh);
    assert_eq!(
        value_of(&fresh, "leanpoint_finality_lag_slots").as_deref(),
        Some("0")
    );
    assert!(value_of(&fresh, "leanpoint_finalized_advance_age_seconds").is_none());
    assert!(fresh.contains("# TYPE leanpoint_finalized_advance_age_seconds gauge\n"));
}

#[test]
fn per_upstream_standing() {
    let mut app = agreed_app();
    app.upstreams[1].finalized = Some(Checkpoint {
        slot: 96,
        root: [0x33; 32],
    });
    app.upstreams[2].finalized = Some(Checkpoint {
        slot: 100,
        root: [0xcc; 32],
    });
    app.upstreams[2].healthy = true;
    let text = render(&app, 7);
    let v = |s: &str| value_of(&text, s);
    let lag = "leanpoint_upstream_finality_lag_slots";
    let minority = "leanpoint_upstream_minority";
    let expected = [
        (lag, "zeam_0", "0"),
        (lag, "ream_0", "4"),
        (lag, "qlean_0", "0"),
        (minority, "zeam_0", "0"),
        (minority, "ream_0", "0"),
        (minority, "qlean_0", "1"),
    ];
    for (family, upstream, want) in expected {
        let series = format!("{family}{{upstream=\"{upstream}\"}}");
        assert_eq!(v(&series).as_deref(), Some(want), "{series}");
    }
    // Once down, its last claim is not where it stands: no lag, no minority.
    app.upstreams[2].healthy = false;
    let down = render(&app, 7);
    assert!(value_of(&down, &format!("{lag}{{upstream=\"qlean_0\"}}")).is_none());
    assert_eq!(
        value_of(&down, &format!("{minority}{{upstream=\"qlean_0\"}}")).as_deref(),
        Some("0")
    );
    // An upstream that has claimed nothing has no lag sample, and is no minority.
    let fresh = render(&fresh_app(&["a"]), 7);
    assert!(value_of(&fresh, &format!("{lag}{{upstream=\"a\"}}")).is_none());
    assert_eq!(
        value_of(&fresh, &format!("{minority}{{upstream=\"a\"}}")).as_deref(),
        Some("0")
    );
}

#[test]
fn http_requests_by_route_and_code() {
    let app = agreed_app();
    app.http.record(RouteLabel::Other, 404, 40);
    app.http.record(RouteLabel::Other, 404, 700);
    app.http.record(RouteLabel::Healthz, 200, 2_000_000);
    app.http.record(RouteLabel::Healthz, 299, 1);
    app.http.access_log_dropped(3);
    let text = render(&app, 7);
    check_structure(&text);
    let v = |s: &str| value_of(&text, s).unwrap_or_else(|| panic!("{s} missing in {text}"));
    let req = "leanpoint_http_requests_total";
    assert_eq!(v(&format!("{req}{{route=\"other\",code=\"404\"}}")), "2");
    assert_eq!(v(&format!("{req}{{route=\"/healthz\",code=\"200\"}}")), "1");
    assert_eq!(v(&format!("{req}{{route=\"/healthz\",code=\"2xx\"}}")), "1");
    assert!(
        value_of(&text, &format!("{req}{{route=\"/status\",code=\"200\"}}")).is_none(),
        "series appear with their first request"
    );
    let d = "leanpoint_http_request_duration_seconds";
    let bucket = |route: &str, le: &str| v(&format!("{d}_bucket{{route=\"{route}\",le=\"{le}\"}}"));
    assert_eq!(bucket("other", "0.0001"), "1");
    assert_eq!(bucket("other", "0.0005"), "1");
    assert_eq!(bucket("other", "0.001"), "2");
    assert_eq!(bucket("other", "+Inf"), "2");
    assert_eq!(bucket("/healthz", "0.0001"), "1");
    assert_eq!(bucket("/healthz", "0.1"), "1");
    assert_eq!(bucket("/healthz", "+Inf"), "2");
    assert_eq!(v(&format!("{d}_sum{{route=\"other\"}}")), "0.000740");
    assert_eq!(v(&format!("{d}_count{{route=\"/healthz\"}}")), "2");
    assert_eq!(
        text.matches(&format!("{d}_bucket{{route=\"other\""))
            .count(),
        DURATION_LE.len()
    );
    assert_eq!(v("leanpoint_access_log_dropped_total"), "3");
}
