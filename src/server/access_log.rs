//! `--access-log`: one line per reply queued, formatted (`format.rs`, pure) into a
//! bounded in-memory buffer, and written without waiting once per loop iteration (and
//! at once when a burst fills it to [`FLUSH_AT`]), so that a slow disk or reader never
//! stalls the loop and only a sink that does not take the bytes makes lines drop.
//!
//! - The buffer holds at most [`BUFFER_CAP`] bytes; a line that does not fit is dropped
//!   and counted (`leanpoint_access_log_dropped_total`), as are the lines buffered when a
//!   write fails with an error other than "would block" (logged once until writes
//!   succeed again).
//! - A file is opened for appending (created if missing) at start-up, where a failure
//!   stops the process, and reopened on SIGHUP (for logrotate), where a failure keeps the
//!   old file and is logged.
//! - stderr (`-`): a pipe or terminal is reopened through `/proc/self/fd/2` with
//!   `O_NONBLOCK` on the new open file description only (stderr itself stays blocking
//!   for the process logs); a socket (journald) is written with `MSG_DONTWAIT`; a
//!   regular file, or a stderr that cannot be reopened, is written directly (a regular
//!   file write does not wait for a reader). A pipe or socket is watched for
//!   writability (`pollable_fd`), so what a full pipe did not take follows as soon as it
//!   drains, and each write to it is whole lines within `PIPE_BUF`.

pub mod format;

use crate::config::{AccessLogDest, AccessLogFormat};
use crate::server::exchange::Exchange;
use std::cell::RefCell;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Most bytes buffered between two flushes (about 1 MiB, one line more at most).
pub const BUFFER_CAP: usize = 1 << 20;
/// Buffered bytes at which a line is written out at once rather than at the end of the
/// loop iteration (a burst of pipelined requests in one wake-up), so that only a sink
/// that does not take the bytes makes lines drop.
pub const FLUSH_AT: usize = 256 * 1024;
/// Initial capacity of the buffer.
const INITIAL_CAPACITY: usize = 16 * 1024;

/// The access log could not be opened at start-up.
#[derive(Debug, Error)]
#[error("cannot open the access log {path}: {source}")]
pub struct OpenError {
    pub path: String,
    pub source: io::Error,
}

/// Where the bytes go.
enum Sink {
    /// A file given by name, appended to.
    File { file: File, path: PathBuf },
    /// stderr's pipe or terminal, opened anew without blocking.
    Reopened(File),
    /// stderr is a socket: `send` with `MSG_DONTWAIT`.
    Socket,
    /// stderr as it is (a regular file, or one that could not be reopened).
    Stderr,
}

/// Bytes a pipe writes whole or not at all (POSIX `PIPE_BUF` on Linux).
const PIPE_BUF: usize = 4096;

/// The longest prefix of `bytes` made of whole lines within `PIPE_BUF` (or the first
/// line alone when it is longer): written to a pipe in one `write`, it can neither stop
/// mid-line nor be interleaved with the process's own log lines.
fn whole_lines(bytes: &[u8]) -> &[u8] {
    let window = bytes.get(..PIPE_BUF.min(bytes.len())).unwrap_or(bytes);
    match window.iter().rposition(|&b| b == b'\n') {
        Some(end) => bytes.get(..=end).unwrap_or(bytes),
        None => match bytes.iter().position(|&b| b == b'\n') {
            Some(end) => bytes.get(..=end).unwrap_or(bytes),
            None => bytes,
        },
    }
}

impl Sink {
    /// Whether the process's own logs go to the same place (stderr).
    fn shared_with_process_logs(&self) -> bool {
        !matches!(self, Sink::File { .. })
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Sink::File { file, .. } | Sink::Reopened(file) => file.write(bytes),
            Sink::Socket => {
                use nix::sys::socket::{send, MsgFlags};
                let flags = MsgFlags::MSG_DONTWAIT | MsgFlags::MSG_NOSIGNAL;
                send(2, bytes, flags).map_err(io::Error::from)
            }
            Sink::Stderr => io::stderr().write(bytes),
        }
    }
}

struct Inner {
    sink: Sink,
    buf: Vec<u8>,
    /// The last write failed (logged once until one succeeds).
    failing: bool,
}

/// The access log: its format, sink and buffer.
pub struct AccessLog {
    format: AccessLogFormat,
    inner: RefCell<Inner>,
}

/// Opens `path` for appending, without blocking on a FIFO.
fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)
}

/// How to write to stderr without blocking, as far as its kind allows.
fn stderr_sink() -> Sink {
    const FD2: &str = "/proc/self/fd/2";
    let Ok(meta) = std::fs::metadata(FD2) else {
        return Sink::Stderr;
    };
    let kind = meta.file_type();
    if kind.is_socket() {
        Sink::Socket
    } else if kind.is_fifo() || kind.is_char_device() {
        OpenOptions::new()
            .write(true)
            .custom_flags(nix::libc::O_NONBLOCK)
            .open(FD2)
            .map_or(Sink::Stderr, Sink::Reopened)
    } else {
        Sink::Stderr
    }
}

