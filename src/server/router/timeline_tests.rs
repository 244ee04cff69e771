//! `/api/timeline` through the router: status and headers, GET and HEAD, the exact keys
//! and types, values of agreeing, lagging, minority and failing upstreams, and the
//! empty timeline before any round.

use super::fixtures::{agreed_app, fresh_app, FINALIZED, NOW};
use super::*;
use crate::app::{UpstreamError, UpstreamErrorKind};
use crate::lean::Checkpoint;
use serde_json::Value;

fn ask(app: &AppState, method: Method, target: &str) -> Reply {
    let ctx = super::fixtures::context(app);
    let input = RouteInput {
        method,
        target,
        if_none_match: None,
        client: None,
    };
    route(input, &ctx)
}

fn json(reply: &Reply) -> Value {
    assert_eq!(reply.status, 200);
    assert_eq!(reply.content_type, APPLICATION_JSON);
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    serde_json::from_slice(reply.body.as_slice()).expect("valid JSON")
}

fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

/// `agreed_app` after two rounds: zeam_0 agrees, ream_0 lags by 3 slots in the second,
/// qlean_0 fails both.
fn sampled_app() -> AppState {
    let mut app = agreed_app();
    app.timeline
        .record_round(&app.upstreams, app.agreed.as_ref(), true, NOW - 2000);
    app.upstreams[1].finalized = Some(Checkpoint {
        slot: FINALIZED.slot - 3,
        root: [0x12; 32],
    });
    app.upstreams[1].head_slot = None;
    app.timeline
        .record_round(&app.upstreams, app.agreed.as_ref(), false, NOW - 1000);
    app
}

#[test]
fn timeline_shape_and_values() {
    let app = sampled_app();
    let v = json(&ask(&app, Method::Get, "/api/timeline?x=1"));
    assert_eq!(
        keys(&v),
        [
            "agreed",
            "agreed_finalized_slot",
            "capacity",
            "now_ms",
            "upstreams"
        ]
    );
    assert_eq!(v["now_ms"], NOW);
    assert_eq!(v["capacity"], 360);
    assert_eq!(v["agreed_finalized_slot"], 100);
    let agreed = v["agreed"].as_array().expect("agreed");
    assert_eq!(agreed.len(), 2);
    assert_eq!(keys(&agreed[0]), ["consensus", "finalized", "t"]);
    assert_eq!(agreed[0]["t"], NOW - 2000);
    assert_eq!(agreed[0]["finalized"], 100);
    assert_eq!(agreed[0]["consensus"], true);
    assert_eq!(agreed[1]["consensus"], false);

    let ups = v["upstreams"].as_array().expect("upstreams");
    let names: Vec<&str> = ups.iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["zeam_0", "ream_0", "qlean_0"]);
    for u in ups {
        assert_eq!(
            keys(u),
            ["finalized", "lag_slots", "name", "samples", "standing"]
        );
        let samples = u["samples"].as_array().expect("samples");
        assert_eq!(samples.len(), 2, "{u}");
        for s in samples {
            assert_eq!(
                keys(s),
                [
                    "error",
                    "finalized",
                    "head",
                    "justified",
                    "root",
                    "standing",
                    "t"
                ]
            );
        }
    }
    let zeam = &ups[0];
    assert_eq!(
        (&zeam["standing"], &zeam["lag_slots"], &zeam["finalized"]),
        (&"agreeing".into(), &0.into(), &100.into())
    );
    let s = &zeam["samples"][1];
    assert_eq!(s["t"], NOW - 1000);
    assert_eq!(
        (&s["finalized"], &s["justified"], &s["head"]),
        (&100.into(), &101.into(), &103.into())
    );
    assert_eq!(s["root"], "0xbbbbbbbb");
    assert!(s["error"].is_null());
    assert_eq!(s["standing"], "agreeing");

    let ream = &ups[1];
    assert_eq!(
        (&ream["standing"], &ream["lag_slots"], &ream["finalized"]),
        (&"lagging".into(), &3.into(), &97.into())
    );
    assert_eq!(ream["samples"][0]["standing"], "agreeing");
    assert_eq!(ream["samples"][1]["root"], "0x12121212");
    assert!(ream["samples"][1]["head"].is_null());

    let qlean = &ups[2];
    assert_eq!(qlean["standing"], "unknown");
    assert!(qlean["finalized"].is_null());
    let s = &qlean["samples"][1];
    assert_eq!(s["error"], "bad_status");
    for key in ["finalized", "justified", "head", "root"] {
        assert!(s[key].is_null(), "{key}: {s}");
    }
}

