//! Reading `--static-dir` into memory (at start-up and on SIGHUP; requests never touch
//! the disk). The walk is breadth-first and holds at most three fds at once (the root,
//! one directory, one file): each directory is reopened from the root one component at
//! a time, never through a symlink, and each file is opened in its directory with
//! `O_NOFOLLOW | O_NONBLOCK` and kept only when `fstat` of the opened fd says it is a
//! regular file (see `fd.rs`). So a symlink, swapped in or not, is never followed below
//! the root, and a FIFO can neither block the loop nor be read.
//!
//! Names starting with `.` (dotfiles and dot-directories) and names that are not UTF-8
//! (no request could name them) are not loaded. The bytes loaded are capped in total;
//! over the cap the walk goes on without reading, only to report the size found.

use super::fd::{Fd, Hint, Kind};
use crate::config::one_line;
use nix::errno::Errno;
use std::collections::VecDeque;
use std::ffi::CString;
use std::path::Path;
use thiserror::Error;

/// Deepest directory level loaded (the root is level 0); deeper ones are skipped.
pub const MAX_DEPTH: usize = 32;
/// Most directory entries looked at in one load (every kind, dotfiles and skipped ones
/// included).
pub const MAX_ENTRIES: usize = 100_000;

/// Why a folder could not be loaded (the old set, if any, stays in use).
#[derive(Debug, Error)]
pub enum LoadError {
    #[error("--static-dir {dir}: cannot open the folder: {source}")]
    Root { dir: String, source: Errno },
    #[error("--static-dir {dir}: {found} bytes of files found, over the cap of {cap} bytes (--static-max-bytes)")]
    OverCap { dir: String, found: u64, cap: u64 },
    #[error("--static-dir {dir}: more than {MAX_ENTRIES} entries")]
    TooManyEntries { dir: String },
    #[error("--static-dir {dir}: cannot read {path}: {source}")]
    Io {
        dir: String,
        path: String,
        source: Errno,
    },
}

/// A folder read into memory: relative paths (`a/b.js`) and their bytes.
#[derive(Debug, Default)]
pub struct Loaded {
    pub files: Vec<(String, Vec<u8>)>,
    /// Bytes of all the files.
    pub bytes: u64,
    /// Entries not loaded: symlinks, FIFOs and other special files, unreadable files,
    /// directories deeper than [`MAX_DEPTH`] (dotfiles are not counted).
    pub skipped: usize,
}

/// Reads the regular files under `root`, at most `cap` bytes in all.
pub fn load_tree(root: &Path, cap: u64) -> Result<Loaded, LoadError> {
    let dir = one_line(&root.display().to_string());
    let root_dir = Fd::open_root(root).map_err(|source| LoadError::Root {
        dir: dir.clone(),
        source,
    })?;
    let mut walk = Walk {
        dir,
        cap,
        loaded: Loaded::default(),
        found: 0,
        over: false,
        entries: 0,
    };
    let mut queue: VecDeque<Vec<String>> = VecDeque::from([Vec::new()]);
    while let Some(rel) = queue.pop_front() {
        let here = match open_chain(&root_dir, &rel) {
            Ok(d) => d,
            Err(e) => {
                walk.skip(&rel.join("/"), e)?;
                continue;
            }
        };
        for (name, hint) in walk.list(&here, &rel)? {
            let mut path = rel.clone();
            path.push(name.clone());
            match hint {
                Hint::Directory => walk.enter(&mut queue, path),
                Hint::File | Hint::Unknown => match walk.open(&here, &name, &path)? {
                    Some((fd, Kind::Regular { size })) => walk.read(&fd, path, size)?,
                    Some((_, Kind::Directory)) => walk.enter(&mut queue, path),
                    Some((_, Kind::Other)) => walk.skipped(&path, "not a regular file"),
                    None => {}
                },
                Hint::Symlink => walk.skipped(&path, "a symlink"),
                Hint::Special => walk.skipped(&path, "not a regular file"),
            }
        }
    }
    if walk.over {
        return Err(LoadError::OverCap {
            dir: walk.dir,
            found: walk.found,
            cap,
        });
    }
    Ok(walk.loaded)
}

/// Opens the directory at `rel` below the root, one component at a time, no symlink.
fn open_chain(root: &Fd, rel: &[String]) -> nix::Result<Fd> {
    let mut here = root.open_dir_in(c".")?;
    for part in rel {
        let name = CString::new(part.as_bytes()).map_err(|_| Errno::EINVAL)?;
        here = here.open_dir_in(&name)?;
    }
    Ok(here)
}

