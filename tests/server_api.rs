//! The public HTTP API of a running leanpoint on real loopback sockets: every endpoint's
//! exact JSON keys and types (`/api/timeline` included), status codes and error bodies, `/metrics`, conditional
//! and HEAD requests, other methods, the static directory (no escape in any encoding),
//! and pipelined requests answered in order.

mod common;

use common::htr;
use common::inbound::{agreed, Client};
use common::mock::{Behavior, MockNode, NodeData};
use common::prom::Scrape;
use common::{http_request, upstreams_file, Leanpoint};
use serde_json::Value;
use sha2::Digest;
use std::time::Duration;

/// The JSON type a key must have.
#[derive(Debug, Clone, Copy)]
enum Ty {
    U64,
    I64,
    Bool,
    Str,
    /// `"0x"` and 64 hex digits.
    Root,
    Obj,
    Arr,
    Null,
    /// One of the two.
    Or(&'static Ty, &'static Ty),
}

const OPT_STR: Ty = Ty::Or(&Ty::Str, &Ty::Null);
const OPT_U64: Ty = Ty::Or(&Ty::U64, &Ty::Null);
const OPT_I64: Ty = Ty::Or(&Ty::I64, &Ty::Null);
const OPT_ROOT: Ty = Ty::Or(&Ty::Root, &Ty::Null);
const OPT_BOOL: Ty = Ty::Or(&Ty::Bool, &Ty::Null);

fn has_type(v: &Value, ty: Ty) -> bool {
    match ty {
        Ty::U64 => v.is_u64(),
        Ty::I64 => v.is_i64(),
        Ty::Bool => v.is_boolean(),
        Ty::Str => v.is_string(),
        Ty::Root => v.as_str().is_some_and(|s| {
            s.len() == 66 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
        }),
        Ty::Obj => v.is_object(),
        Ty::Arr => v.is_array(),
        Ty::Null => v.is_null(),
        Ty::Or(a, b) => has_type(v, *a) || has_type(v, *b),
    }
}

/// `v` is an object with exactly these keys, each of its type.
fn assert_shape(what: &str, v: &Value, keys: &[(&str, Ty)]) {
    let obj = v
        .as_object()
        .unwrap_or_else(|| panic!("{what}: not an object: {v}"));
    for (key, ty) in keys {
        let field = obj
            .get(*key)
            .unwrap_or_else(|| panic!("{what}: missing {key} in {v}"));
        assert!(has_type(field, *ty), "{what}.{key}: {field} is not {ty:?}");
    }
    for key in obj.keys() {
        assert!(
            keys.iter().any(|(k, _)| k == key),
            "{what}: undocumented key {key} (add it to docs/api.md and here)"
        );
    }
}

const STATUS_KEYS: &[(&str, Ty)] = &[
    ("justified_slot", Ty::U64),
    ("finalized_slot", Ty::U64),
    ("last_updated_ms", Ty::I64),
    ("last_success_ms", Ty::I64),
    ("stale", Ty::Bool),
    ("error_count", Ty::U64),
    ("last_error", OPT_STR),
    ("justified_root", OPT_ROOT),
    ("finalized_root", OPT_ROOT),
    ("first_agreed_ms", OPT_I64),
    ("agreeing_upstreams", Ty::U64),
    ("responding_upstreams", Ty::U64),
    ("has_consensus", Ty::Bool),
    ("bundle_verified", Ty::Bool),
    ("bundle_slot", OPT_U64),
    ("block_root", OPT_ROOT),
    ("state_root", OPT_ROOT),
];

