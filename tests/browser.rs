//! The built-in dashboard in a real browser: mock lean nodes (three healthy, one
//! answering 503) and a leanpoint child, then headless Chromium renders `/` and the
//! DOM it builds from the live JSON is checked (agreed slots, every upstream's row, the
//! faulty one marked down with its error kind, the fork-choice tree); a second run saves
//! a screenshot to `target/dashboard.png`.
//!
//! Without Chromium (`chromium` or `chromium-browser` in PATH) the test is skipped with
//! a note, except in CI (`CI` set, see `common::in_ci`) where it fails.

mod common;

use common::mock::{Behavior, MockNode, NodeData};
use common::{upstreams_file, Leanpoint};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a browser run may take before its process group is killed.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(60);

/// With the liar and the faulty node, four polled: a majority needs three answers, so
/// the liar (first in the file) is a member of every early majority and asked first.
const HEALTHY: [&str; 2] = ["zeam_0", "ream_0"];
const FAULTY: &str = "lantern_0";
const LIAR: &str = "liar_0";

/// The first of `chromium`, `chromium-browser` found in PATH.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser"].iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Runs headless Chromium with a fresh profile on `url`; returns its stdout. The whole
/// process group is killed if it outlives `BROWSER_TIMEOUT`.
fn run_chromium(browser: &Path, extra: &[&str], url: &str) -> String {
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

/// A per-call random number (fresh `RandomState` keys).
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(7);
    h.finish()
}

/// The text directly inside the element with `id` (up to its first child tag).
fn text_of_id<'a>(dom: &'a str, id: &str) -> Option<&'a str> {
    let at = dom.find(&format!("id=\"{id}\""))?;
    let rest = dom.get(at..)?;
    let open_end = rest.find('>')?;
    let inner = rest.get(open_end + 1..)?;
    Some(inner.get(..inner.find('<')?)?.trim())
}

/// The `<tr …>…</tr>` of the upstream row named `name`.
fn upstream_row<'a>(dom: &'a str, name: &str) -> Option<&'a str> {
    let at = dom.find(&format!("data-upstream=\"{name}\""))?;
    let rest = dom.get(at..)?;
    rest.get(..rest.find("</tr>")?)
}

/// `target/` of this package (or `CARGO_TARGET_DIR`).
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