/// The walk's progress.
struct Walk {
    dir: String,
    cap: u64,
    loaded: Loaded,
    /// Bytes found so far (read, or measured once over the cap).
    found: u64,
    over: bool,
    entries: usize,
}

impl Walk {
    /// The loadable names in `dir` with their `d_type` hint (checked again on the fd).
    fn list(&mut self, dir: &Fd, rel: &[String]) -> Result<Vec<(String, Hint)>, LoadError> {
        // One more than the room left tells that the limit is passed.
        let room = MAX_ENTRIES.saturating_sub(self.entries);
        let listed = dir.list(room + 1).map_err(|e| LoadError::Io {
            dir: self.dir.clone(),
            path: if rel.is_empty() {
                ".".to_string()
            } else {
                one_line(&rel.join("/"))
            },
            source: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
        })?;
        self.entries += listed.len();
        if self.entries > MAX_ENTRIES {
            return Err(LoadError::TooManyEntries {
                dir: self.dir.clone(),
            });
        }
        let mut names = Vec::with_capacity(listed.len());
        for (raw, hint) in listed {
            if raw.as_encoded_bytes().first() == Some(&b'.') {
                continue; // dotfiles and dot-directories
            }
            match raw.into_string() {
                Ok(name) => names.push((name, hint)),
                Err(_) => self.loaded.skipped += 1,
            }
        }
        Ok(names)
    }

    /// Queues a subdirectory, unless it is too deep.
    fn enter(&mut self, queue: &mut VecDeque<Vec<String>>, path: Vec<String>) {
        if path.len() > MAX_DEPTH {
            self.skipped(&path, "deeper than the depth limit");
        } else {
            queue.push_back(path);
        }
    }

    /// Opens an entry and reads its type from the fd; `None` when it was skipped.
    fn open(
        &mut self,
        dir: &Fd,
        name: &str,
        path: &[String],
    ) -> Result<Option<(Fd, Kind)>, LoadError> {
        let opened = CString::new(name.as_bytes())
            .map_err(|_| Errno::EINVAL)
            .and_then(|c| dir.open_in(&c))
            .and_then(|fd| fd.kind().map(|kind| (fd, kind)));
        match opened {
            Ok(pair) => Ok(Some(pair)),
            Err(e) => self.skip(&path.join("/"), e).map(|()| None),
        }
    }

    /// Reads a regular file (or, over the cap, only counts its size).
    fn read(&mut self, fd: &Fd, path: Vec<String>, size: u64) -> Result<(), LoadError> {
        if self.over {
            self.found = self.found.saturating_add(size);
            return Ok(());
        }
        let room = self.cap.saturating_sub(self.loaded.bytes);
        let rel = path.join("/");
        let bytes = match fd.read_up_to(room, size) {
            Ok(b) => b,
            Err(e) => return self.skip(&rel, e),
        };
        let len = bytes.len() as u64;
        if len > room {
            // Over the cap: free what was read, keep walking to report the size found.
            self.over = true;
            self.found = self.loaded.bytes.saturating_add(len.max(size));
            self.loaded = Loaded::default();
            return Ok(());
        }
        self.loaded.bytes += len;
        self.found = self.loaded.bytes;
        self.loaded.files.push((rel, bytes));
        Ok(())
    }

    /// An entry that could not be opened or read: skipped, unless the process is out of
    /// fds or memory (then the whole load fails rather than silently missing files).
    fn skip(&mut self, rel: &str, e: Errno) -> Result<(), LoadError> {
        match e {
            Errno::EMFILE | Errno::ENFILE | Errno::ENOMEM => Err(LoadError::Io {
                dir: self.dir.clone(),
                path: one_line(rel),
                source: e,
            }),
            // A symlink (swapped in since the listing, or with no d_type hint).
            Errno::ELOOP => {
                self.skipped_rel(rel, "a symlink");
                Ok(())
            }
            _ => {
                tracing::warn!(file = %one_line(rel), "static file not loaded: {e}");
                self.loaded.skipped += 1;
                Ok(())
            }
        }
    }

    fn skipped(&mut self, path: &[String], why: &str) {
        self.skipped_rel(&path.join("/"), why);
    }

    fn skipped_rel(&mut self, rel: &str, why: &str) {
        tracing::debug!(file = %one_line(rel), "static file not loaded: {why}");
        self.loaded.skipped += 1;
    }
}
