//! The finality chart in a real browser, against the simulator: `lean-devnet` with three
//! healthy nodes, one `lagging` and one `flapping` (canonical chain and a fork in turns),
//! leanpoint polling them, then headless Chromium renders `/`. The dumped DOM must hold
//! one series per upstream and the agreed line, each series' `data-last` and
//! `data-standing` must be what `/api/timeline` (fetched right after) recorded at the
//! moment the page rendered (`data-now` of the chart), and the lagging upstream's series
//! and table row must be highlighted. A screenshot (1280×1400) goes to
//! `target/dashboard-timeline.png`; with `UPDATE_DASHBOARD_PNG=1` (`make screenshot`)
//! also to `docs/dashboard.png`, after a longer history (1.5 s slots, 40 s of rounds)
//! and while the flapping node sits on its fork, so that both highlights show.

use crate::chrome::{chromium_or_skip, run_chromium, screenshot, target_dir};
use crate::common::Leanpoint;
use crate::dom::{attr, start_tags, upstream_row};
use crate::harness::Devnet;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

const NODES: [&str; 5] = ["node0", "node1", "node2", "node3", "node4"];
const LAGGING: &str = "node3";
const FLAPPING: &str = "node4";

/// The `/api/timeline` entry of upstream `name`.
fn series<'a>(timeline: &'a Value, name: &str) -> Option<&'a Value> {
    timeline["upstreams"]
        .as_array()?
        .iter()
        .find(|u| u["name"] == name)
}

fn samples(series: &Value) -> &[Value] {
    series["samples"].as_array().map_or(&[], Vec::as_slice)
}

/// What the page drew for a list of samples rendered at `now`: the last sample taken at
/// or before `now` (and the one before it when that one was taken in the very ms of the
/// render, so it may have come just after).
fn drawn_at(list: &[Value], now: i64, key: &str) -> Vec<Value> {
    let taken: Vec<&Value> = list
        .iter()
        .filter(|s| s["t"].as_i64().is_some_and(|t| t <= now) && !s[key].is_null())
        .collect();
    let mut out: Vec<Value> = taken.iter().rev().take(1).map(|s| s[key].clone()).collect();
    if taken.last().is_some_and(|s| s["t"].as_i64() == Some(now)) && taken.len() > 1 {
        out.push(taken[taken.len() - 2][key].clone());
    }
    out
}

/// The number in `data-last`, as JSON (an empty attribute is null).
fn last_value(tag: &str) -> Value {
    match attr(tag, "data-last") {
        Some("") | None => Value::Null,
        Some(n) => n.parse::<u64>().map_or(Value::Null, Value::from),
    }
}

/// Whether `name`'s latest samples show it just moved to a minority root (for a
/// screenshot with both highlights: a few seconds of that phase are left).
fn just_turned_minority(timeline: &Value, name: &str) -> bool {
    let Some(s) = series(timeline, name) else {
        return false;
    };
    let list = samples(s);
    let recent = list.get(list.len().saturating_sub(4)..).unwrap_or_default();
    s["standing"] == "minority" && recent.iter().any(|x| x["standing"] == "agreeing")
}

#[test]
fn finality_chart_shows_every_upstream_and_highlights_the_lagging_one() {
    let Some(browser) = chromium_or_skip("finality chart") else {
        return;
    };
    // Refreshing docs/dashboard.png: slower slots (a 6 s minority phase) and more history.
    let update = std::env::var_os("UPDATE_DASHBOARD_PNG").is_some_and(|v| v == "1");
    let (slot_ms, rounds, wait) = if update {
        ("1500", 160, Duration::from_secs(120))
    } else {
        ("500", 20, Duration::from_secs(30))
    };
    let devnet = Devnet::start(
        NODES.len(),
        &[
            "--profiles",
            "healthy,healthy,healthy,lagging,flapping",
            "--slot-ms",
            slot_ms,
            "--lag-slots",
            "3",
        ],
    );
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        devnet.upstreams.to_str().expect("utf-8 path"),
        "--poll-ms",
        "250",
        "--timeout-ms",
        "1000",
    ]);

    // Enough history: the lagging node lags, the flapping one has been on both forks.
    let ready = lp.wait_for("/api/timeline", wait, |r| {
        if r.status != 200 {
            return false;
        }
        let v = r.json();
        let standings = |name: &str| -> Vec<String> {
            series(&v, name).map_or(Vec::new(), |s| {
                samples(s)
                    .iter()
                    .filter_map(|x| x["standing"].as_str().map(str::to_string))
                    .collect()
            })
        };
        series(&v, LAGGING).is_some_and(|s| s["standing"] == "lagging")
            && standings(FLAPPING).iter().any(|s| s == "minority")
            && standings(FLAPPING).iter().any(|s| s == "agreeing")
            && v["agreed"].as_array().is_some_and(|a| a.len() >= rounds)
            && (!update || just_turned_minority(&v, FLAPPING))
    });
    let v = ready.json();
    let lag = series(&v, LAGGING).unwrap_or_else(|| panic!("no {LAGGING}: {v}"));
    assert_eq!(lag["standing"], "lagging", "{}", ready.text());
    assert!(lag["lag_slots"].as_u64().is_some_and(|n| n >= 1), "{lag}");
    let flap = series(&v, FLAPPING).unwrap_or_else(|| panic!("no {FLAPPING}: {v}"));
    for standing in ["minority", "agreeing"] {
        assert!(
            samples(flap).iter().any(|s| s["standing"] == standing),
            "the flapping node was never {standing}: {flap}"
        );
    }

    let url = format!("http://{}/", lp.addr);
    let shot = target_dir().join("dashboard-timeline.png");
    if update {
        refresh_docs_png(&browser, &lp, &url, &shot);
    } else {
        screenshot(&browser, &url, &shot, 1280, 1400);
    }
    eprintln!("finality chart screenshot: {}", shot.display());

    let dom = run_chromium(&browser, &["--dump-dom"], &url);
    let after = lp.get("/api/timeline").json();
    check_chart(&dom, &after);
}

