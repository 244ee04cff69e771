//! Metrics tests: exposition structure (HELP and TYPE before contiguous samples, valid
//! values, escaped labels), the expected names and values, and `promtool` when present.

use super::*;
use crate::server::router::fixtures::{agreed_app, fresh_app, NOW};
use std::collections::{BTreeMap, BTreeSet};

fn render(app: &AppState, fds: usize) -> String {
    let mut out = Vec::new();
    let gauges = LoopGauges {
        open_fds: fds,
        inbound_open: 3,
        upstream_sockets_open: 2,
    };
    render_metrics(app, &gauges, NOW, &mut out);
    String::from_utf8(out).unwrap()
}

/// The family a sample name belongs to (exact name; no histograms here).
fn sample_name(line: &str) -> &str {
    let end = line.find(['{', ' ']).unwrap_or(line.len());
    &line[..end]
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
            assert!(["gauge", "counter"].contains(&ty), "{ty}");
            assert!(types.insert(name.to_string(), ty.to_string()).is_none());
            current = Some(name.to_string());
        } else {
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line {line:?}"
            );
            let name = sample_name(line);
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
    // The loop's gauges come from their owners: the slab's counts, the upstream records.
    assert_eq!(v("leanpoint_inbound_connections"), "3");
    assert_eq!(v("leanpoint_upstream_sockets_open"), "2");
    assert_eq!(v("leanpoint_upstream_requests_in_flight"), "1");
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

/// Runs `promtool check metrics` on `text`: exit code and report, or `None` (with a
/// note) when promtool is not installed.
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
/// lint problems only; parse errors exit 1). Skipped when promtool is absent.
#[test]
fn promtool_accepts_the_exposition() {
    let mut app = agreed_app();
    app.upstreams[1].spec.name = "we\"ird\\name\nx".to_string();
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