impl AccessLog {
    /// Opens the log at `dest`; a file that cannot be opened is an error.
    pub fn open(dest: &AccessLogDest, format: AccessLogFormat) -> Result<AccessLog, OpenError> {
        let sink = match dest {
            AccessLogDest::Stderr => stderr_sink(),
            AccessLogDest::File(path) => Sink::File {
                file: open_append(path).map_err(|source| OpenError {
                    path: path.display().to_string(),
                    source,
                })?,
                path: path.clone(),
            },
        };
        Ok(AccessLog {
            format,
            inner: RefCell::new(Inner {
                sink,
                buf: Vec::with_capacity(INITIAL_CAPACITY),
                failing: false,
            }),
        })
    }

    /// Buffers the line of `e` answered at wall time `time_ms`, writing the buffer out
    /// first once it holds [`FLUSH_AT`] bytes; returns the lines dropped (this one when
    /// the buffer is full, those of a write that failed).
    pub fn record(&self, time_ms: i64, e: &Exchange<'_>) -> u64 {
        let flushed = if self.pending() >= FLUSH_AT {
            self.flush()
        } else {
            0
        };
        flushed + u64::from(!self.buffer(time_ms, e))
    }

    /// Buffers the line; false when it was dropped because the buffer is full.
    fn buffer(&self, time_ms: i64, e: &Exchange<'_>) -> bool {
        let mut inner = self.inner.borrow_mut();
        let before = inner.buf.len();
        if before >= BUFFER_CAP {
            return false;
        }
        format::write_line(&mut inner.buf, self.format, time_ms, e);
        if inner.buf.len() > BUFFER_CAP {
            inner.buf.truncate(before);
            return false;
        }
        true
    }

    /// The fd to watch for writability when the sink is a pipe, terminal or socket (a
    /// regular file is always writable and cannot be polled): once a full pipe drains,
    /// the loop wakes and writes the rest, rather than at its next wake-up for another
    /// reason.
    pub fn pollable_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        match &self.inner.borrow().sink {
            Sink::Reopened(file) => Some(file.as_raw_fd()),
            Sink::Socket => Some(2),
            Sink::File { .. } | Sink::Stderr => None,
        }
    }

    /// Bytes buffered, not yet written.
    pub fn pending(&self) -> usize {
        self.inner.borrow().buf.len()
    }

    /// Writes what is buffered, as far as the sink takes it without waiting; returns the
    /// lines dropped because the write failed.
    pub fn flush(&self) -> u64 {
        let mut inner = self.inner.borrow_mut();
        let inner = &mut *inner;
        if inner.buf.is_empty() {
            return 0;
        }
        let mut written = 0;
        let result = loop {
            let rest = inner.buf.get(written..).unwrap_or_default();
            if rest.is_empty() {
                break Ok(());
            }
            let piece = if inner.sink.shared_with_process_logs() {
                whole_lines(rest)
            } else {
                rest
            };
            match inner.sink.write(piece) {
                Ok(0) => break Err(io::Error::from(io::ErrorKind::WriteZero)),
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        inner.buf.drain(..written.min(inner.buf.len()));
        match result {
            Ok(()) => {
                if inner.failing && written > 0 {
                    inner.failing = false;
                    tracing::info!("access log writes again");
                }
                0
            }
            Err(e) => {
                let lines = inner.buf.iter().filter(|&&b| b == b'\n').count() as u64;
                inner.buf.clear();
                if !inner.failing {
                    inner.failing = true;
                    tracing::warn!(lines, "access log write failed, dropping lines: {e}");
                }
                lines
            }
        }
    }

    /// Reopens a log file by name (SIGHUP, after a rotation): what is buffered goes to
    /// the old file first; when the name cannot be opened, the old file is kept. Returns
    /// the lines dropped by that last write. stderr is left as it is.
    pub fn reopen(&self) -> u64 {
        let dropped = self.flush();
        let mut inner = self.inner.borrow_mut();
        if let Sink::File { file, path } = &mut inner.sink {
            match open_append(path) {
                Ok(new) => {
                    *file = new;
                    tracing::info!(file = %path.display(), "access log reopened");
                }
                Err(e) => tracing::error!(
                    file = %path.display(),
                    "cannot reopen the access log, keeping the old file: {e}"
                ),
            }
        }
        dropped
    }
}

impl std::fmt::Debug for AccessLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessLog")
            .field("format", &self.format)
            .field(
                "pending",
                &self.inner.try_borrow().map(|i| i.buf.len()).ok(),
            )
            .finish_non_exhaustive()
    }
}

impl Drop for AccessLog {
    /// The last lines, at exit.
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests;
