//! Requests seen from outside on real loopback sockets: `leanpoint_http_requests_total`
//! counts each reply by route and status (unknown lean paths as `other`, parser
//! refusals under the path of their request line), the duration histogram follows it,
//! `--access-log` writes one line per reply (JSON or Common Log Format), is reopened on
//! SIGHUP and, on a stalled stderr pipe, catches up as soon as the pipe drains; an
//! unopenable access log stops start-up, and lean API errors are logged at debug.

mod common;

use common::{bin, http_request, Leanpoint};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// No upstream answers here: these tests are about the inbound side.
const NO_UPSTREAM: [&str; 4] = ["--lean-url", "http://127.0.0.1:1", "--poll-ms", "60000"];

/// A fresh temp folder.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "leanpoint-http-obs-{name}-{}-{:?}",
        std::process::id(),
        Instant::now()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn start(extra: &[&str]) -> Leanpoint {
    let mut args = NO_UPSTREAM.to_vec();
    args.extend_from_slice(extra);
    Leanpoint::start(&args)
}

/// The value of the sample written exactly `series` (name and labels) in `text`.
fn sample(text: &str, series: &str) -> Option<String> {
    text.lines().find_map(|l| {
        l.strip_prefix(series)?
            .strip_prefix(' ')
            .map(str::to_string)
    })
}

fn requests(text: &str, route: &str, code: &str) -> Option<String> {
    sample(
        text,
        &format!("leanpoint_http_requests_total{{route=\"{route}\",code=\"{code}\"}}"),
    )
}

