//! `--static-dir` on a real process over loopback: files are served from memory (a file
//! deleted or changed on disk is not seen until SIGHUP), with an ETag and 304s; dotfiles
//! are not served; a FIFO or a symlink swapped into the folder while requests and reloads
//! run neither stalls the loop nor leaks a byte from outside the folder; SIGHUP picks up
//! changes and keeps the old set when the new one fails; a folder over
//! `--static-max-bytes` (or missing) refuses to start with exit status 2.

mod common;

use common::inbound::agreed;
use common::mock::NodeData;
use common::static_site::{
    contains, hup, swap_in_fifo, swap_in_regular, swap_in_symlink, Site, NO_UPSTREAM, SECRET,
};
use common::{bin, http_request, HttpReply, Leanpoint};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn start(site: &Site, extra: &[&str]) -> Leanpoint {
    let mut args = NO_UPSTREAM.to_vec();
    args.extend_from_slice(&["--static-dir", site.arg()]);
    args.extend_from_slice(extra);
    Leanpoint::start(&args)
}

fn get_inm(lp: &Leanpoint, path: &str, etag: &str) -> HttpReply {
    http_request(
        lp.addr,
        &format!(
            "GET {path} HTTP/1.1\r\nHost: t\r\nIf-None-Match: {etag}\r\nConnection: close\r\n\r\n"
        ),
    )
}

/// Waits up to 5 s for a log line containing `needle`.
fn wait_log(lp: &Leanpoint, needle: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(line) = lp.log.recv_timeout(Duration::from_millis(100)) {
            if line.contains(needle) {
                return Some(line);
            }
        }
    }
    None
}

#[test]
fn files_are_served_from_memory_with_an_etag() {
    let site = Site::new("memory");
    site.write("index.html", b"<p>front</p>");
    site.write("app.js", b"let x;");
    site.write("sub/page.html", b"<p>page</p>");
    site.write(".env", b"TOKEN=1");
    site.write(".git/config", b"[core]");
    site.write("sub/.hidden.js", b"hidden");
    let lp = start(&site, &[]);

    let index = lp.get("/");
    assert_eq!((index.status, index.text().as_str()), (200, "<p>front</p>"));
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let etag = index.header("etag").expect("an ETag").to_string();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert_eq!(lp.get("/index.html").header("etag"), Some(etag.as_str()));
    assert_eq!(lp.get("/sub").status, 404, "no sub/index.html");
    assert_eq!(lp.get("/sub/page.html").text(), "<p>page</p>");
    let js = lp.get("/app.js?v=2");
    assert_eq!(
        (js.status, js.header("content-type")),
        (200, Some("text/javascript; charset=utf-8"))
    );
    assert_ne!(js.header("etag"), Some(etag.as_str()));

    let not_modified = get_inm(&lp, "/", &etag);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());
    assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
    assert_eq!(get_inm(&lp, "/", "\"0xother\"").status, 200);
    let head = http_request(
        lp.addr,
        "HEAD /app.js HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(
        (head.status, head.header("content-length")),
        (200, Some("6"))
    );

    for hidden in [
        "/.env",
        "/.git/config",
        "/sub/.hidden.js",
        "/%2eenv",
        "/./.env",
    ] {
        assert_eq!(lp.get(hidden).status, 404, "{hidden}");
    }

    // Requests never touch the disk: a file deleted or changed after loading is served
    // as loaded until the next SIGHUP.
    std::fs::remove_file(site.dir.join("index.html")).unwrap();
    site.write("app.js", b"changed");
    assert_eq!(lp.get("/").text(), "<p>front</p>");
    assert_eq!(lp.get("/app.js").text(), "let x;");
}

