//! Router tests: every endpoint's status, headers and exact JSON keys and types for
//! states with and without agreement, stale, and with upstream errors.

use super::fixtures::{agreed_app, fresh_app, stale_app, NOW, STALE_MS};
use super::*;
use serde_json::Value;

fn ctx(app: &AppState) -> RouteContext<'_> {
    super::fixtures::context(app)
}

fn get_with(app: &AppState, target: &str, inm: Option<&str>) -> Reply {
    let input = RouteInput {
        method: Method::Get,
        target,
        if_none_match: inm,
        client: None,
    };
    route(input, &ctx(app))
}

fn get(app: &AppState, target: &str) -> Reply {
    get_with(app, target, None)
}

fn json(reply: &Reply) -> Value {
    assert_eq!(reply.content_type, APPLICATION_JSON);
    serde_json::from_slice(reply.body.as_slice()).expect("valid JSON")
}

fn text(reply: &Reply) -> &str {
    std::str::from_utf8(reply.body.as_slice()).unwrap()
}

#[derive(Clone, Copy, Debug)]
enum T {
    U64,
    I64,
    Bool,
    Str,
    OptStr,
    OptU64,
    OptI64,
    OptBool,
    Obj,
}

fn check_type(key: &str, v: &Value, t: T) {
    let ok = match t {
        T::U64 => v.is_u64(),
        T::I64 => v.is_i64(),
        T::Bool => v.is_boolean(),
        T::Str => v.is_string(),
        T::OptStr => v.is_string() || v.is_null(),
        T::OptU64 => v.is_u64() || v.is_null(),
        T::OptI64 => v.is_i64() || v.is_null(),
        T::OptBool => v.is_boolean() || v.is_null(),
        T::Obj => v.is_object(),
    };
    assert!(ok, "`{key}` = {v} is not {t:?}");
}

/// Asserts that `obj` has exactly the keys of `contract` and `additive`, of those types.
fn check_shape(obj: &Value, contract: &[(&str, T)], additive: &[(&str, T)]) {
    let map = obj.as_object().expect("an object");
    let mut expected: Vec<&str> = contract.iter().chain(additive).map(|(k, _)| *k).collect();
    let mut actual: Vec<&str> = map.keys().map(String::as_str).collect();
    expected.sort_unstable();
    actual.sort_unstable();
    assert_eq!(actual, expected);
    for (key, t) in contract.iter().chain(additive) {
        check_type(key, &map[*key], *t);
    }
}

const STATUS_CONTRACT: &[(&str, T)] = &[
    ("justified_slot", T::U64),
    ("finalized_slot", T::U64),
    ("last_updated_ms", T::I64),
    ("last_success_ms", T::I64),
    ("stale", T::Bool),
    ("error_count", T::U64),
    ("last_error", T::OptStr),
];
const STATUS_ADDITIVE: &[(&str, T)] = &[
    ("justified_root", T::OptStr),
    ("finalized_root", T::OptStr),
    ("bundle_verified", T::Bool),
    ("bundle_slot", T::OptU64),
    ("block_root", T::OptStr),
    ("state_root", T::OptStr),
    ("first_agreed_ms", T::OptI64),
    ("agreeing_upstreams", T::U64),
    ("responding_upstreams", T::U64),
    ("has_consensus", T::Bool),
];

#[test]
fn status_with_agreement() {
    let app = agreed_app();
    let reply = get(&app, "/status?pretty=1");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    let v = json(&reply);
    check_shape(&v, STATUS_CONTRACT, STATUS_ADDITIVE);
    assert_eq!(v["justified_slot"], 101);
    assert_eq!(v["finalized_slot"], 100);
    assert_eq!(v["last_success_ms"], NOW - 1000);
    assert_eq!(v["stale"], false);
    assert_eq!(v["error_count"], 4);
    assert!(v["last_error"].is_null());
    assert_eq!(v["justified_root"], format!("0x{}", "aa".repeat(32)));
    assert_eq!(v["finalized_root"], format!("0x{}", "bb".repeat(32)));
    assert_eq!(v["bundle_verified"], true);
    assert_eq!(v["bundle_slot"], 100);
    assert_eq!(v["block_root"], format!("0x{}", "bb".repeat(32)));
    assert_eq!(v["state_root"], format!("0x{}", "5e".repeat(32)));
    // A newer agreed checkpoint whose bundle is still on its way.
    let mut app = agreed_app();
    if let Some(a) = app.agreed.as_mut() {
        a.finalized.slot = 104;
    }
    let v = json(&get(&app, "/status"));
    assert_eq!(
        (v["bundle_verified"].clone(), v["bundle_slot"].clone()),
        (false.into(), 100.into())
    );
}