const UPSTREAM_KEYS: &[(&str, Ty)] = &[
    ("name", Ty::Str),
    ("url", Ty::Str),
    ("path", Ty::Str),
    ("healthy", Ty::Bool),
    ("last_success_ms", OPT_I64),
    ("error_count", Ty::U64),
    ("last_error", OPT_STR),
    ("last_justified_slot", OPT_U64),
    ("last_finalized_slot", OPT_U64),
    ("last_error_kind", OPT_STR),
    ("last_error_ms", OPT_I64),
    ("latency_ms", OPT_U64),
    ("in_flight", Ty::Bool),
    ("head_slot", OPT_U64),
    ("last_justified_root", OPT_ROOT),
    ("justified_from_endpoint", Ty::Bool),
    ("finalized_root", OPT_ROOT),
    ("serves_fork_choice", OPT_BOOL),
    ("misconfigured", OPT_STR),
    ("last_mismatch", OPT_STR),
    ("last_mismatch_ms", OPT_I64),
    ("address", OPT_STR),
    ("errors_by_kind", Ty::Obj),
];

const CONSENSUS_KEYS: &[(&str, Ty)] = &[
    ("total_upstreams", Ty::U64),
    ("responding_upstreams", Ty::U64),
    ("consensus_threshold", Ty::U64),
    ("has_consensus", Ty::Bool),
    ("agreeing_upstreams", Ty::U64),
    ("finalized_slot", OPT_U64),
    ("finalized_root", OPT_ROOT),
    ("bundle_verified", Ty::Bool),
    ("bundle_slot", OPT_U64),
    ("block_root", OPT_ROOT),
    ("state_root", OPT_ROOT),
];

const HISTORY_KEYS: &[(&str, Ty)] = &[
    ("justified_slot", Ty::U64),
    ("justified_root", Ty::Root),
    ("finalized_slot", Ty::U64),
    ("finalized_root", Ty::Root),
    ("first_agreed_ms", Ty::I64),
    ("agreeing_upstreams", Ty::U64),
    ("responding_upstreams", Ty::U64),
];

const TIMELINE_KEYS: &[(&str, Ty)] = &[
    ("now_ms", Ty::I64),
    ("capacity", Ty::U64),
    ("agreed_finalized_slot", OPT_U64),
    ("agreed", Ty::Arr),
    ("upstreams", Ty::Arr),
];

const TIMELINE_AGREED_KEYS: &[(&str, Ty)] = &[
    ("t", Ty::I64),
    ("finalized", OPT_U64),
    ("consensus", Ty::Bool),
];

const TIMELINE_SERIES_KEYS: &[(&str, Ty)] = &[
    ("name", Ty::Str),
    ("standing", Ty::Str),
    ("lag_slots", Ty::U64),
    ("finalized", OPT_U64),
    ("samples", Ty::Arr),
];

const TIMELINE_SAMPLE_KEYS: &[(&str, Ty)] = &[
    ("t", Ty::I64),
    ("finalized", OPT_U64),
    ("justified", OPT_U64),
    ("head", OPT_U64),
    ("root", OPT_STR),
    ("error", OPT_STR),
    ("standing", Ty::Str),
];

/// `/api/timeline` of `good_and_bad`: every key and type, `good` agreeing on slot 18
/// with its root's prefix, `bad` failing with `bad_status`.
fn check_timeline(lp: &Leanpoint) {
    let reply = lp.get("/api/timeline");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    let v = reply.json();
    assert_shape("/api/timeline", &v, TIMELINE_KEYS);
    assert_eq!(v["capacity"], 360);
    assert_eq!(v["agreed_finalized_slot"], 18);
    let agreed = v["agreed"].as_array().expect("agreed");
    assert!(!agreed.is_empty(), "{v}");
    for a in agreed {
        assert_shape("/api/timeline agreed", a, TIMELINE_AGREED_KEYS);
    }
    assert_eq!(agreed.last().map(|a| &a["finalized"]), Some(&18.into()));
    let ups = v["upstreams"].as_array().expect("upstreams");
    let names: Vec<&str> = ups.iter().filter_map(|u| u["name"].as_str()).collect();
    assert_eq!(names, ["good", "bad"]);
    for u in ups {
        assert_shape("/api/timeline upstream", u, TIMELINE_SERIES_KEYS);
        for s in u["samples"].as_array().expect("samples") {
            assert_shape("/api/timeline sample", s, TIMELINE_SAMPLE_KEYS);
        }
    }
    let good = &ups[0];
    assert_eq!(
        (&good["standing"], &good["finalized"]),
        (&"agreeing".into(), &18.into())
    );
    let last = good["samples"]
        .as_array()
        .and_then(|l| l.last())
        .expect("a sample");
    assert_eq!(
        (&last["finalized"], &last["justified"], &last["root"]),
        (&18.into(), &19.into(), &"0x9f657880".into())
    );
    let bad = &ups[1];
    assert_eq!(bad["standing"], "unknown");
    let last = bad["samples"]
        .as_array()
        .and_then(|l| l.last())
        .expect("a sample");
    assert_eq!(last["error"], "bad_status");
    assert!(last["finalized"].is_null());
}