/// Takes the screenshot while the flapping node sits on its fork (both highlights show):
/// retried, a few times, when the node moved back during the run; then copied to
/// docs/dashboard.png.
fn refresh_docs_png(browser: &Path, lp: &Leanpoint, url: &str, shot: &Path) {
    for attempt in 1..=4 {
        let turned = lp.wait_for("/api/timeline", Duration::from_secs(30), |r| {
            r.status == 200 && just_turned_minority(&r.json(), FLAPPING)
        });
        let started = turned.json()["now_ms"].as_i64().unwrap_or(i64::MAX);
        screenshot(browser, url, shot, 1280, 1400);
        let after = lp.get("/api/timeline").json();
        let during: Vec<&Value> = series(&after, FLAPPING)
            .map(samples)
            .unwrap_or_default()
            .iter()
            .filter(|x| x["t"].as_i64().is_some_and(|t| t >= started))
            .collect();
        if !during.is_empty() && during.iter().all(|x| x["standing"] == "minority") {
            let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/dashboard.png");
            std::fs::copy(shot, &docs).unwrap_or_else(|e| panic!("{}: {e}", docs.display()));
            eprintln!("updated {} (attempt {attempt})", docs.display());
            return;
        }
        eprintln!("attempt {attempt}: {FLAPPING} left its fork during the screenshot; again");
    }
    panic!("no screenshot with {FLAPPING} on its fork in 4 attempts");
}

/// The chart in `dom` against `timeline`, fetched after the page rendered.
fn check_chart(dom: &str, timeline: &Value) {
    let svg = start_tags(dom, "svg", "id", "timeline-svg");
    let now: i64 = svg
        .first()
        .and_then(|t| attr(t, "data-now"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the chart has no data-now:\n{dom}"));
    let later = timeline["now_ms"].as_i64().unwrap_or(0);
    assert!(
        (0..10_000).contains(&(later - now)),
        "the page rendered at {now}, the test asked at {later}"
    );

    let agreed = start_tags(dom, "polyline", "data-upstream", "agreed");
    assert_eq!(agreed.len(), 1, "one agreed line:\n{dom}");
    let list = timeline["agreed"].as_array().map_or(&[][..], Vec::as_slice);
    let expected = drawn_at(list, now, "finalized");
    assert!(
        expected.contains(&last_value(agreed[0])),
        "agreed line {} not in {expected:?}",
        agreed[0]
    );

    for name in NODES {
        let tags = start_tags(dom, "polyline", "data-upstream", name);
        assert_eq!(tags.len(), 1, "one series for {name}:\n{dom}");
        let tag = tags[0];
        let s = series(timeline, name).unwrap_or_else(|| panic!("{name} not in {timeline}"));
        let finalized = drawn_at(samples(s), now, "finalized");
        assert!(
            !finalized.is_empty() && finalized.contains(&last_value(tag)),
            "{name}: series {tag} not in {finalized:?}"
        );
        let standing = drawn_at(samples(s), now, "standing");
        let drawn = attr(tag, "data-standing").map(Value::from);
        assert!(
            drawn.as_ref().is_some_and(|d| standing.contains(d)),
            "{name}: series {tag}, standings {standing:?}"
        );
        let row = upstream_row(dom, name).unwrap_or_else(|| panic!("no row for {name}"));
        for highlight in ["lagging", "minority"] {
            let on = drawn.as_ref().is_some_and(|d| d == highlight);
            assert_eq!(
                attr(tag, "class").is_some_and(|c| c.split(' ').any(|c| c == highlight)),
                on,
                "{name}: series {tag}"
            );
            let row_tag = row.get(..row.find('>').unwrap_or(row.len())).unwrap_or(row);
            assert_eq!(
                attr(row_tag, "class").is_some_and(|c| c.split(' ').any(|c| c == highlight)),
                on,
                "{name}: row {row_tag}"
            );
        }
    }
    let lagging = start_tags(dom, "polyline", "data-upstream", LAGGING);
    assert_eq!(attr(lagging[0], "data-standing"), Some("lagging"));
    assert_eq!(attr(lagging[0], "class"), Some("series lagging"));
    let row = upstream_row(dom, LAGGING).unwrap_or_default();
    assert!(row.contains("class=\"lagging\""), "{row}");
    let legend = start_tags(dom, "span", "data-legend", LAGGING);
    assert!(
        legend.first().and_then(|t| attr(t, "data-standing")) == Some("lagging"),
        "legend: {legend:?}"
    );
}
