//! The loader's file access, in safe code over nix: every name is opened relative to an
//! open directory, never following a symlink in that name (`O_NOFOLLOW`) and never
//! blocking (`O_NONBLOCK`: a FIFO opens at once instead of waiting for a writer), and
//! the type is read with `fstat` from the opened fd, never from a path, so nothing can
//! be swapped between the check and the use.
//!
//! nix 0.29's `openat` hands back a bare fd; [`Fd`] owns it (closed exactly once, on
//! drop), which needs no `unsafe`. A directory is listed through `/proc/self/fd/N`,
//! which names the very directory the fd holds (no path is walked again).

use nix::errno::Errno;
use nix::fcntl::{open, openat, OFlag};
use nix::sys::stat::{fstat, Mode, SFlag};
use std::ffi::CStr;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};

/// Flags of every open below the root: read-only, no symlink, no blocking, no
/// controlling terminal, not inherited.
fn below_root() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_NONBLOCK | OFlag::O_NOCTTY | OFlag::O_CLOEXEC
}

/// An open fd, closed on drop.
#[derive(Debug)]
pub struct Fd(RawFd);

impl Drop for Fd {
    fn drop(&mut self) {
        // Nothing useful can be done about a failed close of a read-only fd.
        let _ = nix::unistd::close(self.0);
    }
}

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// What `fstat` says about an opened fd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Regular {
        size: u64,
    },
    Directory,
    /// A FIFO, socket, device: never served.
    Other,
}

/// What a directory listing says an entry is: only a hint (the entry can be swapped
/// before it is opened), used to skip what need not be opened at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    File,
    Directory,
    Symlink,
    /// A FIFO, socket or device.
    Special,
    Unknown,
}

impl Fd {
    /// Opens the root folder itself. Its own path is the operator's and may go through
    /// symlinks (a `current -> releases/42` deploy); nothing below it may.
    pub fn open_root(path: &Path) -> nix::Result<Fd> {
        open(
            path,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map(Fd)
    }

    /// Opens `name` (one component) in this directory without following a symlink and
    /// without blocking. A symlink fails with `ELOOP`.
    pub fn open_in(&self, name: &CStr) -> nix::Result<Fd> {
        openat(Some(self.0), name, below_root(), Mode::empty()).map(Fd)
    }

    /// Opens the directory `name` (one component) in this directory, refusing a symlink.
    pub fn open_dir_in(&self, name: &CStr) -> nix::Result<Fd> {
        openat(
            Some(self.0),
            name,
            below_root() | OFlag::O_DIRECTORY,
            Mode::empty(),
        )
        .map(Fd)
    }

    /// At most `max` names in this directory (`.` and `..` excluded) with their type
    /// hints. Listed through `/proc/self/fd/N`, which names exactly the directory this
    /// fd holds.
    pub fn list(&self, max: usize) -> std::io::Result<Vec<(std::ffi::OsString, Hint)>> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(self.proc_path())?.take(max) {
            let entry = entry?;
            let hint = match entry.file_type() {
                Ok(t) if t.is_file() => Hint::File,
                Ok(t) if t.is_dir() => Hint::Directory,
                Ok(t) if t.is_symlink() => Hint::Symlink,
                Ok(_) => Hint::Special,
                Err(_) => Hint::Unknown,
            };
            out.push((entry.file_name(), hint));
        }
        Ok(out)
    }

    fn proc_path(&self) -> PathBuf {
        PathBuf::from(format!("/proc/self/fd/{}", self.0))
    }

    /// The type of the opened file.
    pub fn kind(&self) -> nix::Result<Kind> {
        let st = fstat(self.0)?;
        let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        Ok(if kind == SFlag::S_IFREG {
            Kind::Regular {
                size: u64::try_from(st.st_size).unwrap_or(0),
            }
        } else if kind == SFlag::S_IFDIR {
            Kind::Directory
        } else {
            Kind::Other
        })
    }

    /// Reads to the end, but never more than `limit + 1` bytes (one more than allowed
    /// tells the caller the file is over its limit). `size_hint` sizes the buffer.
    pub fn read_up_to(&self, limit: u64, size_hint: u64) -> nix::Result<Vec<u8>> {
        let want = limit.saturating_add(1);
        let mut out = Vec::with_capacity(usize::try_from(size_hint.min(want)).unwrap_or(0));
        let mut chunk = vec![0u8; 64 * 1024];
        while (out.len() as u64) < want {
            let room = usize::try_from(want - out.len() as u64).unwrap_or(usize::MAX);
            let buf = chunk.get_mut(..room.min(64 * 1024)).unwrap_or_default();
            match nix::unistd::read(self.0, buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(Errno::EINTR) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}
