//! Flags and `LEANPOINT_*` environment variables (flags win), defaults of the original.
//!
//! The table of flags lives in `cli/flags.rs`, typed value parsing in `cli/values.rs`.
//! Every error is one line naming the flag, variable or file and what is wrong.

mod flags;
mod upstreams;
mod values;

use super::upstreams_file::normalize_path;
use super::{one_line, AccessLogDest, AccessLogFormat, Config, ConfigError, LogFormat};
use flags::{Flag, Id};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use upstreams::{legacy_upstream, read_upstreams};
use values::Setting;

/// Default `--bind`.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);
/// Default `--port`.
pub const DEFAULT_PORT: u16 = 5555;
/// Default `--lean-url`.
pub const DEFAULT_LEAN_URL: &str = "http://127.0.0.1:5052";
/// Default `--lean-path`.
pub const DEFAULT_LEAN_PATH: &str = "/status";
/// Default `--poll-ms`.
pub const DEFAULT_POLL_MS: u64 = 10_000;
/// Default `--timeout-ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
/// Default `--poll-concurrency` (also what `0` means).
pub const DEFAULT_POLL_CONCURRENCY: usize = 64;
/// Default `--stale-ms`.
pub const DEFAULT_STALE_MS: u64 = 30_000;
/// Default `--static-max-bytes` (64 MiB).
pub const DEFAULT_STATIC_MAX_BYTES: u64 = 64 << 20;
/// Default `--log-level`.
pub const DEFAULT_LOG_LEVEL: &str = "info";
/// Default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default `--max-state-bytes` (64 MiB).
pub const DEFAULT_MAX_STATE_BYTES: usize = 64 << 20;
/// Default `--header-timeout-ms`.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Default `--idle-timeout-ms`.
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default `--write-timeout-ms`.
pub const DEFAULT_WRITE_TIMEOUT_MS: u64 = 30_000;
/// Default `--head-grace-ms`.
pub const DEFAULT_HEAD_GRACE_MS: u64 = 150;
/// Largest `--listen-backlog` accepted.
pub const MAX_LISTEN_BACKLOG: usize = 65_535;
/// Default `--fd-pressure-percent`.
pub const DEFAULT_FD_PRESSURE_PERCENT: u8 = 90;
/// Default `--history-len`.
pub const DEFAULT_HISTORY_LEN: usize = 64;
/// Default `--split-retry-ms`.
pub const DEFAULT_SPLIT_RETRY_MS: u64 = 1000;
/// Largest `--history-len` accepted.
pub const MAX_HISTORY_LEN: usize = 1_000_000;
/// Name of the single upstream of legacy mode.
pub const DEFAULT_UPSTREAM_NAME: &str = "default";

/// What the command line asks for.
// Built once at start-up and moved out at once: boxing the config would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Run with this configuration.
    Run(Config),
    /// Print [`usage`] and exit 0.
    Help,
    /// `--check-config`: every problem of the flags, environment and upstreams file (each
    /// one line), or none; nothing is bound.
    Check {
        problems: Vec<String>,
        /// Usable upstreams found.
        upstreams: usize,
    },
}

/// Parses `args` (without the program name). `env` looks up an environment variable;
/// `read_file` reads the upstreams file (errors are reported naming the file).
///
/// `--help`/`-h` anywhere (not as another flag's value) wins over any error.
pub fn parse_command_line(
    args: &[String],
    env: &dyn Fn(&str) -> Option<String>,
    read_file: &dyn Fn(&std::path::Path) -> std::io::Result<String>,
) -> Result<Command, ConfigError> {
    let (given, mut problems) = match scan(args) {
        Scan::Help => return Ok(Command::Help),
        Scan::Flags { given, errors } => (given, errors),
    };
    let settings = Settings { given, env };
    let check = take(
        &mut problems,
        settings.read(Id::CheckConfig, Setting::bool, false),
        false,
    );
    let config = build(&settings, read_file, &mut problems);
    if check {
        let mut lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        lines.extend(config.upstreams.iter().filter_map(|u| u.problem.clone()));
        return Ok(Command::Check {
            problems: lines,
            upstreams: config.upstreams.iter().filter(|u| u.is_usable()).count(),
        });
    }
    match problems.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(Command::Run(config)),
    }
}

/// The value of `result`, or `fallback` with its error kept in `problems` (so that every
/// problem is found, not just the first).
fn take<T>(problems: &mut Vec<ConfigError>, result: Result<T, ConfigError>, fallback: T) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            problems.push(e);
            fallback
        }
    }
}

/// The `--help` text: every flag with its env var and default.
pub fn usage() -> String {
    flags::render_usage()
}