#[test]
fn status_without_agreement_and_stale() {
    let app = fresh_app(&["a"]);
    let v = json(&get(&app, "/status"));
    check_shape(&v, STATUS_CONTRACT, STATUS_ADDITIVE);
    assert_eq!(v["justified_slot"], 0);
    assert_eq!(v["finalized_slot"], 0);
    assert_eq!(v["stale"], true);
    assert!(v["justified_root"].is_null() && v["state_digest"].is_null());

    let app = stale_app();
    let v = json(&get(&app, "/status"));
    check_shape(&v, STATUS_CONTRACT, STATUS_ADDITIVE);
    assert_eq!(v["stale"], true);
    assert_eq!(v["last_error"], "1/3 upstreams unreachable, no consensus");
}

#[test]
fn status_stale_boundary_follows_app() {
    let mut app = agreed_app();
    app.last_success_ms = NOW - STALE_MS as i64;
    assert_eq!(json(&get(&app, "/status"))["stale"], false);
    app.last_success_ms -= 1;
    assert_eq!(json(&get(&app, "/status"))["stale"], true);
}

const UPSTREAM_CONTRACT: &[(&str, T)] = &[
    ("name", T::Str),
    ("url", T::Str),
    ("path", T::Str),
    ("healthy", T::Bool),
    ("last_success_ms", T::OptI64),
    ("error_count", T::U64),
    ("last_error", T::OptStr),
    ("last_justified_slot", T::OptU64),
    ("last_finalized_slot", T::OptU64),
];
const UPSTREAM_ADDITIVE: &[(&str, T)] = &[
    ("last_error_kind", T::OptStr),
    ("last_error_ms", T::OptI64),
    ("latency_ms", T::OptU64),
    ("in_flight", T::Bool),
    ("head_slot", T::OptU64),
    ("last_justified_root", T::OptStr),
    ("justified_from_endpoint", T::Bool),
    ("finalized_root", T::OptStr),
    ("serves_fork_choice", T::OptBool),
    ("misconfigured", T::OptStr),
    ("last_mismatch", T::OptStr),
    ("last_mismatch_ms", T::OptI64),
    ("address", T::OptStr),
    ("errors_by_kind", T::Obj),
];
const CONSENSUS_CONTRACT: &[(&str, T)] = &[
    ("total_upstreams", T::U64),
    ("responding_upstreams", T::U64),
    ("consensus_threshold", T::U64),
    ("has_consensus", T::Bool),
];
const CONSENSUS_ADDITIVE: &[(&str, T)] = &[
    ("agreeing_upstreams", T::U64),
    ("finalized_slot", T::OptU64),
    ("finalized_root", T::OptStr),
    ("bundle_verified", T::Bool),
    ("bundle_slot", T::OptU64),
    ("block_root", T::OptStr),
    ("state_root", T::OptStr),
];

#[test]
fn upstreams_with_errors() {
    let app = agreed_app();
    let v = json(&get(&app, "/api/upstreams"));
    assert_eq!(v.as_object().unwrap().len(), 2);
    let ups = v["upstreams"].as_array().unwrap();
    assert_eq!(ups.len(), 3);
    for u in ups {
        check_shape(u, UPSTREAM_CONTRACT, UPSTREAM_ADDITIVE);
    }
    let ok = &ups[0];
    assert_eq!(ok["name"], "zeam_0");
    assert_eq!(ok["url"], "http://127.0.0.1:5052");
    assert_eq!(ok["path"], "/status");
    assert_eq!(ok["healthy"], true);
    assert_eq!(ok["last_justified_slot"], 101);
    assert_eq!(ok["last_finalized_slot"], 100);
    assert_eq!(ok["address"], "127.0.0.1:5052");
    assert_eq!(ok["finalized_root"], format!("0x{}", "bb".repeat(32)));
    assert_eq!(ok["serves_fork_choice"], true);
    assert!(ok["last_mismatch"].is_null());
    assert_eq!(ok["errors_by_kind"], serde_json::json!({}));
    let bad = &ups[2];
    assert_eq!(bad["healthy"], false);
    assert!(bad["last_success_ms"].is_null() && bad["last_justified_slot"].is_null());
    assert_eq!(bad["error_count"], 3);
    assert_eq!(
        bad["last_error"],
        "bad_status: bad status 503 on \"/lean/v0/states/finalized\"\n"
    );
    assert_eq!(bad["last_error_kind"], "bad_status");
    assert_eq!(bad["in_flight"], true);
    assert_eq!(
        bad["errors_by_kind"],
        serde_json::json!({"connect_refused": 2, "bad_status": 1})
    );
    let c = &v["consensus"];
    check_shape(c, CONSENSUS_CONTRACT, CONSENSUS_ADDITIVE);
    assert_eq!(c["total_upstreams"], 3);
    assert_eq!(c["responding_upstreams"], 2);
    assert_eq!(c["consensus_threshold"], 50);
    assert_eq!(c["has_consensus"], true);
    assert_eq!(c["agreeing_upstreams"], 2);
}

