//! The table of flags: name, `LEANPOINT_*` variable, default and help, shared by the
//! parser and the `--help` text so that the two cannot disagree.

/// Which setting a flag sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Id {
    Bind,
    Port,
    UpstreamsConfig,
    LeanUrl,
    LeanPath,
    PollMs,
    TimeoutMs,
    ConnectTimeoutMs,
    PollConcurrency,
    StaleMs,
    StaticDir,
    StaticMaxBytes,
    LogLevel,
    LogFormat,
    MaxConnections,
    MaxStateBytes,
    HeaderTimeoutMs,
    IdleTimeoutMs,
    WriteTimeoutMs,
    HeadGraceMs,
    ListenBacklog,
    AdminBind,
    AdminPort,
    FdPressurePercent,
    HistoryLen,
    SplitRetryMs,
    AccessLog,
    AccessLogFormat,
    RequireIdenticalState,
    CheckConfig,
}

/// What the `--help` text says about a flag's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DefaultValue {
    /// Unset unless given.
    None,
    /// This value, exactly as it could be typed.
    Literal(&'static str),
    /// Derived from another setting (described).
    Derived(&'static str),
}

/// One flag of the command line.
#[derive(Debug)]
pub(super) struct Flag {
    pub id: Id,
    /// Without the leading `--`.
    pub name: &'static str,
    pub env: &'static str,
    /// `None` for a switch (`--flag` alone means true).
    pub metavar: Option<&'static str>,
    pub default: DefaultValue,
    pub help: &'static str,
}

const fn flag(
    id: Id,
    name: &'static str,
    env: &'static str,
    metavar: &'static str,
    default: DefaultValue,
    help: &'static str,
) -> Flag {
    Flag {
        id,
        name,
        env,
        metavar: Some(metavar),
        default,
        help,
    }
}

use DefaultValue::{Derived, Literal};

/// Every flag, in `--help` order: the original's first, then the new ones.
#[rustfmt::skip]
pub(super) const FLAGS: &[Flag] = &[
    flag(Id::Bind, "bind", "LEANPOINT_BIND_ADDR", "addr", Literal("0.0.0.0"),
        "Listen address, an IPv4 or IPv6 literal"),
    flag(Id::Port, "port", "LEANPOINT_BIND_PORT", "port", Literal("5555"),
        "Listen port (0 picks a free one)"),
    flag(Id::UpstreamsConfig, "upstreams-config", "LEANPOINT_UPSTREAMS_CONFIG", "file",
        DefaultValue::None, "JSON file of upstreams (multi-upstream mode; re-read on SIGHUP)"),
    flag(Id::LeanUrl, "lean-url", "LEANPOINT_LEAN_URL", "url", Literal("http://127.0.0.1:5052"),
        "The single upstream (\"default\") when no upstreams file is given"),
    flag(Id::LeanPath, "lean-path", "LEANPOINT_LEAN_PATH", "path", Literal("/status"),
        "Legacy health path of that upstream, kept for compatibility"),
    flag(Id::PollMs, "poll-ms", "LEANPOINT_POLL_MS", "ms", Literal("10000"),
        "Interval between poll rounds"),
    flag(Id::TimeoutMs, "timeout-ms", "LEANPOINT_TIMEOUT_MS", "ms", Literal("5000"),
        "Deadline of one upstream request, connect included"),
    flag(Id::ConnectTimeoutMs, "connect-timeout-ms", "LEANPOINT_CONNECT_TIMEOUT_MS", "ms",
        Derived("--timeout-ms"), "Deadline of an upstream connect (at most --timeout-ms)"),
    flag(Id::PollConcurrency, "poll-concurrency", "LEANPOINT_POLL_CONCURRENCY", "n",
        Literal("64"), "Most upstream sockets open at once (0 means the default)"),
    flag(Id::StaleMs, "stale-ms", "LEANPOINT_STALE_MS", "ms", Literal("30000"),
        "Agreed data older than this is stale (0: never stale)"),
    flag(Id::StaticDir, "static-dir", "LEANPOINT_STATIC_DIR", "dir", DefaultValue::None,
        "Serve a frontend from this folder instead of the built-in dashboard"),
    flag(Id::StaticMaxBytes, "static-max-bytes", "LEANPOINT_STATIC_MAX_BYTES", "bytes",
        Literal("67108864"), "Most bytes of files loaded from --static-dir in all (64 MiB)"),
    flag(Id::LogLevel, "log-level", "LEANPOINT_LOG_LEVEL", "level", Literal("info"),
        "error, warn, info, debug or trace (RUST_LOG overrides)"),
    flag(Id::LogFormat, "log-format", "LEANPOINT_LOG_FORMAT", "format", Literal("text"),
        "text or json"),
    flag(Id::MaxConnections, "max-connections", "LEANPOINT_MAX_CONNECTIONS", "n",
        Literal("1024"), "Most inbound connections (the fd limit may lower it)"),
    flag(Id::MaxStateBytes, "max-state-bytes", "LEANPOINT_MAX_STATE_BYTES", "bytes",
        Literal("67108864"), "Largest finalized state accepted from an upstream (64 MiB)"),
    flag(Id::HeaderTimeoutMs, "header-timeout-ms", "LEANPOINT_HEADER_TIMEOUT_MS", "ms",
        Literal("10000"), "Deadline for an inbound request head"),
    flag(Id::IdleTimeoutMs, "idle-timeout-ms", "LEANPOINT_IDLE_TIMEOUT_MS", "ms",
        Literal("60000"), "Close an idle keep-alive inbound connection after this"),
    flag(Id::WriteTimeoutMs, "write-timeout-ms", "LEANPOINT_WRITE_TIMEOUT_MS", "ms",
        Literal("30000"), "Close an inbound connection making no write progress this long"),
    flag(Id::HeadGraceMs, "head-grace-ms", "LEANPOINT_HEAD_GRACE_MS", "ms", Literal("150"),
        "At the connection cap, a client still sending its request head may be displaced after this"),
    flag(Id::ListenBacklog, "listen-backlog", "LEANPOINT_LISTEN_BACKLOG", "n",
        Derived("the inbound pool, at least 511"),
        "Listen backlog of the public port (the kernel caps it at net.core.somaxconn)"),
    flag(Id::AdminBind, "admin-bind", "LEANPOINT_ADMIN_BIND", "addr", Derived("--bind"),
        "Admin listener address (needs --admin-port)"),
    flag(Id::AdminPort, "admin-port", "LEANPOINT_ADMIN_PORT", "port", DefaultValue::None,
        "Admin listener for /healthz, /metrics and /status only, with 8 connections of its own (off unless set; 0 picks a free port)"),
    flag(Id::FdPressurePercent, "fd-pressure-percent", "LEANPOINT_FD_PRESSURE_PERCENT",
        "n", Literal("90"),
        "/healthz says fd_pressure when the fds outside the inbound pool exceed this % of their share of the fd limit (1-100)"),
    flag(Id::HistoryLen, "history-len", "LEANPOINT_HISTORY_LEN", "n", Literal("64"),
        "Agreed checkpoints kept for /api/history"),
    flag(Id::SplitRetryMs, "split-retry-ms", "LEANPOINT_SPLIT_RETRY_MS", "ms", Literal("1000"),
        "Retry a round that ended split (answers, no majority) this soon (at most --poll-ms)"),
    flag(Id::AccessLog, "access-log", "LEANPOINT_ACCESS_LOG", "dest", DefaultValue::None,
        "Log every request answered to this file (appended; reopened on SIGHUP), or - or stderr"),
    flag(Id::AccessLogFormat, "access-log-format", "LEANPOINT_ACCESS_LOG_FORMAT", "format",
        Literal("json"), "json (one object per line) or common (Apache/nginx Common Log Format)"),
    Flag {
        id: Id::RequireIdenticalState,
        name: "require-identical-state",
        env: "LEANPOINT_REQUIRE_IDENTICAL_STATE",
        metavar: None,
        default: Literal("false"),
        help: "Accepted for compatibility; always true now: the state served is the one whose root the majority agreed on",
    },
    Flag {
        id: Id::CheckConfig,
        name: "check-config",
        env: "LEANPOINT_CHECK_CONFIG",
        metavar: None,
        default: Literal("false"),
        help: "Validate flags, environment and upstreams file, print every problem, exit 0 or 2 (binds nothing)",
    },
];

/// The flag called `--name`.
pub(super) fn find(name: &str) -> Option<&'static Flag> {
    FLAGS.iter().find(|f| f.name == name)
}

