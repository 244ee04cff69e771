//! The built-in dashboard in a real browser: mock lean nodes (three healthy, one
//! answering 503) and a leanpoint child, then headless Chromium renders `/` and the
//! DOM it builds from the live JSON is checked (agreed slots, every upstream's row, the
//! faulty one marked down with its error kind, the fork-choice tree); a second run saves
//! a screenshot to `target/dashboard.png`. The finality chart is checked against the
//! simulator in `browser/timeline.rs`.
//!
//! Without Chromium (`chromium` or `chromium-browser` in PATH) the tests are skipped with
//! a note, except in CI (`CI` set, see `common::in_ci`) where they fail.

#[path = "browser/chrome.rs"]
mod chrome;
mod common;
#[path = "browser/dom.rs"]
mod dom;
#[path = "devnet/harness.rs"]
mod harness;
#[path = "browser/timeline.rs"]
mod timeline;

use chrome::{chromium_or_skip, run_chromium, screenshot, target_dir};
use common::mock::{Behavior, MockNode, NodeData};
use common::{upstreams_file, Leanpoint};
use dom::{text_of_id, upstream_row};
use std::time::Duration;

/// With the liar and the faulty node, four polled: a majority needs three answers, so
/// the liar (first in the file) is a member of every early majority and asked first.
const HEALTHY: [&str; 2] = ["zeam_0", "ream_0"];
const FAULTY: &str = "lantern_0";
const LIAR: &str = "liar_0";

#[test]
fn dashboard_renders_live_state_in_headless_chromium() {
    let Some(browser) = chromium_or_skip("dashboard") else {
        return;
    };

    let mut nodes: Vec<(String, MockNode)> = HEALTHY
        .iter()
        .map(|n| {
            let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
            (n.to_string(), node)
        })
        .collect();
    nodes.push((FAULTY.to_string(), MockNode::start(Behavior::Status(503))));
    // A liar, first in the file so that the first bundle fetch asks it first.
    let liar = NodeData::fixture().tampered();
    nodes.insert(
        0,
        (LIAR.to_string(), MockNode::start(Behavior::Healthy(liar))),
    );
    let entries: Vec<(String, String)> = nodes.iter().map(|(n, m)| (n.clone(), m.url())).collect();
    let file = upstreams_file(&entries);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().expect("utf-8 path"),
        "--poll-ms",
        "200",
    ]);

    let status = lp.wait_for("/status", Duration::from_secs(15), |r| {
        r.status == 200
            && r.json()["finalized_slot"].as_u64() == Some(18)
            && r.json()["bundle_verified"] == true
    });
    assert_eq!(status.json()["finalized_slot"], 18, "{}", status.text());
    assert_eq!(status.json()["justified_slot"], 19, "{}", status.text());
    // The faulty upstream has failed at least once, and a fork choice is cached.
    let ups = lp.wait_for("/api/upstreams", Duration::from_secs(10), |r| {
        r.status == 200
            && r.json()["upstreams"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|u| u["name"] == FAULTY && u["last_error"].is_string())
            })
    });
    let faulty_kind = ups.json()["upstreams"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == FAULTY).cloned())
        .and_then(|u| u["last_error_kind"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no error recorded for {FAULTY}: {}", ups.text()));
    let fc = lp.wait_for(
        &format!("/api/upstreams/{}/fork_choice", HEALTHY[0]),
        Duration::from_secs(10),
        |r| r.status == 200,
    );
    assert_eq!(fc.status, 200, "{}", fc.text());

    let url = format!("http://{}/", lp.addr);
    let dom = run_chromium(&browser, &["--dump-dom"], &url);
    assert!(dom.contains("<html"), "no DOM dumped:\n{dom}");
    assert_eq!(text_of_id(&dom, "finalized-slot"), Some("18"), "{dom}");
    assert_eq!(text_of_id(&dom, "justified-slot"), Some("19"), "{dom}");
    assert_eq!(text_of_id(&dom, "stale-badge"), Some("fresh"), "{dom}");
    assert_eq!(text_of_id(&dom, "bundle-badge"), Some("verified"), "{dom}");
    assert_eq!(
        text_of_id(&dom, "finalized-root"),
        Some("0x9f657880…d0a8bf"),
        "{dom}"
    );
    // The liar is in the majority (its fork choice is true) but its bundle was refused.
    let row = upstream_row(&dom, LIAR).unwrap_or_else(|| panic!("no row for {LIAR}:\n{dom}"));
    assert!(row.contains("data-mismatch=\"true\""), "{row}");
    assert!(row.contains(">mismatch<"), "{row}");
    assert!(row.contains("is not the block's state_root"), "{row}");
    for name in HEALTHY {
        let row = upstream_row(&dom, name).unwrap_or_else(|| panic!("no row for {name}:\n{dom}"));
        assert!(row.contains(&format!(">{name}<")), "{row}");
        assert!(row.contains("data-healthy=\"true\""), "{row}");
    }
    let row = upstream_row(&dom, FAULTY).unwrap_or_else(|| panic!("no row for {FAULTY}:\n{dom}"));
    assert!(row.contains(&format!(">{FAULTY}<")), "{row}");
    assert!(row.contains("data-healthy=\"false\""), "{row}");
    assert!(row.contains(&format!(">{faulty_kind}<")), "{row}");
    // The fork-choice tree of the first healthy upstream: the fixture's blocks 18..=21,
    // with its finalized (18) and head (21) marked.
    for slot in 18..=21 {
        assert!(
            dom.contains(&format!("data-slot=\"{slot}\"")),
            "no block {slot}"
        );
    }
    assert!(
        dom.contains("class=\"n fin\""),
        "finalized block not marked"
    );
    assert!(dom.contains("class=\"n head\""), "head block not marked");

    let shot = target_dir().join("dashboard.png");
    screenshot(&browser, &url, &shot, 1280, 900);
    eprintln!("dashboard screenshot: {}", shot.display());
}