const JUSTIFIED_ROOT: &str = "0xd48a550951e453a948139b5855d5e7493e99fa379b0b767a638d9bd46e6c5be1";

/// Upstreams `good` (healthy fixtures) and `bad` (answers 500), agreed on `good`.
fn good_and_bad() -> (MockNode, MockNode, Leanpoint) {
    let good = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let bad = MockNode::start(Behavior::Status(500));
    let file = upstreams_file(&[
        ("good".to_string(), good.url()),
        ("bad".to_string(), bad.url()),
    ]);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "300",
    ]);
    let status = lp.wait_for("/status", Duration::from_secs(15), |r| {
        r.status == 200
            && r.json()["finalized_slot"].as_u64() == Some(18)
            && r.json()["bundle_verified"] == true
    });
    assert_eq!(status.json()["finalized_slot"], 18, "{}", status.text());
    (good, bad, lp)
}

#[test]
fn json_endpoints_have_the_contract_keys_and_types() {
    let (_good, bad, lp) = good_and_bad();

    let status = lp.get("/status");
    assert_eq!(status.status, 200);
    assert_eq!(status.header("content-type"), Some("application/json"));
    // RFC 9110 §6.6.1: an origin server with a clock sends Date (IMF-fixdate, GMT).
    let date = status.header("date").expect("Date header");
    assert!(
        date.len() == 29 && date.ends_with(" GMT") && date.as_bytes()[3] == b',',
        "{date}"
    );
    assert_eq!(status.header("cache-control"), Some("no-cache"));
    let v = status.json();
    assert_shape("/status", &v, STATUS_KEYS);
    assert_eq!(
        (&v["justified_slot"], &v["finalized_slot"], &v["stale"]),
        (&Value::from(19), &Value::from(18), &Value::Bool(false))
    );
    assert_eq!(v["justified_root"], JUSTIFIED_ROOT);
    assert_eq!(v["has_consensus"], true);
    assert_eq!(
        (&v["agreeing_upstreams"], &v["responding_upstreams"]),
        (&1.into(), &1.into())
    );
    assert!(v["last_success_ms"].as_i64().unwrap() > 1_600_000_000_000);

    let ups = lp.get("/api/upstreams");
    assert_eq!(ups.status, 200);
    assert_eq!(ups.header("content-type"), Some("application/json"));
    let v = ups.json();
    let obj = v.as_object().unwrap();
    assert_eq!(obj.len(), 2, "{v}");
    let list = v["upstreams"].as_array().expect("upstreams array");
    assert_eq!(list.len(), 2);
    for u in list {
        assert_shape("/api/upstreams upstream", u, UPSTREAM_KEYS);
    }
    let (g, b) = (&list[0], &list[1]);
    assert_eq!(
        (&g["name"], &g["path"], &g["healthy"]),
        (&"good".into(), &"/status".into(), &true.into())
    );
    assert_eq!(
        (&g["last_justified_slot"], &g["last_finalized_slot"]),
        (&19.into(), &18.into())
    );
    assert_eq!(g["head_slot"], 21);
    assert_eq!((&b["name"], &b["healthy"]), (&"bad".into(), &false.into()));
    assert_eq!(b["url"], bad.url());
    assert_eq!(b["last_success_ms"], Value::Null);
    assert_eq!(b["last_error_kind"], "bad_status");
    assert!(
        b["last_error"].as_str().unwrap().starts_with("bad_status"),
        "{b}"
    );
    assert!(b["errors_by_kind"]["bad_status"].as_u64().unwrap() >= 1);
    assert_shape("/api/upstreams consensus", &v["consensus"], CONSENSUS_KEYS);
    let c = &v["consensus"];
    assert_eq!(
        (
            &c["total_upstreams"],
            &c["responding_upstreams"],
            &c["consensus_threshold"],
            &c["has_consensus"]
        ),
        (&2.into(), &1.into(), &50.into(), &true.into())
    );

    let hist = lp.get("/api/history");
    assert_eq!(hist.status, 200);
    let v = hist.json();
    assert_eq!(v.as_object().unwrap().len(), 1, "{v}");
    let entries = v["history"].as_array().expect("history array");
    assert_eq!(entries.len(), 1, "{v}");
    assert_shape("/api/history entry", &entries[0], HISTORY_KEYS);
    assert_eq!(
        (&entries[0]["justified_slot"], &entries[0]["finalized_slot"]),
        (&19.into(), &18.into())
    );

    check_timeline(&lp);

    let cp = lp.get("/lean/v0/checkpoints/justified");
    assert_eq!(cp.status, 200);
    assert_eq!(cp.header("content-type"), Some("application/json"));
    assert_shape(
        "checkpoint",
        &cp.json(),
        &[("slot", Ty::U64), ("root", Ty::Root)],
    );
    assert_eq!(
        cp.text(),
        format!("{{\"slot\":19,\"root\":\"{JUSTIFIED_ROOT}\"}}")
    );

    let health = lp.get("/lean/v0/health");
    assert_eq!(health.status, 200);
    assert_eq!(
        health.text(),
        r#"{"status":"healthy","service":"lean-rpc-api"}"#
    );

    let healthz = lp.get("/healthz");
    assert_eq!((healthz.status, healthz.text().as_str()), (200, "ok\n"));
    assert_eq!(healthz.header("content-type"), Some("text/plain"));
}

