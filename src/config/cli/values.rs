//! Typed reading of one setting's text, with errors naming where it came from (the flag
//! or the `LEANPOINT_*` variable) and what is wrong.

use crate::config::{AccessLogDest, AccessLogFormat, ConfigError, LogFormat};
use std::net::IpAddr;
use std::path::PathBuf;

/// The log levels `--log-level` accepts.
pub(super) const LOG_LEVELS: [&str; 5] = ["error", "warn", "info", "debug", "trace"];

/// One setting's text and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Setting {
    /// `--flag` or `LEANPOINT_VAR`.
    pub origin: String,
    pub value: String,
}

impl Setting {
    /// An error about this setting.
    pub fn fail(&self, msg: impl std::fmt::Display) -> ConfigError {
        ConfigError::new(format!("{}: {msg}", self.origin))
    }

    /// A non-negative integer.
    pub fn u64(&self) -> Result<u64, ConfigError> {
        let v = self.value.as_str();
        if v.is_empty() {
            return Err(self.fail("empty value; expected a number"));
        }
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if v.strip_prefix('-').is_some_and(digits) {
            return Err(self.fail(format_args!("{v:?} is negative")));
        }
        if !digits(v) {
            return Err(self.fail(format_args!("{v:?} is not a number")));
        }
        v.parse()
            .map_err(|_| self.fail(format_args!("{v:?} is too large")))
    }

    /// An integer greater than 0.
    pub fn positive_u64(&self) -> Result<u64, ConfigError> {
        match self.u64()? {
            0 => Err(self.fail("0 is not allowed; the smallest value is 1")),
            n => Ok(n),
        }
    }

    /// An integer that fits `usize`.
    pub fn usize(&self) -> Result<usize, ConfigError> {
        let n = self.u64()?;
        usize::try_from(n).map_err(|_| self.fail(format_args!("{n} is too large")))
    }

    /// A `usize` greater than 0.
    pub fn positive_usize(&self) -> Result<usize, ConfigError> {
        match self.usize()? {
            0 => Err(self.fail("0 is not allowed; the smallest value is 1")),
            n => Ok(n),
        }
    }

    /// A `usize` no larger than `max`.
    pub fn usize_at_most(&self, max: usize) -> Result<usize, ConfigError> {
        match self.usize()? {
            n if n > max => Err(self.fail(format_args!("{n} is larger than {max}"))),
            n => Ok(n),
        }
    }

    /// A TCP port, 0 included (0 asks the kernel for a free one).
    pub fn port(&self) -> Result<u16, ConfigError> {
        let n = self.u64()?;
        u16::try_from(n).map_err(|_| self.fail(format_args!("port {n} is out of range 0..=65535")))
    }

    /// A percentage in 1..=100.
    pub fn percent(&self) -> Result<u8, ConfigError> {
        match self.u64()? {
            n @ 1..=100 => u8::try_from(n).map_err(|_| self.fail("out of range 1..=100")),
            n => Err(self.fail(format_args!("{n} is out of range 1..=100"))),
        }
    }

    /// A file or folder name (not checked here: `main` opens it).
    pub fn path(&self) -> Result<PathBuf, ConfigError> {
        if self.value.is_empty() {
            return Err(self.fail("empty value; expected a path"));
        }
        Ok(PathBuf::from(&self.value))
    }

    /// An IPv4 or IPv6 literal (brackets around IPv6 are tolerated).
    pub fn ip(&self) -> Result<IpAddr, ConfigError> {
        let v = self.value.as_str();
        let bare = v
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(v);
        bare.parse()
            .map_err(|_| self.fail(format_args!("{v:?} is not an IPv4 or IPv6 address")))
    }

    /// `true`/`false`/`1`/`0` (case-insensitive).
    pub fn bool(&self) -> Result<bool, ConfigError> {
        let v = self.value.as_str();
        if v == "1" || v.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if v == "0" || v.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err(self.fail(format_args!(
                "{v:?} is not a boolean; expected true, false, 1 or 0"
            )))
        }
    }

    /// One of [`LOG_LEVELS`], returned lower-case.
    pub fn log_level(&self) -> Result<String, ConfigError> {
        let v = self.value.to_ascii_lowercase();
        if LOG_LEVELS.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(self.fail(format_args!(
                "{:?} is not one of {}",
                self.value,
                LOG_LEVELS.join(", ")
            )))
        }
    }

    /// `-` or `stderr` (case-insensitive) for stderr, else a file name.
    pub fn access_log(&self) -> Result<AccessLogDest, ConfigError> {
        let v = self.value.as_str();
        if v == "-" || v.eq_ignore_ascii_case("stderr") {
            Ok(AccessLogDest::Stderr)
        } else {
            self.path().map(AccessLogDest::File)
        }
    }

    /// `json` or `common`.
    pub fn access_log_format(&self) -> Result<AccessLogFormat, ConfigError> {
        let v = self.value.as_str();
        if v.eq_ignore_ascii_case("json") {
            Ok(AccessLogFormat::Json)
        } else if v.eq_ignore_ascii_case("common") {
            Ok(AccessLogFormat::Common)
        } else {
            Err(self.fail(format_args!("{v:?} is not one of json, common")))
        }
    }

    /// `text` or `json`.
    pub fn log_format(&self) -> Result<LogFormat, ConfigError> {
        let v = self.value.as_str();
        if v.eq_ignore_ascii_case("text") {
            Ok(LogFormat::Text)
        } else if v.eq_ignore_ascii_case("json") {
            Ok(LogFormat::Json)
        } else {
            Err(self.fail(format_args!("{v:?} is not one of text, json")))
        }
    }
}
