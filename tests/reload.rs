//! SIGHUP reload on a real process: added upstreams are polled, removed ones' sockets are
//! closed, kept ones keep their history; a bad file keeps the old set and the process up.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::{upstreams_file, Leanpoint};
use std::sync::atomic::Ordering;
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

#[test]
fn sighup_adds_removes_and_keeps_upstreams() {
    let a = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let b = MockNode::start(Behavior::Healthy(NodeData::fixture()));
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
    let b_before = lp.get("/api/upstreams").json()["upstreams"][1].clone();
    assert_eq!(b_before["name"], "b");
    assert!(b_before["last_success_ms"].is_i64());

    let body = serde_json::json!({"upstreams": [{"name": "b", "url": b.url()}, {"name": "c", "url": c.url()}]});
    std::fs::write(&file, body.to_string()).unwrap();
    hup(&lp);
    let reply = lp.wait_for("/api/upstreams", Duration::from_secs(5), |r| {
        let j = r.json();
        j["upstreams"].as_array().map(|a| a.len()) == Some(2) && j["upstreams"][0]["name"] == "b"
    });
    assert_eq!(names(&lp), vec!["b", "c"], "{}", reply.text());
    // b kept its history: its error count and first success survive the reload.
    let b_after = lp.get("/api/upstreams").json()["upstreams"][0].clone();
    assert!(b_after["last_success_ms"].as_i64() >= b_before["last_success_ms"].as_i64());
    assert_eq!(
        b.accepted.load(Ordering::Relaxed),
        1,
        "b's keep-alive socket was kept"
    );
    // c gets polled; a no longer is.
    lp.wait_for("/api/upstreams", Duration::from_secs(5), |r| {
        r.json()["upstreams"][1]["healthy"] == true
    });
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