#[test]
fn fork_choice_endpoint_cached_unknown_and_uncached() {
    let (_good, _bad, lp) = good_and_bad();
    let fc = lp.wait_for(
        "/api/upstreams/good/fork_choice",
        Duration::from_secs(5),
        |r| r.status == 200,
    );
    assert_eq!(fc.status, 200);
    assert_eq!(fc.header("content-type"), Some("application/json"));
    assert_eq!(
        fc.body,
        NodeData::fixture().fork_choice,
        "served as cached, byte for byte"
    );
    let v = fc.json();
    assert_eq!(v["justified"]["slot"], 19);
    assert_eq!(v["finalized"]["slot"], 18);

    // Percent-encoded name.
    assert_eq!(lp.get("/api/upstreams/%67ood/fork_choice").status, 200);

    let unknown = lp.get("/api/upstreams/nobody/fork_choice");
    assert_eq!(
        (unknown.status, unknown.text().as_str()),
        (404, "Not found\n")
    );
    let empty = lp.get("/api/upstreams//fork_choice");
    assert_eq!(empty.status, 404);

    let uncached = lp.get("/api/upstreams/bad/fork_choice");
    assert_eq!(uncached.status, 503, "{}", uncached.text());
    assert_eq!(uncached.text(), "no fork choice cached\n");
}

