//! SIGHUP reload on a real process: added upstreams are polled, removed ones' sockets are
//! closed, kept ones keep their history; a bad file keeps the old set and the process up.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::prom::scrape;
use common::{upstreams_file, Leanpoint};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn names(lp: &Leanpoint) -> Vec<String> {
    lp.get("/api/upstreams").json()["upstreams"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|u| u["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn hup(lp: &Leanpoint) {
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(lp.pid() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
}

fn wait_log(lp: &Leanpoint, needle: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(line) = lp.log.recv_timeout(Duration::from_millis(100)) {
            if line.contains(needle) {
                return true;
            }
        }
    }
    false
}

fn upstream(lp: &Leanpoint, name: &str) -> serde_json::Value {
    lp.get("/api/upstreams").json()["upstreams"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == name).cloned())
        .unwrap_or(serde_json::Value::Null)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Polls of `b` that fail before the reload.
const FAILS: u64 = 5;

#[test]
fn sighup_adds_removes_and_keeps_upstreams() {
    let a = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    // b first answers a fork choice that is not JSON (each poll of it fails), then heals:
    // its failures are history a fresh record could not have.
    let mut broken = NodeData::fixture();
    broken.fork_choice = b"this is not json".to_vec();
    let b_data = Arc::new(Mutex::new(broken));
    let b = MockNode::start(Behavior::Live(b_data.clone()));
    let c = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let file = upstreams_file(&[("a".into(), a.url()), ("b".into(), b.url())]);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "200",
    ]);
    lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"] == 18 && r.json()["bundle_verified"] == true
    });
    let failing = lp.wait_for("/api/upstreams", Duration::from_secs(10), |_| {
        upstream(&lp, "b")["errors_by_kind"]["invalid_json"].as_u64() >= Some(FAILS)
    });
    assert!(
        upstream(&lp, "b")["errors_by_kind"]["invalid_json"].as_u64() >= Some(FAILS),
        "b did not fail {FAILS} times: {}",
        failing.text()
    );
    *b_data.lock().unwrap() = NodeData::fixture();
    lp.wait_for("/api/upstreams", Duration::from_secs(5), |_| {
        upstream(&lp, "b")["healthy"] == true
    });
    // b healthy again: from here on nothing adds to its errors.
    let b_before = upstream(&lp, "b");
    assert_eq!(b_before["healthy"], true, "{b_before}");
    let errors = b_before["error_count"].as_u64().unwrap();
    assert!(errors >= FAILS, "{b_before}");
    assert_eq!(
        b_before["errors_by_kind"]["invalid_json"], errors,
        "{b_before}"
    );
    assert_eq!(b_before["last_error_kind"], "invalid_json");
    assert!(b_before["last_error_ms"].is_i64());
    assert!(b_before["last_success_ms"].is_i64());
    let b_errors_metric = || {
        scrape(&lp).value(
            "leanpoint_upstream_errors_total",
            &[("upstream", "b"), ("kind", "invalid_json")],
        )
    };
    assert_eq!(b_errors_metric(), errors as f64);
    let history_before = lp.get("/api/history").json()["history"].clone();
    assert_eq!(
        history_before.as_array().map(Vec::len),
        Some(1),
        "{history_before}"
    );
    let first = history_before[0].clone();
    assert_eq!(first["finalized_slot"], 18);
    assert!(first["first_agreed_ms"].is_i64(), "{first}");
    let b_accepted = b.accepted.load(Ordering::Relaxed);

    let reloaded_at = now_ms();
    let body = serde_json::json!({"upstreams": [{"name": "b", "url": b.url()}, {"name": "c", "url": c.url()}]});
    std::fs::write(&file, body.to_string()).unwrap();
    hup(&lp);
    let reply = lp.wait_for("/api/upstreams", Duration::from_secs(5), |r| {
        let j = r.json();
        j["upstreams"].as_array().map(|a| a.len()) == Some(2) && j["upstreams"][0]["name"] == "b"
    });
    assert_eq!(names(&lp), vec!["b", "c"], "{}", reply.text());
    // c gets polled (so a round has ended since the reload); a no longer is.
    lp.wait_for("/api/upstreams", Duration::from_secs(5), |_| {
        upstream(&lp, "c")["healthy"] == true
    });
    assert_eq!(upstream(&lp, "c")["healthy"], true);

    // b kept its record: a fresh one would count 0 errors, no kind and no error time.
    let b_after = upstream(&lp, "b");
    assert_eq!(b_after["error_count"], errors, "{b_after}");
    assert_eq!(b_after["errors_by_kind"], b_before["errors_by_kind"]);
    assert_eq!(b_after["last_error_kind"], "invalid_json");
    assert_eq!(b_after["last_error"], b_before["last_error"]);
    assert_eq!(b_after["last_error_ms"], b_before["last_error_ms"]);
    assert!(b_after["last_error_ms"].as_i64() < Some(reloaded_at));
    assert!(b_after["last_success_ms"].as_i64() >= b_before["last_success_ms"].as_i64());
    assert_eq!(b_errors_metric(), errors as f64);
    assert_eq!(
        b.accepted.load(Ordering::Relaxed),
        b_accepted,
        "b's keep-alive socket was kept"
    );
    // The history kept the checkpoint first agreed before the reload, with its time: a
    // fresh history would hold it again, stamped after the reload.
    let history_after = lp.get("/api/history").json()["history"].clone();
    assert_eq!(
        history_after.as_array().map(Vec::len),
        Some(1),
        "{history_after}"
    );
    for key in ["finalized_slot", "finalized_root", "first_agreed_ms"] {
        assert_eq!(history_after[0][key], first[key], "{key}: {history_after}");
    }
    assert!(history_after[0]["first_agreed_ms"].as_i64() < Some(reloaded_at));

    let a_requests = a.requests.load(Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(
        a.requests.load(Ordering::Relaxed),
        a_requests,
        "removed upstream still polled"
    );
    assert!(c.requests.load(Ordering::Relaxed) >= 3);
}

#[test]
fn sighup_with_a_bad_file_keeps_the_old_set() {
    let a = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let file = upstreams_file(&[("a".into(), a.url())]);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "200",
    ]);
    lp.wait_for("/status", Duration::from_secs(5), |r| {
        r.json()["finalized_slot"] == 18 && r.json()["bundle_verified"] == true
    });
    std::fs::write(&file, "{ this is not json").unwrap();
    hup(&lp);
    assert!(
        wait_log(&lp, "reload failed"),
        "no log line saying why the reload failed"
    );
    assert_eq!(names(&lp), vec!["a"]);
    assert_eq!(lp.get("/healthz").status, 200);
}