/// The arguments, tokenized.
enum Scan {
    Help,
    /// The flags given, in order, and the bad arguments.
    Flags {
        given: Vec<(&'static Flag, String)>,
        errors: Vec<ConfigError>,
    },
}

fn scan(args: &[String]) -> Scan {
    let mut errors = Vec::new();
    let mut given = Vec::new();
    let mut args = args.iter().peekable();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Scan::Help;
        }
        let result = (|| {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(ConfigError::new(if arg.starts_with('-') {
                    format!("unknown flag {:?}; see --help", one_line(arg))
                } else {
                    format!("unexpected argument {:?}; see --help", one_line(arg))
                }));
            };
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (name, Some(value)),
                None => (body, None),
            };
            if name == "help" {
                return Err(ConfigError::new("--help takes no value"));
            }
            let Some(flag) = flags::find(name) else {
                return Err(ConfigError::new(format!(
                    "unknown flag \"--{}\"; see --help",
                    one_line(name)
                )));
            };
            let value = match (inline, flag.metavar) {
                (Some(v), _) => v.to_string(),
                (None, None) => "true".to_string(),
                (None, Some(_)) => match args.next_if(|next| !next.starts_with("--")) {
                    Some(v) => v.clone(),
                    None => return Err(ConfigError::new(format!("--{}: missing value", name))),
                },
            };
            Ok((flag, value))
        })();
        match result {
            Ok(pair) => given.push(pair),
            Err(e) => errors.push(e),
        }
    }
    Scan::Flags { given, errors }
}

/// Flags given, over the environment.
struct Settings<'a> {
    given: Vec<(&'static Flag, String)>,
    env: &'a dyn Fn(&str) -> Option<String>,
}

impl Settings<'_> {
    /// The text of a setting: the last flag given, else a non-empty variable, else none.
    fn get(&self, id: Id) -> Option<Setting> {
        if let Some((flag, value)) = self.given.iter().rev().find(|(f, _)| f.id == id) {
            return Some(Setting {
                origin: format!("--{}", flag.name),
                value: value.clone(),
            });
        }
        let flag = flags::by_id(id);
        (self.env)(flag.env)
            .filter(|v| !v.is_empty())
            .map(|value| Setting {
                origin: flag.env.to_string(),
                value,
            })
    }

    /// A typed setting, or `default` when unset.
    fn read<T>(
        &self,
        id: Id,
        parse: impl Fn(&Setting) -> Result<T, ConfigError>,
        default: T,
    ) -> Result<T, ConfigError> {
        match self.get(id) {
            Some(s) => parse(&s),
            None => Ok(default),
        }
    }
}

/// Reads settings, collecting problems: a setting with a problem takes its default.
struct Collect<'a, 'b> {
    s: &'a Settings<'b>,
    problems: &'a mut Vec<ConfigError>,
}

impl Collect<'_, '_> {
    /// The setting `id` parsed by `parse`, or `default` when unset or bad (the problem
    /// is collected).
    fn or<T: Clone>(
        &mut self,
        id: Id,
        parse: impl Fn(&Setting) -> Result<T, ConfigError>,
        default: T,
    ) -> T {
        take(
            self.problems,
            self.s.read(id, parse, default.clone()),
            default,
        )
    }

    /// A positive integer setting (ms, bytes), or `default`.
    fn positive_u64(&mut self, id: Id, default: u64) -> u64 {
        self.or(id, Setting::positive_u64, default)
    }

    /// A positive count setting, or `default`.
    fn positive_usize(&mut self, id: Id, default: usize) -> usize {
        self.or(id, Setting::positive_usize, default)
    }
}

