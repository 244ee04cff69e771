//! leanpoint run as lean-quickstart runs it, on the real binary: the upstreams files its
//! generator writes (tests/fixtures/lean-quickstart/: local, ansible with an empty-host
//! row, and `--docker`), with each host:port replaced by a running mock node's; a URL
//! without a port; `--check-config`; SIGHUP with a bad row; and legacy `--lean-url` mode's
//! `/api/upstreams` read as the original React UI reads it.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::{bin, wait_verified, Leanpoint};
use serde_json::Value;
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/lean-quickstart/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("fixture JSON")
}

/// The generated file with every `http://HOST:PORT` served by a healthy mock node bound
/// on that loopback HOST (rows without a host are kept as they are). Returns the nodes
/// and the path of the rewritten file.
fn serve(name: &str) -> (Vec<MockNode>, std::path::PathBuf) {
    let mut file = fixture(name);
    let mut nodes = Vec::new();
    for row in file["upstreams"].as_array_mut().expect("upstreams") {
        let url = row["url"].as_str().unwrap_or("").to_string();
        let host = url
            .strip_prefix("http://")
            .and_then(|rest| rest.rsplit_once(':'))
            .map(|(h, _)| h.to_string())
            .unwrap_or_default();
        if host.is_empty() {
            continue;
        }
        let listener = TcpListener::bind((host.as_str(), 0)).expect("bind a loopback host");
        let node = MockNode::start_on(listener, Behavior::Healthy(NodeData::fixture()));
        row["url"] = Value::String(node.url());
        nodes.push(node);
    }
    let dir = std::env::temp_dir().join(format!(
        "leanpoint-quickstart-{}-{}",
        std::process::id(),
        name
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_string_pretty(&file).unwrap()).unwrap();
    (nodes, path)
}

fn upstream<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["upstreams"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == name))
        .unwrap_or(&Value::Null)
}

/// `leanpoint --check-config ARGS`: (exit code, stdout + stderr).
fn check_config(args: &[&str]) -> (i32, String) {
    let out = Command::new(bin())
        .arg("--check-config")
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("run leanpoint");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn a_generated_local_file_is_polled_as_written() {
    let (nodes, file) = serve("upstreams-local.json");
    assert_eq!(nodes.len(), 5);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().unwrap(),
        "--poll-ms",
        "300",
    ]);
    wait_verified(&lp, Duration::from_secs(10));
    let ups = lp.wait_for("/api/upstreams", Duration::from_secs(5), |r| {
        r.json()["consensus"]["agreeing_upstreams"] == 5
    });
    let v = ups.json();
    assert_eq!(v["consensus"]["responding_upstreams"], 5, "{v}");
    assert_eq!(upstream(&v, "lantern_0")["path"], "/v0/health");
    assert_eq!(
        check_config(&["--upstreams-config", file.to_str().unwrap()]).0,
        0
    );
}

