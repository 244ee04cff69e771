//! Helpers for the `--static-dir` tests: a fresh site folder beside a secret file that
//! lies outside it, atomic swaps of one name between a regular file, a FIFO and a
//! symlink (a rename over the name, as a deploy or an attacker would do), and SIGHUP.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

/// The bytes of the file outside the folder: no reply may ever contain them.
pub const SECRET: &[u8] = b"OUTSIDE-THE-STATIC-FOLDER-d41d8cd9";

/// `base/site/` (served) and `base/secret.txt` (outside it); removed on drop.
pub struct Site {
    pub base: PathBuf,
    pub dir: PathBuf,
}

impl Site {
    /// A fresh, empty site folder; `tag` names the test in the folder name.
    pub fn new(tag: &str) -> Site {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir().join(format!(
            "leanpoint-static-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&base);
        let dir = base.join("site");
        std::fs::create_dir_all(&dir).expect("site dir");
        std::fs::write(base.join("secret.txt"), SECRET).expect("secret");
        Site { base, dir }
    }

    /// The folder as a `--static-dir` argument.
    pub fn arg(&self) -> &str {
        self.dir.to_str().expect("utf-8 temp path")
    }

    /// The file outside the folder.
    pub fn secret(&self) -> PathBuf {
        self.base.join("secret.txt")
    }

    /// Writes `rel` (parents created) with `bytes`.
    pub fn write(&self, rel: &str, bytes: &[u8]) {
        let path = self.dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(path, bytes).expect("write site file");
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Atomically replaces `dir/name` with a regular file holding `bytes`.
pub fn swap_in_regular(dir: &Path, name: &str, bytes: &[u8]) {
    let tmp = dir.join(".swap-regular");
    std::fs::write(&tmp, bytes).expect("write temp file");
    std::fs::rename(&tmp, dir.join(name)).expect("rename regular file");
}

/// Atomically replaces `dir/name` with a FIFO that nobody writes to.
pub fn swap_in_fifo(dir: &Path, name: &str) {
    let tmp = dir.join(".swap-fifo");
    let _ = std::fs::remove_file(&tmp);
    nix::unistd::mkfifo(&tmp, nix::sys::stat::Mode::from_bits_truncate(0o644)).expect("mkfifo");
    std::fs::rename(&tmp, dir.join(name)).expect("rename fifo");
}

/// Atomically replaces `dir/name` with a symlink to `target`.
pub fn swap_in_symlink(dir: &Path, name: &str, target: &Path) {
    let tmp = dir.join(".swap-link");
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).expect("symlink");
    std::fs::rename(&tmp, dir.join(name)).expect("rename symlink");
}

/// Sends SIGHUP to `pid`.
pub fn hup(pid: u32) {
    let pid = nix::unistd::Pid::from_raw(i32::try_from(pid).expect("pid fits i32"));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGHUP).expect("SIGHUP");
}

/// Arguments for an upstream that is never there (nothing listens on port 1), polled
/// rarely: the static tests need no agreement.
pub const NO_UPSTREAM: [&str; 4] = ["--lean-url", "http://127.0.0.1:1", "--poll-ms", "60000"];

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