#[test]
fn before_any_agreement_the_failure_bodies_are_exact() {
    let bad = MockNode::start(Behavior::Status(500));
    let url = bad.url();
    let lp = Leanpoint::start(&["--lean-url", &url, "--poll-ms", "300"]);
    let status = lp.wait_for("/status", Duration::from_secs(10), |r| {
        r.status == 200 && r.json()["error_count"].as_u64() >= Some(1)
    });
    let v = status.json();
    assert_shape("/status", &v, STATUS_KEYS);
    assert_eq!(
        (&v["justified_slot"], &v["finalized_slot"]),
        (&0.into(), &0.into())
    );
    assert_eq!(
        (&v["stale"], &v["has_consensus"]),
        (&true.into(), &false.into())
    );
    assert_eq!(
        v["last_error"].as_str(),
        Some(format!("all upstreams failed: default ({url})").as_str())
    );
    assert_eq!(
        (
            &v["justified_root"],
            &v["finalized_root"],
            &v["bundle_verified"]
        ),
        (&Value::Null, &Value::Null, &Value::Bool(false))
    );

    let healthz = lp.get("/healthz");
    assert_eq!(
        (healthz.status, healthz.text().as_str()),
        (503, "no_upstreams\n")
    );
    let health = lp.get("/lean/v0/health");
    assert_eq!(health.status, 503);
    assert_eq!(
        health.text(),
        r#"{"status":"unhealthy","service":"lean-rpc-api"}"#
    );
    let cp = lp.get("/lean/v0/checkpoints/justified");
    assert_eq!(
        (cp.status, cp.text().as_str()),
        (503, "no_finalized_state\n")
    );
    let state = lp.get("/lean/v0/states/finalized");
    assert_eq!(
        (state.status, state.text().as_str()),
        (503, "no_finalized_state\n")
    );
    let hist = lp.get("/api/history");
    assert_eq!(hist.json(), serde_json::json!({"history": []}));
    let ups = lp.get("/api/upstreams").json();
    assert_eq!(ups["consensus"]["has_consensus"], false);
    assert_eq!(ups["consensus"]["finalized_root"], Value::Null);
    let block = lp.get("/lean/v0/blocks/finalized");
    assert_eq!(
        (block.status, block.text().as_str()),
        (503, "no_finalized_state\n")
    );
}

#[test]
fn metrics_has_the_prometheus_type_and_the_original_names() {
    let (_node, lp) = agreed(NodeData::fixture(), &["--poll-ms", "300"]);
    let m = lp.get("/metrics");
    assert_eq!(m.status, 200);
    assert_eq!(m.header("content-type"), Some("text/plain; version=0.0.4"));
    let text = m.text();
    for (name, kind) in [
        ("leanpoint_justified_slot", "gauge"),
        ("leanpoint_finalized_slot", "gauge"),
        ("leanpoint_last_success_timestamp_ms", "gauge"),
        ("leanpoint_last_updated_timestamp_ms", "gauge"),
        ("leanpoint_last_latency_ms", "gauge"),
        ("leanpoint_error_total", "counter"),
    ] {
        assert!(
            text.contains(&format!("# TYPE {name} {kind}\n")),
            "{name} {kind}"
        );
        assert!(
            common::inbound::metric(&text, name).is_some(),
            "{name} has no sample"
        );
    }
    assert_eq!(
        common::inbound::metric(&text, "leanpoint_justified_slot"),
        Some(19.0)
    );
    assert_eq!(
        common::inbound::metric(&text, "leanpoint_finalized_slot"),
        Some(18.0)
    );
    // Every sample line is `name[{labels}] number`.
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let (_, value) = line.rsplit_once(' ').expect(line);
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    // The whole exposition parses, labelled samples included (legacy mode: one upstream
    // named `default`, which agreed on slot 18 and never failed).
    let m = Scrape::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let default = [("upstream", "default")];
    assert_eq!(m.value("leanpoint_upstream_up", &default), 1.0);
    assert_eq!(m.value("leanpoint_upstream_finalized_slot", &default), 18.0);
    assert_eq!(m.value("leanpoint_upstream_justified_slot", &default), 19.0);
    let errors = m.family("leanpoint_upstream_errors_total");
    assert!(!errors.is_empty(), "one sample per kind, zeros included");
    assert!(errors.iter().all(|s| s.value == 0.0), "{errors:?}");
    assert_eq!(
        m.value(
            "leanpoint_upstream_errors_total",
            &[("kind", "reset"), ("upstream", "default")]
        ),
        0.0
    );
    assert_eq!(m.one("leanpoint_upstreams"), 1.0);
    assert_eq!(m.one("leanpoint_has_consensus"), 1.0);
    assert!(m.value("leanpoint_fd_budget", &[("pool", "upstream")]) >= 1.0);
    assert_eq!(
        m.one("leanpoint_bundle_state_bytes"),
        NodeData::fixture().state.len() as f64
    );
}