#[test]
fn a_fifo_in_the_folder_or_swapped_in_never_stalls_the_loop() {
    let site = Site::new("fifo");
    site.write("index.html", b"home");
    site.write("swap.txt", b"regular");
    nix::unistd::mkfifo(
        &site.dir.join("pipe.txt"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let (_node, mut lp) = agreed(NodeData::fixture(), &["--static-dir", site.arg()]);
    assert_eq!(lp.get("/pipe.txt").status, 404);
    assert_eq!(lp.get("/").text(), "home");

    // One thread swaps a FIFO and a regular file under one name (at least 5000 times)
    // while requests for it and reloads (which open the FIFO) run: every request is
    // answered promptly.
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (dir, stop, swaps) = (site.dir.clone(), stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(30) {
                swap_in_fifo(&dir, "swap.txt");
                swap_in_regular(&dir, "swap.txt", b"regular");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let started = Instant::now();
    let mut worst = Duration::ZERO;
    let mut requests = 0;
    let mut failure = None;
    while (requests < 3000 || swaps.load(Ordering::Relaxed) < 5000)
        && started.elapsed() < Duration::from_secs(30)
    {
        if requests % 100 == 0 {
            hup(lp.pid());
        }
        let sent = Instant::now();
        let r = lp.get("/swap.txt");
        worst = worst.max(sent.elapsed());
        requests += 1;
        if !matches!(r.status, 200 | 404) || sent.elapsed() > Duration::from_secs(2) {
            failure = Some(format!("request {requests}: status {}", r.status));
            break;
        }
        if r.status == 200 {
            assert_eq!(r.text(), "regular");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = swapper.join();
    let swaps = swaps.load(Ordering::Relaxed);
    eprintln!(
        "{requests} requests during {swaps} FIFO swaps in {:?}, worst {worst:?}",
        started.elapsed()
    );
    assert_eq!(failure, None, "the loop stalled (worst {worst:?})");
    assert!(worst < Duration::from_secs(2), "worst {worst:?}");
    assert!(swaps >= 5000, "only {swaps} swaps");
    let healthz = lp.get("/healthz");
    assert_eq!((healthz.status, healthz.text().as_str()), (200, "ok\n"));
    // A FIFO left in place at a reload is skipped; SIGTERM still stops the process.
    swap_in_fifo(&site.dir, "swap.txt");
    while lp.log.try_recv().is_ok() {} // the earlier reloads' lines
    hup(lp.pid());
    assert!(wait_log(&lp, "static files loaded").is_some());
    assert_eq!(lp.get("/healthz").status, 200);
    let status = lp.terminate(Duration::from_secs(3));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
}

#[test]
fn a_symlink_out_of_the_folder_never_serves_a_byte_of_it() {
    let site = Site::new("symlink");
    site.write("index.html", b"home");
    site.write("swap.txt", b"public");
    std::os::unix::fs::symlink(site.secret(), site.dir.join("link_out.txt")).unwrap();
    std::os::unix::fs::symlink(&site.base, site.dir.join("dir_out")).unwrap();
    let lp = start(&site, &[]);
    for path in ["/link_out.txt", "/dir_out/secret.txt"] {
        let r = lp.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(!contains(&r.body, SECRET));
    }

    // One thread swaps a symlink out of the folder and a regular file under one name
    // (at least 5000 times) while requests for it and reloads run.
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    let swapper = {
        let (dir, secret) = (site.dir.clone(), site.secret());
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed) && started.elapsed() < Duration::from_secs(40) {
                swap_in_symlink(&dir, "swap.txt", &secret);
                swap_in_regular(&dir, "swap.txt", b"public");
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let started = Instant::now();
    let (mut requests, mut served, mut leaked) = (0u32, 0u32, 0u32);
    while (requests < 5000 || swaps.load(Ordering::Relaxed) < 5000)
        && started.elapsed() < Duration::from_secs(30)
    {
        if requests % 100 == 0 {
            hup(lp.pid());
        }
        let r = lp.get("/swap.txt");
        requests += 1;
        if contains(&r.body, SECRET) {
            leaked += 1;
            continue;
        }
        match r.status {
            200 => {
                served += 1;
                assert_eq!(r.text(), "public");
            }
            404 => {}
            other => panic!("request {requests}: status {other}"),
        }
    }
    stop.store(true, Ordering::Relaxed);
    let _ = swapper.join();
    let swaps = swaps.load(Ordering::Relaxed);
    eprintln!(
        "{requests} requests during {swaps} symlink swaps in {:?}: {served} served, {leaked} leaked",
        started.elapsed()
    );
    assert_eq!(leaked, 0, "bytes from outside the folder were served");
    assert!(
        swaps >= 5000 && requests >= 1000,
        "{swaps} swaps, {requests} requests"
    );
    assert!(served > 0, "the regular file was never served");
}

#[test]
fn sighup_reloads_the_folder_and_keeps_it_when_the_new_one_fails() {
    let site = Site::new("reload");
    site.write("index.html", b"version 1");
    let lp = start(&site, &["--static-max-bytes", "4096"]);
    let v1 = lp.get("/");
    assert_eq!(v1.text(), "version 1");
    let etag1 = v1.header("etag").expect("ETag").to_string();

    site.write("index.html", b"version 2");
    site.write("new.js", b"new");
    assert_eq!(lp.get("/").text(), "version 1", "served from memory");
    assert_eq!(lp.get("/new.js").status, 404);
    hup(lp.pid());
    let v2 = lp.wait_for("/", Duration::from_secs(5), |r| r.text() == "version 2");
    assert_eq!(v2.text(), "version 2");
    let etag2 = v2.header("etag").expect("ETag").to_string();
    assert_ne!(etag1, etag2);
    assert_eq!(get_inm(&lp, "/", &etag1).status, 200);
    assert_eq!(get_inm(&lp, "/", &etag2).status, 304);
    assert_eq!(lp.get("/new.js").text(), "new");

    // Over the cap: the reload fails, the reason is logged, the old set stays.
    site.write("index.html", b"version 3");
    site.write("big.bin", &[7u8; 5000]);
    hup(lp.pid());
    let line = wait_log(&lp, "keeping the current files").expect("a logged failure");
    assert!(line.contains("4096"), "{line}");
    assert_eq!(lp.get("/").text(), "version 2");
    assert_eq!(lp.get("/big.bin").status, 404);

    // Back under the cap: the next SIGHUP loads the new set.
    std::fs::remove_file(site.dir.join("big.bin")).unwrap();
    hup(lp.pid());
    let v3 = lp.wait_for("/", Duration::from_secs(5), |r| r.text() == "version 3");
    assert_eq!(v3.text(), "version 3");
}

/// Runs leanpoint with `args` (no upstream) and returns its exit code and stderr, or
/// `None` when it is still running after 10 s (then it is killed).
fn run_to_exit(args: &[&str], env: &[(&str, &str)]) -> Option<(i32, String)> {
    let mut child = Command::new(bin())
        .args(["--bind", "127.0.0.1", "--port", "0"])
        .args(NO_UPSTREAM)
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn leanpoint");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return Some((status.code().unwrap_or(-1), err));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_folder_over_the_cap_refuses_to_start() {
    let site = Site::new("cap");
    site.write("a.bin", &[1u8; 2000]);
    site.write("sub/b.bin", &[2u8; 1000]);
    let (code, stderr) = run_to_exit(
        &["--static-dir", site.arg(), "--static-max-bytes", "2048"],
        &[],
    )
    .expect("leanpoint did not exit");
    assert_eq!(code, 2, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.starts_with("leanpoint: "))
        .unwrap_or_else(|| panic!("no error line: {stderr}"));
    for part in [site.arg(), "3000", "2048"] {
        assert!(line.contains(part), "{part:?} missing in {line:?}");
    }

    // The same cap from the environment variable.
    let (code, stderr) = run_to_exit(
        &["--static-dir", site.arg()],
        &[("LEANPOINT_STATIC_MAX_BYTES", "2999")],
    )
    .expect("leanpoint did not exit");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("2999"), "{stderr}");

    let missing = site.base.join("nope");
    let (code, stderr) = run_to_exit(&["--static-dir", missing.to_str().unwrap()], &[])
        .expect("leanpoint did not exit");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains(missing.to_str().unwrap()), "{stderr}");
}