/// The configuration; a setting with a problem takes its default and the problem goes to
/// `problems`.
fn build(
    s: &Settings<'_>,
    read_file: &dyn Fn(&Path) -> std::io::Result<String>,
    problems: &mut Vec<ConfigError>,
) -> Config {
    let mut c = Collect { s, problems };
    let bind = c.or(Id::Bind, Setting::ip, DEFAULT_BIND);
    let port = c.or(Id::Port, Setting::port, DEFAULT_PORT);
    let lean_url = s.get(Id::LeanUrl);
    let lean_path = c.or(
        Id::LeanPath,
        |v| Ok(normalize_path(&v.value)),
        DEFAULT_LEAN_PATH.to_string(),
    );
    let poll_ms = c.positive_u64(Id::PollMs, DEFAULT_POLL_MS);
    let timeout_ms = c.positive_u64(Id::TimeoutMs, DEFAULT_TIMEOUT_MS);
    let connect_timeout_ms = c
        .positive_u64(Id::ConnectTimeoutMs, timeout_ms)
        .min(timeout_ms);
    let poll_concurrency = match c.or(Id::PollConcurrency, Setting::usize, 0) {
        0 => DEFAULT_POLL_CONCURRENCY,
        n => n,
    };
    // 0 means never stale: the agreed checkpoint is served however old it is.
    let stale_ms = match c.or(Id::StaleMs, Setting::u64, DEFAULT_STALE_MS) {
        0 => u64::MAX,
        ms => ms,
    };
    let static_dir = take(
        c.problems,
        s.get(Id::StaticDir).map(|v| v.path()).transpose(),
        None,
    );
    let listen_backlog = take(c.problems, listen_backlog(s), None);
    let admin_addr = take(c.problems, admin_addr(s, bind), None);
    let split_retry_ms = c
        .positive_u64(Id::SplitRetryMs, DEFAULT_SPLIT_RETRY_MS)
        .min(poll_ms);
    let (access_log, access_log_format) = access_log(s, c.problems);

    let upstreams_config = s.get(Id::UpstreamsConfig);
    let upstreams = match &upstreams_config {
        Some(file) => take(c.problems, read_upstreams(file, read_file), Vec::new()),
        None => take(
            c.problems,
            legacy_upstream(lean_url.as_ref(), &lean_path).map(|u| vec![u]),
            Vec::new(),
        ),
    };
    let upstreams_config = upstreams_config.map(|f| PathBuf::from(f.value));
    Config {
        bind,
        port,
        upstreams_config,
        upstreams,
        lean_url: lean_url.map_or_else(|| DEFAULT_LEAN_URL.to_string(), |u| u.value),
        lean_path,
        poll_ms,
        timeout_ms,
        connect_timeout_ms,
        poll_concurrency,
        stale_ms,
        static_dir,
        static_max_bytes: c.positive_u64(Id::StaticMaxBytes, DEFAULT_STATIC_MAX_BYTES),
        log_level: c.or(Id::LogLevel, Setting::log_level, DEFAULT_LOG_LEVEL.into()),
        log_format: c.or(Id::LogFormat, Setting::log_format, LogFormat::Text),
        max_connections: c.positive_usize(Id::MaxConnections, DEFAULT_MAX_CONNECTIONS),
        max_state_bytes: c.positive_usize(Id::MaxStateBytes, DEFAULT_MAX_STATE_BYTES),
        header_timeout_ms: c.positive_u64(Id::HeaderTimeoutMs, DEFAULT_HEADER_TIMEOUT_MS),
        idle_timeout_ms: c.positive_u64(Id::IdleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
        write_timeout_ms: c.positive_u64(Id::WriteTimeoutMs, DEFAULT_WRITE_TIMEOUT_MS),
        head_grace_ms: c.positive_u64(Id::HeadGraceMs, DEFAULT_HEAD_GRACE_MS),
        listen_backlog,
        admin_addr,
        fd_pressure_percent: c.or(
            Id::FdPressurePercent,
            Setting::percent,
            DEFAULT_FD_PRESSURE_PERCENT,
        ),
        history_len: c.or(
            Id::HistoryLen,
            |v| v.usize_at_most(MAX_HISTORY_LEN),
            DEFAULT_HISTORY_LEN,
        ),
        split_retry_ms,
        require_identical_state: c.or(Id::RequireIdenticalState, Setting::bool, false),
        access_log,
        access_log_format,
    }
}

/// `--listen-backlog`, when set.
fn listen_backlog(s: &Settings<'_>) -> Result<Option<u32>, ConfigError> {
    s.get(Id::ListenBacklog)
        .map(|v| match v.usize_at_most(MAX_LISTEN_BACKLOG)? {
            0 => Err(v.fail("0 is not allowed; the smallest value is 1")),
            n => u32::try_from(n).map_err(|_| v.fail("too large")),
        })
        .transpose()
}

/// `--access-log` and `--access-log-format` (the format is read, and checked, even
/// without a log).
fn access_log(
    s: &Settings<'_>,
    problems: &mut Vec<ConfigError>,
) -> (Option<AccessLogDest>, AccessLogFormat) {
    let dest = s.get(Id::AccessLog).map(|v| v.access_log()).transpose();
    let json = AccessLogFormat::Json;
    let format = s.read(Id::AccessLogFormat, Setting::access_log_format, json);
    (take(problems, dest, None), take(problems, format, json))
}

/// The admin listener's address: `--admin-port` on `--admin-bind` (default `--bind`).
fn admin_addr(s: &Settings<'_>, bind: IpAddr) -> Result<Option<SocketAddr>, ConfigError> {
    let admin_bind = s.get(Id::AdminBind);
    let ip = admin_bind.as_ref().map(Setting::ip).transpose()?;
    match (s.get(Id::AdminPort), admin_bind) {
        (Some(port), _) => Ok(Some(SocketAddr::new(ip.unwrap_or(bind), port.port()?))),
        (None, Some(b)) => Err(b.fail("the admin listener is off without --admin-port")),
        (None, None) => Ok(None),
    }
}

#[cfg(test)]
mod tests;