/// The flag with this id.
pub(super) fn by_id(id: Id) -> &'static Flag {
    // Every `Id` has exactly one row (checked by a test); the fallback is unreachable.
    FLAGS.iter().find(|f| f.id == id).unwrap_or(&FLAGS[0])
}

/// The `--help` text.
pub(super) fn render_usage() -> String {
    const COL: usize = 34;
    let mut out = String::from(
        "leanpoint: checkpoint-sync provider and finality monitor for Lean Ethereum devnets\n\
         \n\
         Usage: leanpoint [options]\n\
         \n\
         Options (--flag value or --flag=value; a flag overrides its environment variable,\n\
         and an empty variable counts as unset):\n",
    );
    for f in FLAGS {
        let head = match f.metavar {
            Some(m) => format!("  --{} <{m}>", f.name),
            None => format!("  --{}", f.name),
        };
        let default = match f.default {
            DefaultValue::None => "none".to_string(),
            Literal(v) => v.to_string(),
            Derived(from) => format!("same as {from}"),
        };
        out.push_str(&format!("{head:<COL$}{}\n", f.help));
        out.push_str(&format!("{:COL$}[env {}] [default {default}]\n", "", f.env));
    }
    out.push_str(&format!(
        "{:<COL$}Show this help and exit\n",
        "  -h, --help"
    ));
    out.push_str(
        "\nWith --upstreams-config, leanpoint polls every upstream in the file and serves the\n\
         finalized state that a strict majority of the responding upstreams agree on. The file:\n\
         \x20 {\"upstreams\": [{\"name\": \"zeam_0\", \"url\": \"http://127.0.0.1:5052\", \"path\": \"/status\"}]}\n\
         Upstream URLs are http://host:port[/prefix]; https is not supported.\n\
         \n\
         Exit status: 0 after --help or a clean stop, 2 on a configuration error.\n",
    );
    out
}