#[test]
fn dashboard_renders_live_state_in_headless_chromium() {
    let Some(browser) = find_chromium() else {
        if common::in_ci() {
            panic!(
                "chromium is required in CI (CI is set) for the dashboard browser test: \
                 install it (apt-get install chromium) or put chromium/chromium-browser in PATH"
            );
        }
        eprintln!(
            "note: skipping the dashboard browser test: neither chromium nor chromium-browser is in PATH"
        );
        return;
    };

    let mut nodes: Vec<(String, MockNode)> = HEALTHY
        .iter()
        .map(|n| {
            let node = MockNode::start(Behavior::Healthy(NodeData::fixture()));
            (n.to_string(), node)
        })
        .collect();
    nodes.push((FAULTY.to_string(), MockNode::start(Behavior::Status(503))));
    // A liar, first in the file so that the first bundle fetch asks it first.
    let liar = NodeData::fixture().tampered();
    nodes.insert(
        0,
        (LIAR.to_string(), MockNode::start(Behavior::Healthy(liar))),
    );
    let entries: Vec<(String, String)> = nodes.iter().map(|(n, m)| (n.clone(), m.url())).collect();
    let file = upstreams_file(&entries);
    let lp = Leanpoint::start(&[
        "--upstreams-config",
        file.to_str().expect("utf-8 path"),
        "--poll-ms",
        "200",
    ]);

    let status = lp.wait_for("/status", Duration::from_secs(15), |r| {
        r.status == 200
            && r.json()["finalized_slot"].as_u64() == Some(18)
            && r.json()["bundle_verified"] == true
    });
    assert_eq!(status.json()["finalized_slot"], 18, "{}", status.text());
    assert_eq!(status.json()["justified_slot"], 19, "{}", status.text());
    // The faulty upstream has failed at least once, and a fork choice is cached.
    let ups = lp.wait_for("/api/upstreams", Duration::from_secs(10), |r| {
        r.status == 200
            && r.json()["upstreams"].as_array().is_some_and(|l| {
                l.iter()
                    .any(|u| u["name"] == FAULTY && u["last_error"].is_string())
            })
    });
    let faulty_kind = ups.json()["upstreams"]
        .as_array()
        .and_then(|l| l.iter().find(|u| u["name"] == FAULTY).cloned())
        .and_then(|u| u["last_error_kind"].as_str().map(str::to_string))
        .unwrap_or_else(|| panic!("no error recorded for {FAULTY}: {}", ups.text()));
    let fc = lp.wait_for(
        &format!("/api/upstreams/{}/fork_choice", HEALTHY[0]),
        Duration::from_secs(10),
        |r| r.status == 200,
    );
    assert_eq!(fc.status, 200, "{}", fc.text());

    let url = format!("http://{}/", lp.addr);
    let dom = run_chromium(&browser, &["--dump-dom"], &url);
    assert!(dom.contains("<html"), "no DOM dumped:\n{dom}");
    assert_eq!(text_of_id(&dom, "finalized-slot"), Some("18"), "{dom}");
    assert_eq!(text_of_id(&dom, "justified-slot"), Some("19"), "{dom}");
    assert_eq!(text_of_id(&dom, "stale-badge"), Some("fresh"), "{dom}");
    assert_eq!(text_of_id(&dom, "bundle-badge"), Some("verified"), "{dom}");
    assert_eq!(
        text_of_id(&dom, "finalized-root"),
        Some("0x9f657880…d0a8bf"),
        "{dom}"
    );
    // The liar is in the majority (its fork choice is true) but its bundle was refused.
    let row = upstream_row(&dom, LIAR).unwrap_or_else(|| panic!("no row for {LIAR}:\n{dom}"));
    assert!(row.contains("data-mismatch=\"true\""), "{row}");
    assert!(row.contains(">mismatch<"), "{row}");
    assert!(row.contains("is not the block's state_root"), "{row}");
    for name in HEALTHY {
        let row = upstream_row(&dom, name).unwrap_or_else(|| panic!("no row for {name}:\n{dom}"));
        assert!(row.contains(&format!(">{name}<")), "{row}");
        assert!(row.contains("data-healthy=\"true\""), "{row}");
    }
    let row = upstream_row(&dom, FAULTY).unwrap_or_else(|| panic!("no row for {FAULTY}:\n{dom}"));
    assert!(row.contains(&format!(">{FAULTY}<")), "{row}");
    assert!(row.contains("data-healthy=\"false\""), "{row}");
    assert!(row.contains(&format!(">{faulty_kind}<")), "{row}");
    // The fork-choice tree of the first healthy upstream: the fixture's blocks 18..=21,
    // with its finalized (18) and head (21) marked.
    for slot in 18..=21 {
        assert!(
            dom.contains(&format!("data-slot=\"{slot}\"")),
            "no block {slot}"
        );
    }
    assert!(
        dom.contains("class=\"n fin\""),
        "finalized block not marked"
    );
    assert!(dom.contains("class=\"n head\""), "head block not marked");

    let shot = target_dir().join("dashboard.png");
    let _ = std::fs::remove_file(&shot);
    let shot_arg = format!("--screenshot={}", shot.display());
    run_chromium(&browser, &[&shot_arg, "--window-size=1280,900"], &url);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("{}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let dim = |at: usize| {
        png.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    assert_eq!(
        (dim(16), dim(20)),
        (Some(1280), Some(900)),
        "screenshot size"
    );
    eprintln!("dashboard screenshot: {}", shot.display());
}