#[test]
fn upstreams_before_any_round_and_without_consensus() {
    let app = fresh_app(&["we\"ird\\name\u{1}"]);
    let v = json(&get(&app, "/api/upstreams"));
    let u = &v["upstreams"][0];
    check_shape(u, UPSTREAM_CONTRACT, UPSTREAM_ADDITIVE);
    assert_eq!(u["name"], "we\"ird\\name\u{1}");
    check_shape(&v["consensus"], CONSENSUS_CONTRACT, CONSENSUS_ADDITIVE);
    assert_eq!(v["consensus"]["has_consensus"], false);

    let app = stale_app();
    let c = json(&get(&app, "/api/upstreams"))["consensus"].clone();
    assert_eq!(c["has_consensus"], false);
    assert_eq!(c["agreeing_upstreams"], 0);

    let app = fresh_app(&[]);
    let v = json(&get(&app, "/api/upstreams"));
    assert_eq!(v["upstreams"], serde_json::json!([]));
}

#[test]
fn history_is_newest_first() {
    let app = agreed_app();
    let v = json(&get(&app, "/api/history"));
    let h = v["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    let shape = &[
        ("justified_slot", T::U64),
        ("justified_root", T::Str),
        ("finalized_slot", T::U64),
        ("finalized_root", T::Str),
        ("first_agreed_ms", T::I64),
        ("agreeing_upstreams", T::U64),
        ("responding_upstreams", T::U64),
    ];
    for e in h {
        check_shape(e, shape, &[]);
    }
    assert_eq!(h[0]["justified_slot"], 101);
    assert_eq!(h[1]["justified_slot"], 97);
    assert_eq!(h[1]["finalized_root"], format!("0x{}", "33".repeat(32)));
    let empty = json(&get(&fresh_app(&["a"]), "/api/history"));
    assert_eq!(empty, serde_json::json!({"history": []}));
}

#[test]
fn fork_choice_by_name() {
    let app = agreed_app();
    let r = get(&app, "/api/upstreams/zeam_0/fork_choice");
    assert_eq!(r.status, 200);
    assert!(matches!(r.body, Body::Shared(_)));
    assert_eq!(json(&r), serde_json::json!({"nodes": []}));
    let r = get(&app, "/api/upstreams/%7aeam_0/fork_choice?x");
    assert_eq!(r.status, 200);
    let r = get(&app, "/api/upstreams/ream_0/fork_choice");
    assert_eq!((r.status, text(&r)), (503, "no fork choice cached\n"));
    for target in [
        "/api/upstreams/nobody/fork_choice",
        "/api/upstreams//fork_choice",
        "/api/upstreams/%zz/fork_choice",
        "/api/upstreams/zeam_0/fork_choice/",
    ] {
        let r = get(&app, target);
        assert_eq!((r.status, text(&r)), (404, "Not found\n"), "{target}");
    }
}

#[test]
fn fork_choice_names_are_percent_decoded() {
    let mut app = fresh_app(&["node a/1"]);
    app.upstreams[0].fork_choice = Some(Rc::from(&b"{}"[..]));
    let r = get(&app, "/api/upstreams/node%20a%2F1/fork_choice");
    assert_eq!(r.status, 200);
}

#[test]
fn healthz_checks_in_order() {
    let body = |app: &AppState, fds: usize| {
        let c = RouteContext {
            gauges: crate::metrics::LoopGauges {
                open_fds: fds,
                ..Default::default()
            },
            ..ctx(app)
        };
        let input = RouteInput {
            method: Method::Get,
            target: "/healthz",
            if_none_match: None,
            client: None,
        };
        let r = route(input, &c);
        assert_eq!(r.content_type, TEXT_PLAIN);
        (r.status, text(&r).to_string())
    };
    let ok = agreed_app();
    assert_eq!(body(&ok, 10), (200, "ok\n".into()));
    assert_eq!(body(&ok, 1000), (503, "fd_pressure\n".into()));
    assert_eq!(body(&fresh_app(&[]), 10), (503, "no_upstreams\n".into()));
    assert_eq!(body(&fresh_app(&["a"]), 10), (503, "no_upstreams\n".into()));
    // A fresh agreement stays ok through a split or silent round (health does not flap).
    let mut split = agreed_app();
    split.round.has_consensus = false;
    assert_eq!(body(&split, 10), (200, "ok\n".into()));
    split.round.responding_upstreams = 0;
    assert_eq!(body(&split, 10), (200, "ok\n".into()));
    // Once it is not fresh, the reason is what the last round saw.
    let mut none_responded = stale_app();
    none_responded.round.responding_upstreams = 0;
    assert_eq!(body(&none_responded, 10), (503, "no_upstreams\n".into()));
    assert_eq!(body(&stale_app(), 10), (503, "no_consensus\n".into()));
    let mut stale = stale_app();
    stale.round.has_consensus = true;
    assert_eq!(body(&stale, 10), (503, "stale\n".into()));
}

