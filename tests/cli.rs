//! The command line on a real process: `--help`, every bad input exits 2 with one line
//! naming what is wrong, the fd budget refuses a nofile limit it cannot fit, and SIGTERM
//! stops the process cleanly within a second.

mod common;

use common::{bin, upstreams_file, Leanpoint};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn run(args: &[&str], envs: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(bin())
        .args(args)
        .envs(envs.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run leanpoint");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn help_lists_every_contract_flag_and_env_var_and_exits_0() {
    let (code, stdout, _) = run(&["--help"], &[]);
    assert_eq!(code, 0);
    for flag in [
        "--bind",
        "--port",
        "--upstreams-config",
        "--lean-url",
        "--lean-path",
        "--poll-ms",
        "--timeout-ms",
        "--poll-concurrency",
        "--stale-ms",
        "--static-dir",
        "--help",
        "--log-level",
        "--log-format",
        "--max-connections",
        "LEANPOINT_BIND_ADDR",
        "LEANPOINT_BIND_PORT",
        "LEANPOINT_UPSTREAMS_CONFIG",
        "LEANPOINT_LEAN_URL",
        "LEANPOINT_LEAN_PATH",
        "LEANPOINT_POLL_MS",
        "LEANPOINT_TIMEOUT_MS",
        "LEANPOINT_POLL_CONCURRENCY",
        "LEANPOINT_STALE_MS",
        "LEANPOINT_STATIC_DIR",
    ] {
        assert!(
            stdout.contains(flag),
            "--help does not mention {flag}:\n{stdout}"
        );
    }
}

fn assert_bad(args: &[&str], envs: &[(&str, &str)], must_name: &[&str]) {
    let (code, _, stderr) = run(args, envs);
    assert_eq!(code, 2, "{args:?} should exit 2; stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        1,
        "{args:?} should print one line, got: {stderr}"
    );
    for name in must_name {
        assert!(
            stderr.contains(name),
            "{args:?}: message should name {name:?}: {stderr}"
        );
    }
}

#[test]
fn bad_flags_exit_2_naming_the_flag() {
    assert_bad(&["--frobnicate"], &[], &["--frobnicate"]);
    assert_bad(&["--port"], &[], &["--port"]);
    assert_bad(&["--port", "70000"], &[], &["--port"]);
    assert_bad(&["--poll-ms", "soon"], &[], &["--poll-ms"]);
    assert_bad(&["--bind", "not-an-ip"], &[], &["--bind"]);
    assert_bad(
        &["--lean-url", "https://127.0.0.1:5052"],
        &[],
        &["--lean-url", "TLS"],
    );
    assert_bad(&[], &[("LEANPOINT_POLL_MS", "x")], &["LEANPOINT_POLL_MS"]);
}

#[test]
fn bad_upstreams_files_exit_2_naming_file_and_entry() {
    let dir = std::env::temp_dir().join(format!("leanpoint-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases: &[(&str, &str, &[&str])] = &[
        ("malformed.json", "{ not json", &["malformed.json"]),
        (
            "noname.json",
            r#"{"upstreams":[{"url":"http://127.0.0.1:1"}]}"#,
            &["noname.json", "name"],
        ),
        (
            "nourl.json",
            r#"{"upstreams":[{"name":"a"}]}"#,
            &["nourl.json", "url"],
        ),
        (
            "allbad.json",
            r#"{"upstreams":[{"name":"a","url":"http://:1"},{"name":"b","url":"https://x:1"}]}"#,
            &["allbad.json", "no usable entry", "\"a\"", "\"b\""],
        ),
        ("empty.json", r#"{"upstreams":[]}"#, &["empty.json"]),
        (
            "badurl.json",
            r#"{"upstreams":[{"name":"z","url":"ftp://x:1"}]}"#,
            &["badurl.json", "\"z\""],
        ),
        (
            "tls.json",
            r#"{"upstreams":[{"name":"t","url":"https://x:1"}]}"#,
            &["tls.json", "TLS"],
        ),
        (
            "port.json",
            r#"{"upstreams":[{"name":"p","url":"http://x:99999"}]}"#,
            &["port.json", "\"p\""],
        ),
        ("shape.json", r#"[1,2,3]"#, &["shape.json"]),
    ];
    for (name, contents, must) in cases {
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        assert_bad(&["--upstreams-config", path.to_str().unwrap()], &[], must);
    }
    assert_bad(
        &["--upstreams-config", "/nonexistent/ups.json"],
        &[],
        &["/nonexistent/ups.json"],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nofile_16_with_40_upstreams_refuses_to_start_naming_the_limit() {
    let entries: Vec<(String, String)> = (0..40)
        .map(|i| (format!("n{i}"), format!("http://127.0.0.1:{}", 20000 + i)))
        .collect();
    let file = upstreams_file(&entries);
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 16 && exec \"$0\" \"$@\"")
        .arg(bin())
        .args(["--bind", "127.0.0.1", "--port", "0", "--upstreams-config"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(
        stderr.contains(
            "nofile 16 is too low: 40 upstreams with poll concurrency 64 need at least 60"
        ),
        "{stderr}"
    );
}

#[test]
fn sigterm_stops_cleanly_within_a_second() {
    let mut lp = Leanpoint::start(&["--lean-url", "http://127.0.0.1:9", "--poll-ms", "100"]);
    let reply = lp.get("/status");
    assert_eq!(reply.status, 200);
    let started = Instant::now();
    let status = lp
        .terminate(Duration::from_secs(1))
        .expect("exited within a second");
    assert!(status.success(), "exit status {status:?}");
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn sighup_reaches_a_handler_and_the_process_stays_up() {
    let file = upstreams_file(&[("a".into(), "http://127.0.0.1:9".into())]);
    let lp = Leanpoint::start(&["--upstreams-config", file.to_str().unwrap()]);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(lp.pid() as i32),
        nix::sys::signal::Signal::SIGHUP,
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut saw = false;
    while Instant::now() < deadline && !saw {
        if let Ok(line) = lp.log.recv_timeout(Duration::from_millis(100)) {
            saw = line.contains("SIGHUP");
        }
    }
    assert!(saw, "no log line about SIGHUP");
    assert_eq!(lp.get("/status").status, 200);
}