#[test]
fn the_tests_metrics_parser_reads_labels_and_refuses_what_is_not_a_sample() {
    let text = "# HELP a x\n# TYPE a gauge\na 3\n\
                b{upstream=\"n\\\"0\",kind=\"reset\"} 7\n\
                b{upstream=\"n1\",kind=\"reset\"} 0\nc_total 1.5e3 1700000000000\n";
    let s = Scrape::parse(text).unwrap();
    assert_eq!(s.one("a"), 3.0);
    assert_eq!(
        s.get("b", &[("kind", "reset"), ("upstream", "n\"0")]),
        Some(7.0)
    );
    assert_eq!(s.select("b{upstream=\"n1\",kind=\"reset\"}"), Some(0.0));
    assert_eq!(
        s.get("b", &[("upstream", "n1")]),
        None,
        "labels match exactly"
    );
    assert_eq!(s.get("b", &[]), None);
    assert_eq!(s.one("c_total"), 1500.0);
    assert_eq!(s.family("b").len(), 2);
    for bad in [
        "a",
        "a x",
        "a{k=\"v\" 1",
        "a{k=v} 1",
        "a 1 2 3",
        "{k=\"v\"} 1",
        "a{k=\"v\"}1",
        "a{k=\"v\\q\"} 1",
    ] {
        assert!(Scrape::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn etag_if_none_match_and_head_on_one_connection() {
    let (node, lp) = agreed(NodeData::fixture(), &["--poll-ms", "300"]);
    let mut c = Client::connect(lp.addr);
    let full = c.get("/lean/v0/states/finalized");
    assert_eq!(full.status, 200);
    assert_eq!(full.body, NodeData::fixture().state);
    assert_eq!(
        full.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(full.header("cache-control"), Some("public, max-age=1"));
    let etag = full.header("etag").expect("ETag").to_string();
    // The state's tag is `"0x<hash_tree_root(state)>"` (docs/api.md), computed here by
    // the tests' own merkleization of the bytes served, not by leanpoint's; the root is
    // also the one leanSpec wrote into the captured block as its `state_root`.
    let root = htr::state_root(&full.body);
    let block = NodeData::fixture().block;
    let at = u32::from_le_bytes(block[..4].try_into().unwrap()) as usize + 48;
    assert_eq!(
        root[..],
        block[at..at + 32],
        "htr(state) = block.state_root"
    );
    assert_eq!(
        htr::hex(&root),
        "c4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01"
    );
    let expected = htr::quoted_etag(&root);
    assert_eq!(etag, expected, "the state's ETag names its root");

    // 304 for the tag built here: no body, and no Content-Length that would contradict
    // the 200's.
    c.send(
        format!(
            "GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\nIf-None-Match: {expected}\r\n\r\n"
        )
        .as_bytes(),
    );
    let nm = c.read_reply(false).expect("304");
    assert_eq!(nm.status, 304);
    assert_eq!(nm.header("etag"), Some(etag.as_str()));
    assert!(
        matches!(nm.header("content-length"), None | Some("1254")),
        "{:?}",
        nm.headers
    );
    // A non-matching tag gets the state.
    c.send(
        b"GET /lean/v0/states/finalized HTTP/1.1\r\nHost: t\r\nIf-None-Match: \"0xdead\"\r\n\r\n",
    );
    let again = c.read_reply(true).expect("200");
    assert_eq!((again.status, again.body.len()), (200, 1254));

    // The block's tag is `"0x<SHA-256 of its bytes>"`, the digest taken here with `sha2`.
    let block = c.get("/lean/v0/blocks/finalized");
    assert_eq!(block.status, 200);
    assert_eq!(block.body, NodeData::fixture().block);
    let block_tag = htr::quoted_etag(&sha2::Sha256::digest(&block.body));
    assert_eq!(block.header("etag"), Some(block_tag.as_str()));
    c.send(
        format!(
            "GET /lean/v0/blocks/finalized HTTP/1.1\r\nHost: t\r\nIf-None-Match: {block_tag}\r\n\r\n"
        )
        .as_bytes(),
    );
    let nm = c.read_reply(false).expect("304");
    assert_eq!(nm.status, 304, "{:?}", nm.headers);
    assert_eq!(nm.header("etag"), Some(block_tag.as_str()));
    // The state's tag does not match the block.
    c.send(
        format!(
            "GET /lean/v0/blocks/finalized HTTP/1.1\r\nHost: t\r\nIf-None-Match: {expected}\r\n\r\n"
        )
        .as_bytes(),
    );
    let other = c.read_reply(true).expect("200");
    assert_eq!((other.status, other.body.len()), (200, block.body.len()));

    // HEAD: the GET's headers, Content-Length included, and no body.
    for path in [
        "/lean/v0/states/finalized",
        "/status",
        "/healthz",
        "/nope",
        "/api/timeline",
    ] {
        c.send(format!("HEAD {path} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
        let head = c.read_reply(false).expect("HEAD reply");
        let get = c.get(path);
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        if path != "/status" && path != "/api/timeline" {
            // /status's timestamps (and the timeline) may change between the two.
            assert_eq!(
                head.header("content-length").map(str::to_string),
                Some(get.body.len().to_string()),
                "{path}"
            );
        }
    }
    // Nothing stray was sent after any 304 or HEAD reply.
    assert!(c.leftover().is_empty());
    c.stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let mut probe = [0u8; 1];
    assert!(
        std::io::Read::read(&mut c.stream, &mut probe).is_err(),
        "stray bytes"
    );
    drop(node);
}

#[test]
fn other_methods_get_405_and_unknown_paths_404() {
    let (_node, lp) = agreed(NodeData::fixture(), &["--poll-ms", "300"]);
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        for path in ["/status", "/lean/v0/states/finalized", "/nope"] {
            let r = http_request(
                lp.addr,
                &format!("{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
            );
            assert_eq!(r.status, 405, "{method} {path}");
            assert_eq!(r.text(), "Method not allowed\n");
            assert_eq!(r.header("allow"), Some("GET, HEAD"));
        }
    }
    for path in [
        "/nope",
        "/status/x",
        "/api",
        "/api/upstreams/",
        "/lean/v0/states",
        "/index.htm",
    ] {
        let r = lp.get(path);
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, "Not found\n"),
            "{path}"
        );
    }
    // Queries are ignored by the API routes.
    assert_eq!(lp.get("/healthz?probe=1").text(), "ok\n");
    // Without --static-dir, `/` is the built-in dashboard.
    let dash = lp.get("/");
    assert_eq!(dash.status, 200);
    assert_eq!(
        dash.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(dash.text().contains("<html"));
}

/// `base/site/{index.html, app.js, sub/page.html, passwd -> /etc/passwd,
/// secret_link -> base/secret.txt, out -> base}` and `base/secret.txt`.
fn static_tree() -> (std::path::PathBuf, std::path::PathBuf) {
    let base = std::env::temp_dir().join(format!(
        "leanpoint-srvtest-static-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&base);
    let site = base.join("site");
    std::fs::create_dir_all(site.join("sub")).unwrap();
    std::fs::write(site.join("index.html"), "<p>front</p>").unwrap();
    std::fs::write(site.join("app.js"), "let x;").unwrap();
    std::fs::write(site.join("sub/page.html"), "<p>page</p>").unwrap();
    std::fs::write(base.join("secret.txt"), "SECRET").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", site.join("passwd")).unwrap();
    std::os::unix::fs::symlink(base.join("secret.txt"), site.join("secret_link")).unwrap();
    std::os::unix::fs::symlink(&base, site.join("out")).unwrap();
    (base, site)
}

#[test]
fn static_dir_serves_index_and_never_escapes() {
    let (base, site) = static_tree();
    let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let url = node.url();
    let lp = Leanpoint::start(&["--lean-url", &url, "--static-dir", site.to_str().unwrap()]);

    let index = lp.get("/");
    assert_eq!((index.status, index.text().as_str()), (200, "<p>front</p>"));
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let js = lp.get("/app.js?v=1");
    assert_eq!((js.status, js.text().as_str()), (200, "let x;"));
    assert_eq!(
        js.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(lp.get("/sub/page.html").text(), "<p>page</p>");
    // The API still wins over files.
    let healthz = lp.wait_for("/healthz", Duration::from_secs(10), |r| r.status == 200);
    assert_eq!(healthz.text(), "ok\n");
    assert!(lp.get("/status").json().is_object());

    for target in [
        "/../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/..%2fetc%2fpasswd",
        "//etc/passwd",
        "/a/../../x",
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/.%2E/secret.txt",
        "/..%2Fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/%252e%252e/secret.txt",
        "/index.html%00",
        "/passwd",
        "/secret_link",
        "/out/secret.txt",
        "/out/../secret.txt",
        "/../../../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    ] {
        let r = http_request(
            lp.addr,
            &format!("GET {target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"),
        );
        assert!(
            matches!(r.status, 400 | 404),
            "{target}: {} {}",
            r.status,
            r.text()
        );
        let body = r.text();
        assert!(
            !body.contains("root:") && !body.contains("SECRET"),
            "{target} leaked"
        );
        if r.status == 404 {
            assert_eq!(body, "Not found\n", "{target}");
        }
    }
    drop(lp);
    let _ = std::fs::remove_dir_all(&base);
}

#[test]
fn fifty_pipelined_requests_are_answered_in_order() {
    let (_node, lp) = agreed(NodeData::fixture(), &["--poll-ms", "300"]);
    let state = NodeData::fixture().state;
    let mut raw = Vec::new();
    for i in 0..50 {
        let line = match i % 6 {
            0 => "GET /healthz".to_string(),
            1 => "GET /lean/v0/checkpoints/justified".to_string(),
            2 => format!("GET /nope/{i}"),
            3 => "HEAD /lean/v0/states/finalized".to_string(),
            4 => "GET /lean/v0/states/finalized".to_string(),
            _ => format!("DELETE /status?{i}"),
        };
        raw.extend_from_slice(format!("{line} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    let mut c = Client::connect(lp.addr);
    c.send(&raw); // all 50 in one write
    for i in 0..50 {
        let reply = c
            .read_reply(i % 6 != 3)
            .unwrap_or_else(|| panic!("reply {i} missing"));
        match i % 6 {
            0 => assert_eq!((reply.status, reply.text().as_str()), (200, "ok\n"), "#{i}"),
            1 => assert_eq!(reply.json()["slot"], 19, "#{i}"),
            2 => assert_eq!(
                (reply.status, reply.text().as_str()),
                (404, "Not found\n"),
                "#{i}"
            ),
            3 => assert_eq!(
                (reply.status, reply.header("content-length")),
                (200, Some("1254")),
                "#{i}"
            ),
            4 => assert_eq!(reply.body, state, "#{i}"),
            _ => assert_eq!(reply.status, 405, "#{i}"),
        }
    }
    // Still usable afterwards.
    assert_eq!(c.get("/healthz").text(), "ok\n");
}