#[test]
fn justified_checkpoint() {
    let app = agreed_app();
    let v = json(&get(&app, "/lean/v0/checkpoints/justified"));
    check_shape(&v, &[("slot", T::U64), ("root", T::Str)], &[]);
    assert_eq!(v["slot"], 101);
    assert_eq!(v["root"], format!("0x{}", "aa".repeat(32)));
    let r = get(&fresh_app(&["a"]), "/lean/v0/checkpoints/justified");
    assert_eq!((r.status, text(&r)), (503, "no_finalized_state\n"));
}

#[test]
fn lean_health() {
    let healthy = serde_json::json!({"status": "healthy", "service": "lean-rpc-api"});
    let unhealthy = serde_json::json!({"status": "unhealthy", "service": "lean-rpc-api"});
    let r = get(&agreed_app(), "/lean/v0/health");
    assert_eq!((r.status, json(&r)), (200, healthy));
    let r = get(&stale_app(), "/lean/v0/health");
    assert_eq!((r.status, json(&r)), (503, unhealthy.clone()));
    let r = get(&fresh_app(&["a"]), "/lean/v0/health");
    assert_eq!((r.status, json(&r)), (503, unhealthy));
}

#[test]
fn metrics_endpoint() {
    let r = get(&agreed_app(), "/metrics");
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type, "text/plain; version=0.0.4");
    assert!(text(&r).contains("\nleanpoint_justified_slot 101\n"));
}

#[test]
fn other_methods_are_refused_everywhere() {
    let app = agreed_app();
    for target in ["/status", "/metrics", "/nope", "/"] {
        let input = RouteInput {
            method: Method::Other,
            target,
            if_none_match: None,
            client: None,
        };
        let r = route(input, &ctx(&app));
        assert_eq!((r.status, text(&r)), (405, "Method not allowed\n"));
        assert_eq!(r.content_type, TEXT_PLAIN);
        assert_eq!(r.header("Allow"), Some("GET, HEAD"));
    }
}

#[test]
fn unknown_paths_and_dashboard() {
    let app = agreed_app();
    for target in [
        "/nope",
        "/status/",
        "/STATUS",
        "/api",
        "/index.htm",
        "",
        "*",
    ] {
        let r = get(&app, target);
        assert_eq!((r.status, text(&r)), (404, "Not found\n"), "{target}");
        assert_eq!(r.content_type, TEXT_PLAIN);
    }
    for target in ["/", "/index.html", "/?refresh=1"] {
        let r = get(&app, target);
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type, TEXT_HTML);
        assert_eq!(r.body.as_slice(), dashboard::PAGE.as_bytes());
    }
}

#[test]
fn static_dir_replaces_the_dashboard() {
    let dir = std::env::temp_dir().join(format!("leanpoint-router-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "mine").unwrap();
    std::fs::write(dir.join("app.css"), "b{}").unwrap();
    let site = crate::server::static_files::StaticSite::load(&dir, 1024).unwrap();
    let app = agreed_app();
    let c = RouteContext {
        static_dir: Some(&site),
        ..ctx(&app)
    };
    let get = |target: &str| {
        let input = RouteInput {
            method: Method::Get,
            target,
            if_none_match: None,
            client: None,
        };
        route(input, &c)
    };
    let r = get("/");
    let results = (
        (r.status, r.body.as_slice().to_vec()),
        get("/app.css").content_type,
        get("/../etc/passwd").status,
        get("/missing.js").status,
        get("/status").status,
    );
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(results.0, (200, b"mine".to_vec()));
    assert_eq!(results.1, "text/css; charset=utf-8");
    assert_eq!(results.2, 404);
    assert_eq!(results.3, 404);
    assert_eq!(results.4, 200, "API routes win over static files");
}

#[test]
fn etag_matching_rules() {
    assert!(etag_matches("*", "\"0xab\""));
    assert!(etag_matches("\"0xab\"", "\"0xab\""));
    assert!(etag_matches("W/\"0xab\"", "\"0xab\""));
    assert!(etag_matches("\"x\", \"0xab\"", "\"0xab\""));
    assert!(!etag_matches("\"0xabc\"", "\"0xab\""));
    assert!(!etag_matches("", "\"0xab\""));
}

#[path = "bundle_tests.rs"]
mod bundle;
