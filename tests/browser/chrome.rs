//! Headless Chromium for the browser tests: found in PATH (required under CI), run with a
//! fresh profile and a deadline, its process group killed if it outlives it.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a browser run may take before its process group is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// The first of `chromium`, `chromium-browser` found in PATH.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Chromium, or None with a note when it is missing (a failure under CI: `CI` set, see
/// `common::in_ci`).
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        if crate::common::in_ci() {
            panic!(
                "chromium is required in CI (CI is set) for the {test} browser test: \
                 install it (apt-get install chromium) or put chromium/chromium-browser in PATH"
            );
        }
        eprintln!(
            "note: skipping the {test} browser test: neither chromium nor chromium-browser is in PATH"
        );
    }
    found
}

/// Runs headless Chromium with a fresh profile on `url`; returns its stdout. The whole
/// process group is killed if it outlives `BROWSER_TIMEOUT`.
pub fn run_chromium(browser: &Path, extra: &[&str], url: &str) -> String {
    let profile = std::env::temp_dir().join(format!(
        "leanpoint-chromium-{}-{:016x}",
        std::process::id(),
        rand_u64()
    ));
    std::fs::create_dir_all(&profile).expect("profile dir");
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--disable-quic",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--virtual-time-budget=5000")
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", browser.display()));
    let mut stdout = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(child.id() as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            let _ = child.wait();
            let _ = std::fs::remove_dir_all(&profile);
            panic!("chromium did not finish within {BROWSER_TIMEOUT:?}; killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "chromium exited with {status}");
    out
}

/// Takes a `width`×`height` screenshot of `url` into `path` and checks it is a PNG of
/// that size.
pub fn screenshot(browser: &Path, url: &str, path: &Path, width: u32, height: u32) {
    let _ = std::fs::remove_file(path);
    let shot_arg = format!("--screenshot={}", path.display());
    let size_arg = format!("--window-size={width},{height}");
    run_chromium(browser, &[&shot_arg, &size_arg], url);
    let png = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let dim = |at: usize| {
        png.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    assert_eq!(
        (dim(16), dim(20)),
        (Some(width), Some(height)),
        "screenshot size"
    );
}

/// A per-call random number (fresh `RandomState` keys).
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(7);
    h.finish()
}

/// `target/` of this package (or `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}
