//! Tests of the command line: defaults, flag-over-env precedence, every bad input.

use super::flags::{DefaultValue, FLAGS};
use super::*;
use std::collections::HashMap;
use std::io;

const FIXTURE: &str = r#"{ "upstreams": [ { "name": "zeam_0", "url": "http://127.0.0.1:5052", "path": "/status" } ] }"#;

/// Runs the parser with these args and env vars; the only readable file is
/// `ups.json` (the fixture) and `bad.json` (an empty list).
fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Command, ConfigError> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let env_fn = move |k: &str| env.get(k).cloned();
    let read = |p: &Path| {
        match p.to_str() {
        Some("ups.json") => Ok(FIXTURE.to_string()),
        Some("bad.json") => Ok(r#"{"upstreams":[]}"#.to_string()),
        Some("gen.json") => Ok(r#"{"upstreams":[{"name":"zeam_0","url":"http://127.0.0.1:5055"},{"name":"ream_0","url":"http://:5055"}]}"#.to_string()),
        _ => Err(io::Error::from_raw_os_error(2)),
    }
    };
    parse_command_line(&args, &env_fn, &read)
}

fn config(args: &[&str], env: &[(&str, &str)]) -> Config {
    match run(args, env) {
        Ok(Command::Run(c)) => c,
        other => panic!("{args:?} {env:?}: {other:?}"),
    }
}

/// The error message, checked to be one line.
fn error(args: &[&str], env: &[(&str, &str)]) -> String {
    match run(args, env) {
        Err(e) => {
            let s = e.to_string();
            assert!(!s.contains('\n'), "not one line: {s:?}");
            s
        }
        other => panic!("{args:?} {env:?} accepted: {other:?}"),
    }
}

#[test]
fn defaults_are_the_originals() {
    let c = config(&[], &[]);
    assert_eq!(c.bind, "0.0.0.0".parse::<IpAddr>().unwrap());
    assert_eq!(c.port, 5555);
    assert_eq!(c.upstreams_config, None);
    assert_eq!(c.lean_url, "http://127.0.0.1:5052");
    assert_eq!(c.lean_path, "/status");
    assert_eq!(c.poll_ms, 10_000);
    assert_eq!(c.timeout_ms, 5_000);
    assert_eq!(c.connect_timeout_ms, 5_000);
    assert_eq!(c.poll_concurrency, 64);
    assert_eq!(c.stale_ms, 30_000);
    assert_eq!(c.static_dir, None);
    assert_eq!(c.static_max_bytes, 64 * 1024 * 1024);
    assert_eq!(c.log_level, "info");
    assert_eq!(c.log_format, LogFormat::Text);
    assert_eq!(c.max_connections, 1024);
    assert_eq!(c.max_state_bytes, 64 * 1024 * 1024);
    assert_eq!(c.header_timeout_ms, 10_000);
    assert_eq!(c.idle_timeout_ms, 60_000);
    assert_eq!(c.write_timeout_ms, 30_000);
    assert_eq!(c.fd_pressure_percent, 90);
    assert_eq!(c.history_len, 64);
    assert!(!c.require_identical_state);
    assert_eq!(c.upstreams.len(), 1);
    let u = &c.upstreams[0];
    assert_eq!(u.name, "default");
    assert_eq!(u.url, "http://127.0.0.1:5052");
    assert_eq!(u.path, "/status");
    assert_eq!((u.target.host.as_str(), u.target.port), ("127.0.0.1", 5052));
}

#[test]
fn help_defaults_match_the_parsed_defaults() {
    let base = config(&[], &[]);
    for f in FLAGS {
        if let DefaultValue::Literal(v) = f.default {
            let arg = format!("--{}={v}", f.name);
            assert_eq!(config(&[&arg], &[]), base, "{arg}");
        }
    }
}

#[test]
fn flag_table_is_consistent() {
    for (i, f) in FLAGS.iter().enumerate() {
        assert_eq!(flags::by_id(f.id).name, f.name);
        assert!(f.env.starts_with("LEANPOINT_"), "{}", f.env);
        for g in &FLAGS[i + 1..] {
            assert_ne!(f.id, g.id);
            assert_ne!(f.name, g.name);
            assert_ne!(f.env, g.env);
        }
    }
}

#[test]
fn usage_lists_every_flag_env_var_and_default() {
    let u = usage();
    for f in FLAGS {
        assert!(u.contains(&format!("--{}", f.name)), "{}", f.name);
        assert!(u.contains(&format!("[env {}]", f.env)), "{}", f.env);
        if let DefaultValue::Literal(v) = f.default {
            assert!(u.contains(&format!("[default {v}]")), "{v}");
        }
    }
    assert!(u.contains("-h, --help"));
    assert!(u.contains("[default same as --timeout-ms]"));
}

#[test]
fn env_vars_are_read() {
    let c = config(
        &[],
        &[
            ("LEANPOINT_BIND_ADDR", "::"),
            ("LEANPOINT_BIND_PORT", "8080"),
            ("LEANPOINT_LEAN_URL", "http://node:9000/api/"),
            ("LEANPOINT_LEAN_PATH", "health"),
            ("LEANPOINT_POLL_MS", "2000"),
            ("LEANPOINT_TIMEOUT_MS", "1000"),
            ("LEANPOINT_CONNECT_TIMEOUT_MS", "300"),
            ("LEANPOINT_POLL_CONCURRENCY", "8"),
            ("LEANPOINT_STALE_MS", "9000"),
            ("LEANPOINT_STATIC_DIR", "/srv/www"),
            ("LEANPOINT_STATIC_MAX_BYTES", "4096"),
            ("LEANPOINT_LOG_LEVEL", "DEBUG"),
            ("LEANPOINT_LOG_FORMAT", "json"),
            ("LEANPOINT_MAX_CONNECTIONS", "10"),
            ("LEANPOINT_MAX_STATE_BYTES", "1000"),
            ("LEANPOINT_HEADER_TIMEOUT_MS", "11"),
            ("LEANPOINT_IDLE_TIMEOUT_MS", "12"),
            ("LEANPOINT_WRITE_TIMEOUT_MS", "13"),
            ("LEANPOINT_FD_PRESSURE_PERCENT", "100"),
            ("LEANPOINT_HISTORY_LEN", "0"),
            ("LEANPOINT_REQUIRE_IDENTICAL_STATE", "1"),
        ],
    );
    assert_eq!(c.bind, "::".parse::<IpAddr>().unwrap());
    assert_eq!(c.port, 8080);
    assert_eq!(c.lean_url, "http://node:9000/api/");
    assert_eq!(c.lean_path, "/health");
    assert_eq!(c.upstreams[0].url, "http://node:9000/api/");
    assert_eq!(c.upstreams[0].path, "/health");
    assert_eq!(c.upstreams[0].target.prefix, "/api");
    assert_eq!(
        (c.poll_ms, c.timeout_ms, c.connect_timeout_ms, c.stale_ms),
        (2000, 1000, 300, 9000)
    );
    assert_eq!(c.poll_concurrency, 8);
    assert_eq!(c.static_dir, Some(PathBuf::from("/srv/www")));
    assert_eq!(c.static_max_bytes, 4096);
    assert_eq!(c.log_level, "debug");
    assert_eq!(c.log_format, LogFormat::Json);
    assert_eq!((c.max_connections, c.max_state_bytes), (10, 1000));
    assert_eq!(
        (c.header_timeout_ms, c.idle_timeout_ms, c.write_timeout_ms),
        (11, 12, 13)
    );
    assert_eq!((c.fd_pressure_percent, c.history_len), (100, 0));
    assert!(c.require_identical_state);
}

#[test]
fn flags_override_env_vars() {
    let env = [
        ("LEANPOINT_BIND_ADDR", "10.0.0.1"),
        ("LEANPOINT_BIND_PORT", "1"),
        ("LEANPOINT_POLL_MS", "1"),
        ("LEANPOINT_LEAN_URL", "http://env:1"),
        ("LEANPOINT_UPSTREAMS_CONFIG", "missing.json"),
        ("LEANPOINT_REQUIRE_IDENTICAL_STATE", "true"),
        ("LEANPOINT_LOG_LEVEL", "trace"),
    ];
    let c = config(
        &[
            "--bind",
            "127.0.0.1",
            "--port=2",
            "--poll-ms",
            "3",
            "--lean-url",
            "http://flag:4",
            "--upstreams-config",
            "ups.json",
            "--require-identical-state=false",
            "--log-level=warn",
        ],
        &env,
    );
    assert_eq!(c.bind, "127.0.0.1".parse::<IpAddr>().unwrap());
    assert_eq!((c.port, c.poll_ms), (2, 3));
    assert_eq!(c.lean_url, "http://flag:4");
    assert_eq!(c.upstreams_config, Some(PathBuf::from("ups.json")));
    assert!(!c.require_identical_state);
    assert_eq!(c.log_level, "warn");
}

#[test]
fn a_good_flag_hides_a_bad_env_var() {
    let c = config(&["--port", "7"], &[("LEANPOINT_BIND_PORT", "nope")]);
    assert_eq!(c.port, 7);
}

#[test]
fn empty_env_var_counts_as_unset() {
    let c = config(
        &[],
        &[
            ("LEANPOINT_BIND_PORT", ""),
            ("LEANPOINT_STATIC_DIR", ""),
            ("LEANPOINT_UPSTREAMS_CONFIG", ""),
        ],
    );
    assert_eq!(c.port, 5555);
    assert_eq!(c.static_dir, None);
    assert_eq!(c.upstreams_config, None);
}

#[test]
fn last_flag_wins() {
    assert_eq!(config(&["--port", "1", "--port=2"], &[]).port, 2);
}

#[test]
fn upstreams_file_from_flag_or_env() {
    for c in [
        config(&["--upstreams-config", "ups.json"], &[]),
        config(&[], &[("LEANPOINT_UPSTREAMS_CONFIG", "ups.json")]),
    ] {
        assert_eq!(c.upstreams.len(), 1);
        let u = &c.upstreams[0];
        assert_eq!(
            (u.name.as_str(), u.url.as_str()),
            ("zeam_0", "http://127.0.0.1:5052")
        );
        assert_eq!(u.path, "/status");
    }
}

#[test]
fn lean_url_is_not_used_in_file_mode() {
    let c = config(
        &["--upstreams-config=ups.json", "--lean-url=https://x:1"],
        &[],
    );
    assert_eq!(c.upstreams[0].name, "zeam_0");
}

#[test]
fn unreadable_or_bad_upstreams_file() {
    assert_eq!(
        error(&["--upstreams-config", "nope.json"], &[]),
        "--upstreams-config: cannot read upstreams file nope.json: No such file or directory (os error 2)"
    );
    assert!(error(&[], &[("LEANPOINT_UPSTREAMS_CONFIG", "nope.json")])
        .starts_with("LEANPOINT_UPSTREAMS_CONFIG: cannot read upstreams file nope.json: "));
    assert!(error(&["--upstreams-config", "bad.json"], &[])
        .starts_with("upstreams file bad.json: \"upstreams\" is empty"));
}

#[test]
fn bad_lean_url_names_its_origin() {
    let e = error(&["--lean-url", "https://127.0.0.1:5052"], &[]);
    assert!(
        e.starts_with("--lean-url: \"https://127.0.0.1:5052\": TLS is not supported"),
        "{e}"
    );
    let e = error(&[], &[("LEANPOINT_LEAN_URL", "http://x:")]);
    assert!(
        e.starts_with("LEANPOINT_LEAN_URL: \"http://x:\": missing port"),
        "{e}"
    );
}

#[test]
fn stale_ms_0_means_never_stale() {
    assert_eq!(config(&["--stale-ms=0"], &[]).stale_ms, u64::MAX);
    assert_eq!(
        config(&[], &[("LEANPOINT_STALE_MS", "0")]).stale_ms,
        u64::MAX
    );
    assert_eq!(config(&["--stale-ms=1"], &[]).stale_ms, 1);
}

#[test]
fn a_lean_url_without_a_port_means_port_80() {
    let c = config(&["--lean-url", "http://127.0.0.1"], &[]);
    assert_eq!(c.upstreams[0].target.port, 80);
    assert_eq!(c.upstreams[0].target.host_header(), "127.0.0.1:80");
    let c = config(&[], &[("LEANPOINT_LEAN_URL", "http://lean.example/api")]);
    assert_eq!(
        (
            c.upstreams[0].target.port,
            c.upstreams[0].target.prefix.as_str()
        ),
        (80, "/api")
    );
}

#[test]
fn lean_path_gains_a_leading_slash() {
    assert_eq!(config(&["--lean-path", "health"], &[]).lean_path, "/health");
    assert_eq!(config(&["--lean-path=/h"], &[]).upstreams[0].path, "/h");
}

#[test]
fn help_wins() {
    assert_eq!(run(&["--help"], &[]), Ok(Command::Help));
    assert_eq!(run(&["-h"], &[]), Ok(Command::Help));
    assert_eq!(run(&["--bogus", "--help"], &[]), Ok(Command::Help));
    assert_eq!(run(&["--port", "--help"], &[]), Ok(Command::Help));
    assert_eq!(
        run(&["--port=x", "-h"], &[("LEANPOINT_POLL_MS", "x")]),
        Ok(Command::Help)
    );
    assert_eq!(error(&["--help=yes"], &[]), "--help takes no value");
}

#[test]
fn bad_arguments() {
    assert_eq!(
        error(&["--bogus"], &[]),
        "unknown flag \"--bogus\"; see --help"
    );
    assert_eq!(
        error(&["--bogus=1"], &[]),
        "unknown flag \"--bogus\"; see --help"
    );
    assert_eq!(error(&["-p"], &[]), "unknown flag \"-p\"; see --help");
    assert_eq!(error(&["--"], &[]), "unknown flag \"--\"; see --help");
    assert_eq!(
        error(&["5555"], &[]),
        "unexpected argument \"5555\"; see --help"
    );
    assert_eq!(error(&["--port"], &[]), "--port: missing value");
    assert_eq!(
        error(&["--static-dir", "--port", "1"], &[]),
        "--static-dir: missing value"
    );
    assert_eq!(
        error(&["--port", "1", "--x"], &[]),
        "unknown flag \"--x\"; see --help"
    );
}

#[test]
fn bad_numbers() {
    assert_eq!(
        error(&["--poll-ms", "abc"], &[]),
        "--poll-ms: \"abc\" is not a number"
    );
    assert_eq!(
        error(&["--poll-ms", "-5"], &[]),
        "--poll-ms: \"-5\" is negative"
    );
    assert_eq!(
        error(&["--poll-ms=0"], &[]),
        "--poll-ms: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&["--timeout-ms=0"], &[]),
        "--timeout-ms: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&["--poll-ms="], &[]),
        "--poll-ms: empty value; expected a number"
    );
    assert_eq!(
        error(&["--poll-ms=1.5"], &[]),
        "--poll-ms: \"1.5\" is not a number"
    );
    assert_eq!(
        error(&["--poll-ms=+5"], &[]),
        "--poll-ms: \"+5\" is not a number"
    );
    assert_eq!(
        error(&["--stale-ms=99999999999999999999"], &[]),
        "--stale-ms: \"99999999999999999999\" is too large"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_POLL_MS", "ten")]),
        "LEANPOINT_POLL_MS: \"ten\" is not a number"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_TIMEOUT_MS", " 5")]),
        "LEANPOINT_TIMEOUT_MS: \" 5\" is not a number"
    );
    assert_eq!(
        error(&["--max-connections=0"], &[]),
        "--max-connections: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&["--max-state-bytes=0"], &[]),
        "--max-state-bytes: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&["--static-max-bytes=0"], &[]),
        "--static-max-bytes: 0 is not allowed; the smallest value is 1"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_STATIC_MAX_BYTES", "64MiB")]),
        "LEANPOINT_STATIC_MAX_BYTES: \"64MiB\" is not a number"
    );
    assert_eq!(
        error(&["--connect-timeout-ms=0"], &[]),
        "--connect-timeout-ms: 0 is not allowed; the smallest value is 1"
    );
    for f in [
        "--header-timeout-ms=0",
        "--idle-timeout-ms=0",
        "--write-timeout-ms=0",
    ] {
        assert!(
            error(&[f], &[]).ends_with(": 0 is not allowed; the smallest value is 1"),
            "{f}"
        );
    }
    assert_eq!(
        error(&["--history-len=1000001"], &[]),
        "--history-len: 1000001 is larger than 1000000"
    );
    assert_eq!(
        error(&["--poll-concurrency=-1"], &[]),
        "--poll-concurrency: \"-1\" is negative"
    );
}

#[test]
fn ports() {
    assert_eq!(config(&["--port", "0"], &[]).port, 0);
    assert_eq!(config(&["--port", "65535"], &[]).port, 65535);
    assert_eq!(
        error(&["--port", "65536"], &[]),
        "--port: port 65536 is out of range 0..=65535"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_BIND_PORT", "70000")]),
        "LEANPOINT_BIND_PORT: port 70000 is out of range 0..=65535"
    );
}

#[test]
fn bind_addresses() {
    assert_eq!(
        config(&["--bind", "::1"], &[]).bind,
        "::1".parse::<IpAddr>().unwrap()
    );
    assert_eq!(
        config(&["--bind", "[::1]"], &[]).bind,
        "::1".parse::<IpAddr>().unwrap()
    );
    assert_eq!(
        error(&["--bind", "localhost"], &[]),
        "--bind: \"localhost\" is not an IPv4 or IPv6 address"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_BIND_ADDR", "1.2.3.256")]),
        "LEANPOINT_BIND_ADDR: \"1.2.3.256\" is not an IPv4 or IPv6 address"
    );
}

#[test]
fn connect_timeout_defaults_to_and_is_clamped_by_timeout() {
    let c = config(&["--timeout-ms=700"], &[]);
    assert_eq!(c.connect_timeout_ms, 700);
    let c = config(&["--timeout-ms=700", "--connect-timeout-ms=5000"], &[]);
    assert_eq!(c.connect_timeout_ms, 700);
    let c = config(&["--timeout-ms=700", "--connect-timeout-ms=200"], &[]);
    assert_eq!(c.connect_timeout_ms, 200);
}

#[test]
fn poll_concurrency_zero_means_default() {
    assert_eq!(config(&["--poll-concurrency=0"], &[]).poll_concurrency, 64);
    assert_eq!(config(&["--poll-concurrency=3"], &[]).poll_concurrency, 3);
}

#[test]
fn fd_pressure_percent_range() {
    assert_eq!(
        config(&["--fd-pressure-percent=1"], &[]).fd_pressure_percent,
        1
    );
    assert_eq!(
        error(&["--fd-pressure-percent=0"], &[]),
        "--fd-pressure-percent: 0 is out of range 1..=100"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_FD_PRESSURE_PERCENT", "101")]),
        "LEANPOINT_FD_PRESSURE_PERCENT: 101 is out of range 1..=100"
    );
}

#[test]
fn log_settings() {
    let c = config(&["--log-level", "Trace", "--log-format", "JSON"], &[]);
    assert_eq!(
        (c.log_level.as_str(), c.log_format),
        ("trace", LogFormat::Json)
    );
    assert_eq!(
        error(&["--log-level=verbose"], &[]),
        "--log-level: \"verbose\" is not one of error, warn, info, debug, trace"
    );
    assert_eq!(
        error(&[], &[("LEANPOINT_LOG_FORMAT", "xml")]),
        "LEANPOINT_LOG_FORMAT: \"xml\" is not one of text, json"
    );
}

#[test]
fn require_identical_state_switch() {
    assert!(config(&["--require-identical-state"], &[]).require_identical_state);
    assert!(config(&["--require-identical-state=TRUE"], &[]).require_identical_state);
    assert!(!config(&["--require-identical-state=0"], &[]).require_identical_state);
    for v in ["true", "1"] {
        let c = config(&[], &[("LEANPOINT_REQUIRE_IDENTICAL_STATE", v)]);
        assert!(c.require_identical_state, "{v}");
    }
    for v in ["false", "0"] {
        let c = config(&[], &[("LEANPOINT_REQUIRE_IDENTICAL_STATE", v)]);
        assert!(!c.require_identical_state, "{v}");
    }
    assert_eq!(
        error(&[], &[("LEANPOINT_REQUIRE_IDENTICAL_STATE", "yes")]),
        "LEANPOINT_REQUIRE_IDENTICAL_STATE: \"yes\" is not a boolean; expected true, false, 1 or 0"
    );
    // A switch takes no separate value: the next word is an argument of its own.
    assert_eq!(
        error(&["--require-identical-state", "false"], &[]),
        "unexpected argument \"false\"; see --help"
    );
}

#[test]
fn control_characters_cannot_break_the_line() {
    let e = error(&["--bog\nus"], &[]);
    assert!(e.contains("\\n"), "{e}");
    let e = error(&["--port", "1\n2"], &[]);
    assert_eq!(e, "--port: \"1\\n2\" is not a number");
}

#[path = "check_tests.rs"]
mod check;

#[path = "admission_tests.rs"]
mod admission;

#[path = "access_log_tests.rs"]
mod access_log;
