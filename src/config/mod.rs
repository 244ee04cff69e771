//! Configuration: the command line and `LEANPOINT_*` environment of the original
//! leanpoint (flags over env vars), the upstreams JSON file, and URL validation. Pure:
//! the caller passes the arguments, an env lookup and a file reader.

pub mod cli;
pub mod upstreams_file;
pub mod url;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use thiserror::Error;

pub use cli::{parse_command_line, usage, Command};
pub use upstreams_file::{log_misconfigured, parse_upstreams_file};
pub use url::{parse_http_url, HttpUrl};

/// One upstream lean node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamSpec {
    pub name: String,
    /// The URL as configured (shown in the API).
    pub url: String,
    /// Parsed form of `url`.
    pub target: HttpUrl,
    /// Legacy health path (kept for compatibility and shown in the API), starts with `/`.
    pub path: String,
    /// Why the entry cannot be used (a bad URL, a duplicate name, ...): it is shown as
    /// `misconfigured` and never polled. None for a usable upstream.
    pub problem: Option<String>,
}

impl UpstreamSpec {
    /// An entry of the upstreams file that cannot be used, shown with `problem`.
    pub fn misconfigured(name: String, url: String, path: String, problem: String) -> Self {
        UpstreamSpec {
            name,
            url,
            target: HttpUrl {
                host: String::new(),
                port: 0,
                prefix: String::new(),
            },
            path,
            problem: Some(problem),
        }
    }

    /// Whether it is polled.
    pub fn is_usable(&self) -> bool {
        self.problem.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where `--access-log` writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessLogDest {
    /// `-` or `stderr`.
    Stderr,
    /// A file, appended to (created if missing).
    File(PathBuf),
}

/// The line format of `--access-log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessLogFormat {
    /// One JSON object per line.
    Json,
    /// Apache/nginx Common Log Format.
    Common,
}

/// Everything the process runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    /// `--upstreams-config` file, if any (multi-upstream mode; re-read on SIGHUP).
    pub upstreams_config: Option<PathBuf>,
    /// The upstreams: from the file, or the single `--lean-url` one named `default`.
    pub upstreams: Vec<UpstreamSpec>,
    pub lean_url: String,
    pub lean_path: String,
    pub poll_ms: u64,
    /// Whole-request deadline of one upstream request, connect included.
    pub timeout_ms: u64,
    /// Connect deadline (at most `timeout_ms`).
    pub connect_timeout_ms: u64,
    /// Most upstream sockets open at once.
    pub poll_concurrency: usize,
    pub stale_ms: u64,
    pub static_dir: Option<PathBuf>,
    /// Most bytes of files loaded from `static_dir`, in all.
    pub static_max_bytes: u64,
    /// `error`, `warn`, `info`, `debug` or `trace` (`RUST_LOG` overrides when set).
    pub log_level: String,
    pub log_format: LogFormat,
    /// Requested cap of inbound connections (the fd budget may lower it).
    pub max_connections: usize,
    /// Largest accepted SSZ state body.
    pub max_state_bytes: usize,
    /// Inbound request-head deadline (slowloris).
    pub header_timeout_ms: u64,
    /// Inbound keep-alive idle deadline.
    pub idle_timeout_ms: u64,
    /// Inbound write-stall deadline (no progress writing a response).
    pub write_timeout_ms: u64,
    /// At the inbound cap, a connection waiting for its head may be displaced after this.
    pub head_grace_ms: u64,
    /// Listen backlog of the public port (None: the inbound pool, at least 511).
    pub listen_backlog: Option<u32>,
    /// The admin listener (`/healthz`, `/metrics`, `/status`), when enabled.
    pub admin_addr: Option<SocketAddr>,
    /// `/healthz` answers `fd_pressure` above this share (percent) of the fd budget.
    pub fd_pressure_percent: u8,
    /// Agreed checkpoints kept for `/api/history`.
    pub history_len: usize,
    /// Delay before retrying a round that ended split while upstreams answered.
    pub split_retry_ms: u64,
    /// Accepted for compatibility; no effect (the verified root pins the state bytes).
    pub require_identical_state: bool,
    /// `--access-log`: one line per request answered, when set.
    pub access_log: Option<AccessLogDest>,
    pub access_log_format: AccessLogFormat,
}

/// A configuration error: `Display` is the one line printed on stderr before exit 2.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("{0}")]
    Message(String),
}

impl ConfigError {
    /// An error with this one-line message.
    pub fn new(msg: impl Into<String>) -> Self {
        ConfigError::Message(msg.into())
    }
}

/// `s` with control characters escaped, so that a user-supplied name (a file name, a
/// value) cannot break an error message across lines.
pub(crate) fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}