#[test]
fn requests_are_counted_by_route_and_status() {
    let lp = start(&[]);
    assert_eq!(lp.get("/lean/v0/nope").status, 404);
    let m = lp.get("/metrics");
    assert_eq!(m.status, 200);
    let text = m.text();
    assert_eq!(
        requests(&text, "other", "404").as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(requests(&text, "/healthz", "503"), None, "no probe yet");

    let health = lp.get("/healthz").status;
    assert_eq!(lp.get("/healthz").status, health);
    let code = health.to_string();
    // A method refused, a body refused, a head too large with and without a known path.
    let raw = [
        "POST /status HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_string(),
        "GET /status HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello".to_string(),
        format!("GET /healthz HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000)),
        format!("GET /nope HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(9000)),
        "\x16\x03\x01 not http\r\n\r\n".to_string(),
    ];
    let statuses: Vec<u16> = raw
        .iter()
        .map(|r| http_request(lp.addr, r).status)
        .collect();
    assert_eq!(statuses, [405, 413, 431, 431, 400]);

    let text = lp.get("/metrics").text();
    assert_eq!(
        requests(&text, "other", "404").as_deref(),
        Some("1"),
        "{text}"
    );
    assert_eq!(requests(&text, "/healthz", &code).as_deref(), Some("2"));
    assert_eq!(requests(&text, "/metrics", "200").as_deref(), Some("1"));
    assert_eq!(requests(&text, "/status", "405").as_deref(), Some("1"));
    assert_eq!(requests(&text, "/status", "413").as_deref(), Some("1"));
    assert_eq!(requests(&text, "/healthz", "431").as_deref(), Some("1"));
    assert_eq!(requests(&text, "other", "431").as_deref(), Some("1"));
    assert_eq!(requests(&text, "other", "400").as_deref(), Some("1"));
    let count = |route: &str| {
        sample(
            &text,
            &format!("leanpoint_http_request_duration_seconds_count{{route=\"{route}\"}}"),
        )
    };
    assert_eq!(count("other").as_deref(), Some("3"));
    assert_eq!(count("/healthz").as_deref(), Some("3"));
    assert_eq!(
        sample(&text, "leanpoint_access_log_dropped_total").as_deref(),
        Some("0")
    );
}

/// Waits until `path` holds at least `lines` lines; returns them.
fn wait_lines(path: &Path, lines: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let got: Vec<String> = text.lines().map(str::to_string).collect();
        if got.len() >= lines || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_access_log_has_a_json_line_per_reply() {
    let dir = temp_dir("json");
    let file = dir.join("access.log");
    let lp = start(&["--access-log", file.to_str().expect("utf-8")]);
    let reply = http_request(
        lp.addr,
        "GET /lean/v0/nope?x=1 HTTP/1.1\r\nHost: t\r\nUser-Agent: obs-test/1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.status, 404);
    let lines = wait_lines(&file, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let v: serde_json::Value = serde_json::from_str(&lines[0]).expect("a JSON line");
    assert_eq!(v["status"], 404);
    assert_eq!(v["method"], "GET");
    assert_eq!(v["path"], "/lean/v0/nope?x=1");
    assert_eq!(v["bytes"], 10, "Not found\\n");
    assert_eq!(v["user_agent"], "obs-test/1");
    let client = v["client"].as_str().expect("client");
    assert!(client.starts_with("127.0.0.1:"), "{client}");
    let time = v["time"].as_str().expect("time");
    assert!(time.len() == 24 && time.ends_with('Z'), "{time}");
    assert!(v["duration_ms"].as_f64().is_some_and(|d| d >= 0.0));

    // SIGHUP after a rotation: the next line goes to a new file by the same name.
    std::fs::rename(&file, dir.join("access.log.1")).expect("rename");
    let pid = nix::unistd::Pid::from_raw(lp.pid() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("SIGHUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !file.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(lp.get("/status").status, 200);
    let lines = wait_lines(&file, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("\"path\":\"/status\""), "{}", lines[0]);
    assert_eq!(wait_lines(&dir.join("access.log.1"), 1).len(), 1);
}

#[test]
fn the_access_log_speaks_common_log_format() {
    let dir = temp_dir("clf");
    let file = dir.join("access.log");
    let lp = start(&[
        "--access-log",
        file.to_str().expect("utf-8"),
        "--access-log-format",
        "common",
    ]);
    let reply = http_request(
        lp.addr,
        "HEAD /lean/v0/nope HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(reply.status, 404);
    let lines = wait_lines(&file, 1);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let line = &lines[0];
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    assert!(
        line.ends_with("] \"HEAD /lean/v0/nope HTTP/1.1\" 404 -"),
        "no body for HEAD: {line}"
    );
}

#[test]
fn an_access_log_that_cannot_be_opened_stops_start_up() {
    let missing = temp_dir("missing").join("no/such/dir/access.log");
    let path = missing.to_str().expect("utf-8");
    let out = Command::new(bin())
        .args(["--bind", "127.0.0.1", "--port", "0", "--access-log", path])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run leanpoint");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot open the access log {path}: ")),
        "{stderr}"
    );
}

#[test]
fn lean_api_errors_are_logged_at_debug() {
    let lp = start(&["--log-level", "debug"]);
    assert_eq!(lp.get("/lean/v0/nope").status, 404);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        match lp.log.recv_timeout(Duration::from_millis(100)) {
            Ok(line) if line.contains("lean API request answered with an error") => {
                assert!(line.contains("status=404"), "{line}");
                assert!(line.contains("/lean/v0/nope"), "{line}");
                return;
            }
            Ok(line) => seen.push(line),
            Err(_) => {}
        }
    }
    panic!("no debug line; saw:\n{}", seen.join("\n"));
}

/// A leanpoint whose stderr nobody reads yet (a full pipe, as when the reader of a
/// container's log stream stalls), killed on drop.
struct Unread {
    child: std::process::Child,
}

impl Drop for Unread {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn lines_held_back_by_a_full_stderr_pipe_follow_as_soon_as_it_drains() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(bin())
        .args(["--bind", "127.0.0.1", "--port", "0", "--log-level", "info"])
        .args(NO_UPSTREAM)
        .args(["--access-log", "-"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leanpoint");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let guard = Unread { child };
    // Read only up to the line that names the port; then nobody reads.
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stderr.read_line(&mut line).expect("stderr") > 0, "no port");
        if let Some(pos) = line.find("local=") {
            let addr = line[pos + 6..].split_whitespace().next().unwrap_or("");
            break addr.parse().expect("address");
        }
    };
    // 1500 lines (about 300 KB): the pipe (64 KiB) takes the first few hundred, the
    // access log holds the rest without dropping any (its buffer is 1 MiB).
    const N: usize = 1500;
    for _ in 0..N {
        let reply = http_request(addr, "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert_ne!(reply.status, 0);
    }
    // Every connection's deadline has passed: nothing else will wake the loop for the
    // next 60 s (no upstream answers, --poll-ms 60000).
    std::thread::sleep(Duration::from_millis(2500));
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines().map_while(Result::ok) {
            if line.contains("\"path\":\"/healthz\"") && tx.send(()).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut seen = 0;
    while seen < N {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(()) => seen += 1,
            Err(_) => break,
        }
    }
    drop(guard);
    assert_eq!(
        seen, N,
        "access-log lines that followed once the pipe drained"
    );
}