#[test]
fn minority_and_error_kinds_are_named() {
    let mut app = agreed_app();
    app.upstreams[0].finalized = Some(Checkpoint {
        slot: FINALIZED.slot,
        root: [0x01; 32],
    });
    app.upstreams[1].healthy = false;
    app.upstreams[1].record_error(UpstreamError {
        kind: UpstreamErrorKind::RequestTimeout,
        detail: "timed out".into(),
        at_ms: NOW,
    });
    app.timeline
        .record_round(&app.upstreams, app.agreed.as_ref(), true, NOW);
    let v = json(&ask(&app, Method::Get, "/api/timeline"));
    assert_eq!(v["upstreams"][0]["standing"], "minority");
    assert_eq!(v["upstreams"][0]["lag_slots"], 0);
    assert_eq!(v["upstreams"][0]["samples"][0]["root"], "0x01010101");
    assert_eq!(v["upstreams"][1]["samples"][0]["error"], "request_timeout");
}

#[test]
fn timeline_before_any_round() {
    let app = fresh_app(&["a\"b", "c"]);
    let r = ask(&app, Method::Get, "/api/timeline");
    let v = json(&r);
    assert_eq!(
        std::str::from_utf8(r.body.as_slice()).unwrap(),
        format!(
            "{{\"now_ms\":{NOW},\"capacity\":360,\"agreed_finalized_slot\":null,\"agreed\":[],\
             \"upstreams\":[{{\"name\":\"a\\\"b\",\"standing\":\"unknown\",\"lag_slots\":0,\
             \"finalized\":null,\"samples\":[]}},{{\"name\":\"c\",\"standing\":\"unknown\",\
             \"lag_slots\":0,\"finalized\":null,\"samples\":[]}}]}}"
        )
    );
    assert_eq!(v["upstreams"][0]["name"], "a\"b");
}

#[test]
fn timeline_answers_head_like_get_and_refuses_other_methods() {
    let app = sampled_app();
    let get = ask(&app, Method::Get, "/api/timeline");
    let head = ask(&app, Method::Head, "/api/timeline");
    assert_eq!(head.status, 200);
    assert_eq!(head.content_type, APPLICATION_JSON);
    assert_eq!(head.headers.len(), get.headers.len());
    // The shell drops a HEAD's body but sends its length.
    assert_eq!(head.body.len(), get.body.len());
    let other = ask(&app, Method::Other, "/api/timeline");
    assert_eq!(other.status, 405);
    assert_eq!(other.header("Allow"), Some("GET, HEAD"));
    assert_eq!(ask(&app, Method::Get, "/api/timeline/").status, 404);
}

#[test]
fn one_timeline_body_is_shared_until_the_next_round() {
    let mut app = agreed_app();
    let cache = RefCell::new(crate::server::render::timeline::TimelineCache::default());
    let ask_cached = |app: &AppState, now_ms: i64| {
        let ctx = RouteContext {
            now_ms,
            timeline_cache: Some(&cache),
            ..super::fixtures::context(app)
        };
        let input = RouteInput {
            method: Method::Get,
            target: "/api/timeline",
            if_none_match: None,
            client: None,
        };
        match route(input, &ctx).body {
            Body::Shared(body) => body,
            other => panic!("not shared: {other:?}"),
        }
    };
    let first = ask_cached(&app, NOW);
    let again = ask_cached(&app, NOW + 500);
    assert!(Rc::ptr_eq(&first, &again), "the same bytes, not a copy");
    let uncached = ask(&app, Method::Get, "/api/timeline");
    assert_eq!(
        &*first,
        uncached.body.as_slice(),
        "the body rendered at NOW"
    );
    // The next round changes the timeline: a new body.
    let agreed = app.agreed.clone();
    app.timeline
        .record_round(&app.upstreams, agreed.as_ref(), true, NOW + 1000);
    let next = ask_cached(&app, NOW + 1000);
    assert!(!Rc::ptr_eq(&first, &next));
    let v: Value = serde_json::from_slice(&next).expect("JSON");
    assert_eq!(v["now_ms"], NOW + 1000);
}