#[test]
fn a_generated_file_with_an_empty_host_row_runs_and_shows_the_row() {
    let (nodes, file) = serve("upstreams-ansible.json");
    assert_eq!(nodes.len(), 5, "five rows with a host, one without");
    let path = file.to_str().unwrap();
    // --check-config names the row and exits 2, binding nothing.
    let (code, text) = check_config(&["--upstreams-config", path]);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains(r#"entry 4 ("zeam_0"): url "http://:5055": empty host"#),
        "{text}"
    );
    // The monitor runs with the other five and shows the bad row.
    let lp = Leanpoint::start(&["--upstreams-config", path, "--poll-ms", "300"]);
    wait_verified(&lp, Duration::from_secs(10));
    let v = lp
        .wait_for("/api/upstreams", Duration::from_secs(5), |r| {
            r.json()["consensus"]["responding_upstreams"] == 5
        })
        .json();
    let c = &v["consensus"];
    assert_eq!(
        (
            c["total_upstreams"].clone(),
            c["agreeing_upstreams"].clone()
        ),
        (6.into(), 5.into())
    );
    let bad = upstream(&v, "zeam_0");
    assert_eq!(
        bad["misconfigured"],
        r#"entry 4 ("zeam_0"): url "http://:5055": empty host"#
    );
    assert_eq!(bad["last_error_kind"], "misconfigured");
    assert_eq!(bad["healthy"], false);
    assert_eq!(bad["url"], "http://:5055");
    assert!(bad["address"].is_null());
    // Logged at error level, naming the entry.
    let mut logged = false;
    while let Ok(line) = lp.log.recv_timeout(Duration::from_millis(200)) {
        logged |= line.contains("ERROR") && line.contains("zeam_0") && line.contains("empty host");
        if logged {
            break;
        }
    }
    assert!(logged, "no error line naming the entry");
    // SIGHUP applies the same rule: a file that gains an https row keeps running with it.
    let mut edited: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    edited["upstreams"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": "tls_0", "url": "https://127.0.0.1:5055"}));
    std::fs::write(&file, edited.to_string()).unwrap();
    let pid = nix::unistd::Pid::from_raw(lp.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).unwrap();
    let v = lp
        .wait_for("/api/upstreams", Duration::from_secs(5), |r| {
            r.json()["consensus"]["total_upstreams"] == 7
        })
        .json();
    assert!(
        upstream(&v, "tls_0")["misconfigured"]
            .as_str()
            .unwrap_or("")
            .contains("TLS is not supported"),
        "{v}"
    );
    assert_eq!(lp.get("/healthz").status, 200);
}

#[test]
fn a_generated_docker_file_keeps_running_while_its_names_do_not_resolve() {
    let file = fixture("upstreams-local-docker.json");
    let path = std::env::temp_dir().join(format!("leanpoint-docker-{}.json", std::process::id()));
    std::fs::write(&path, file.to_string()).unwrap();
    let path = path.to_str().unwrap();
    assert_eq!(
        check_config(&["--upstreams-config", path]).0,
        0,
        "names are not looked up"
    );
    let mut lp = Leanpoint::start(&["--upstreams-config", path, "--poll-ms", "300"]);
    let v = lp
        .wait_for("/api/upstreams", Duration::from_secs(10), |r| {
            r.json()["upstreams"][0]["last_error_kind"] == "name_not_resolved"
        })
        .json();
    assert_eq!(
        upstream(&v, "ream_0")["last_error_kind"],
        "name_not_resolved"
    );
    let health = lp.get("/healthz");
    assert_eq!(
        (health.status, health.text().as_str()),
        (503, "no_upstreams\n")
    );
    std::thread::sleep(Duration::from_secs(1));
    assert!(lp.child_alive(), "the monitor must keep running");
}

#[test]
fn a_lean_url_without_a_port_is_port_80() {
    let lp = Leanpoint::start(&["--lean-url", "http://127.0.0.1", "--poll-ms", "300"]);
    let v = lp.get("/api/upstreams").json();
    assert_eq!(v["upstreams"][0]["url"], "http://127.0.0.1");
    assert_eq!(v["upstreams"][0]["address"], "127.0.0.1:80");
    assert_eq!(check_config(&["--lean-url", "http://127.0.0.1"]).0, 0);
}

#[test]
fn zero_values_are_refused_naming_the_smallest_or_mean_never_stale() {
    for flag in ["--poll-ms=0", "--timeout-ms=0"] {
        let (code, text) = check_config(&[flag]);
        assert_eq!(code, 2, "{text}");
        assert!(text.contains("the smallest value is 1"), "{text}");
    }
    let (code, text) = check_config(&["--stale-ms=0"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = check_config(&["--poll-ms=0", "--port=99999", "--nope"]);
    assert_eq!(code, 2);
    assert!(
        text.contains("3 problem(s) found"),
        "every problem, not the first: {text}"
    );
}

#[test]
fn legacy_mode_api_upstreams_as_the_original_ui_reads_it() {
    let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
    let url = node.url();
    let lp = Leanpoint::start(&[
        "--lean-url",
        &url,
        "--lean-path",
        "v0/health",
        "--poll-ms",
        "300",
    ]);
    wait_verified(&lp, Duration::from_secs(10));
    let v = lp.get("/api/upstreams").json();
    // What the original React UI reads: one row "default" with the contract fields, and
    // the consensus object.
    let list = v["upstreams"].as_array().expect("upstreams array");
    assert_eq!(list.len(), 1);
    let u = &list[0];
    assert_eq!(u["name"], "default");
    assert_eq!(u["url"], url.as_str());
    assert_eq!(u["path"], "/v0/health");
    assert_eq!(u["healthy"], true);
    assert!(u["last_success_ms"].is_i64());
    assert_eq!(u["error_count"], 0);
    assert!(u["last_error"].is_null());
    assert_eq!(
        (
            u["last_justified_slot"].clone(),
            u["last_finalized_slot"].clone()
        ),
        (19.into(), 18.into())
    );
    let c = &v["consensus"];
    assert_eq!(c["total_upstreams"], 1);
    assert_eq!(c["responding_upstreams"], 1);
    assert_eq!(c["consensus_threshold"], 50);
    assert_eq!(c["has_consensus"], true);
}
