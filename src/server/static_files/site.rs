//! The loaded folder: each file held once as a [`Blob`] (immutable, shared by every
//! connection that downloads it, named by the SHA-256 of its bytes for the `ETag`), and
//! the handle the server and the SIGHUP hook share, which swaps in a new set only when
//! it loaded completely.

use super::load::{load_tree, LoadError};
use crate::app::Blob;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One loaded file.
#[derive(Debug, Clone)]
pub struct StaticFile {
    pub blob: Rc<Blob>,
    pub content_type: &'static str,
}

/// A folder's regular files by relative path (`index.html`, `assets/app.js`).
#[derive(Default)]
pub struct StaticSite {
    files: HashMap<String, StaticFile>,
    bytes: u64,
    skipped: usize,
}

impl std::fmt::Debug for StaticSite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticSite")
            .field("files", &self.files.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

impl StaticSite {
    /// Reads `dir` (at most `cap` bytes in all) and hashes every file.
    pub fn load(dir: &Path, cap: u64) -> Result<StaticSite, LoadError> {
        let loaded = load_tree(dir, cap)?;
        let files = loaded
            .files
            .into_iter()
            .map(|(path, bytes)| {
                let digest: [u8; 32] = Sha256::digest(&bytes).into();
                let file = StaticFile {
                    blob: Rc::new(Blob::new(bytes, digest)),
                    content_type: super::content_type(Path::new(&path)),
                };
                (path, file)
            })
            .collect();
        Ok(StaticSite {
            files,
            bytes: loaded.bytes,
            skipped: loaded.skipped,
        })
    }

    /// The file at `path` (relative, `/`-separated), if loaded.
    pub fn get(&self, path: &str) -> Option<&StaticFile> {
        self.files.get(path)
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether no file was loaded.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Bytes of all the files.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Entries not loaded (symlinks, special or unreadable files).
    pub fn skipped(&self) -> usize {
        self.skipped
    }
}

/// `--static-dir` as served: the folder, its cap, and the set loaded last. Shared by the
/// server (which reads the current set per request) and the SIGHUP hook (which replaces
/// it); one thread, so the cell is never borrowed twice.
#[derive(Debug)]
pub struct StaticFiles {
    dir: PathBuf,
    cap: u64,
    current: RefCell<Rc<StaticSite>>,
}

impl StaticFiles {
    /// Loads `dir` for the first time (a failure is a start-up error).
    pub fn load(dir: PathBuf, cap: u64) -> Result<StaticFiles, LoadError> {
        let started = std::time::Instant::now();
        let site = StaticSite::load(&dir, cap)?;
        log_loaded(&dir, &site, started);
        Ok(StaticFiles {
            dir,
            cap,
            current: RefCell::new(Rc::new(site)),
        })
    }

    /// Loads the folder again; the new set replaces the current one only if it loaded
    /// completely (else the error is returned and the current set stays).
    pub fn reload(&self) -> Result<(), LoadError> {
        let started = std::time::Instant::now();
        let site = StaticSite::load(&self.dir, self.cap)?;
        log_loaded(&self.dir, &site, started);
        *self.current.borrow_mut() = Rc::new(site);
        Ok(())
    }

    /// The set in use (connections mid-download keep the blobs they hold).
    pub fn site(&self) -> Rc<StaticSite> {
        Rc::clone(&self.current.borrow())
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

fn log_loaded(dir: &Path, site: &StaticSite, started: std::time::Instant) {
    tracing::info!(
        dir = %dir.display(),
        files = site.len(),
        bytes = site.bytes(),
        skipped = site.skipped(),
        ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "static files loaded"
    );
}
