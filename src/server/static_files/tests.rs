//! Tests of the static folder: loading (symlinks never followed, FIFOs never opened
//! blocking, dotfiles and special files skipped, the total cap and the size reported),
//! path resolution (no traversal in any encoding), ETags and 304s, and reloading.

use super::*;
use crate::server::router::Body;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

/// A fresh directory tree, removed on drop:
/// `base/site/{index.html, app.js, sub/index.html, sub/page.html, a b.txt,
/// link_out -> base/secret.txt, dir_out -> base/outside, alias.js -> app.js}` and
/// `base/secret.txt`, `base/outside/index.html`.
struct Tree {
    base: PathBuf,
    site: PathBuf,
}

impl Tree {
    fn new() -> Tree {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::temp_dir().join(format!(
            "leanpoint-static-unit-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&base);
        let site = base.join("site");
        fs::create_dir_all(site.join("sub")).unwrap();
        fs::create_dir_all(base.join("outside")).unwrap();
        fs::write(site.join("index.html"), "<p>root</p>").unwrap();
        fs::write(site.join("app.js"), "let x;").unwrap();
        fs::write(site.join("sub/index.html"), "<p>sub</p>").unwrap();
        fs::write(site.join("sub/page.html"), "<p>page</p>").unwrap();
        fs::write(site.join("a b.txt"), "spaced").unwrap();
        fs::write(base.join("secret.txt"), "secret").unwrap();
        fs::write(base.join("outside/index.html"), "secret dir").unwrap();
        std::os::unix::fs::symlink(base.join("secret.txt"), site.join("link_out")).unwrap();
        std::os::unix::fs::symlink(base.join("outside"), site.join("dir_out")).unwrap();
        std::os::unix::fs::symlink("app.js", site.join("alias.js")).unwrap();
        Tree { base, site }
    }

    fn load(&self) -> StaticSite {
        StaticSite::load(&self.site, 1 << 20).unwrap()
    }

    fn body(&self, target: &str) -> Option<String> {
        let reply = serve(&self.load(), target, None)?;
        assert_eq!(reply.status, 200);
        Some(String::from_utf8(reply.body.as_slice().to_vec()).unwrap())
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.base);
    }
}

#[test]
fn serves_files_and_index() {
    let t = Tree::new();
    assert_eq!(t.body("/").as_deref(), Some("<p>root</p>"));
    assert_eq!(t.body("/index.html").as_deref(), Some("<p>root</p>"));
    assert_eq!(t.body("/app.js?v=3").as_deref(), Some("let x;"));
    assert_eq!(t.body("/sub").as_deref(), Some("<p>sub</p>"));
    assert_eq!(t.body("/sub/").as_deref(), Some("<p>sub</p>"));
    assert_eq!(t.body("//sub//page.html").as_deref(), Some("<p>page</p>"));
    assert_eq!(t.body("/./sub/./page.html").as_deref(), Some("<p>page</p>"));
    assert_eq!(t.body("/a%20b.txt").as_deref(), Some("spaced"));
    assert_eq!(t.body("/%61pp.js").as_deref(), Some("let x;"));
    let reply = serve(&t.load(), "/app.js", None).unwrap();
    assert_eq!(reply.content_type, "text/javascript; charset=utf-8");
}

#[test]
fn missing_files_are_none() {
    let t = Tree::new();
    for target in ["/nope.html", "/sub/nope/", "/app.js/", "", "app.js"] {
        assert!(t.body(target).is_none(), "{target:?}");
    }
}

#[test]
fn traversal_in_any_encoding_is_refused() {
    let t = Tree::new();
    for target in [
        "/../secret.txt",
        "/sub/../../secret.txt",
        "/sub/../index.html",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/.%2e/secret.txt",
        "/%2e./secret.txt",
        "/..%2fsecret.txt",
        "/..%2Fsecret.txt",
        "/sub%2f..%2f..%2fsecret.txt",
        "/..%5csecret.txt",
        "/..\\secret.txt",
        "/sub\\page.html",
        "/index.html%00.js",
        "/%252e%252e/secret.txt",
        "/%zz",
        "/%2",
        "/%ff",
    ] {
        assert!(t.body(target).is_none(), "{target} must be refused");
    }
}

#[test]
fn symlinks_are_never_followed() {
    let t = Tree::new();
    let site = t.load();
    assert!(t.base.join("secret.txt").is_file());
    for target in ["/link_out", "/dir_out/", "/dir_out/index.html", "/alias.js"] {
        assert!(serve(&site, target, None).is_none(), "{target}");
    }
    assert_eq!(site.len(), 5);
    assert_eq!(site.skipped(), 3, "three symlinks");
}

#[test]
fn fifos_and_sockets_are_skipped_without_blocking() {
    let t = Tree::new();
    nix::unistd::mkfifo(
        &t.site.join("pipe.txt"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let _socket = std::os::unix::net::UnixListener::bind(t.site.join("sock")).unwrap();
    // Opening the FIFO without O_NONBLOCK would wait for a writer for ever.
    let site = t.load();
    assert!(serve(&site, "/pipe.txt", None).is_none());
    assert!(serve(&site, "/sock", None).is_none());
    assert_eq!(site.len(), 5);
    assert_eq!(site.skipped(), 5, "three symlinks, a FIFO, a socket");
}

#[test]
fn opening_checks_the_opened_fd_never_the_path() {
    use super::fd::{Fd, Kind};
    let t = Tree::new();
    nix::unistd::mkfifo(
        &t.site.join("pipe.txt"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let root = Fd::open_root(&t.site).unwrap();
    // A FIFO (as if swapped in after the listing said "file") opens at once, and its fd
    // says what it is.
    let fifo = root.open_in(c"pipe.txt").unwrap();
    assert_eq!(fifo.kind().unwrap(), Kind::Other);
    let file = root.open_in(c"app.js").unwrap();
    assert_eq!(file.kind().unwrap(), Kind::Regular { size: 6 });
    assert_eq!(file.read_up_to(6, 6).unwrap(), b"let x;");
    assert_eq!(file.read_up_to(6, 6).unwrap(), b"", "at the end");
    let capped = root.open_in(c"app.js").unwrap();
    assert_eq!(
        capped.read_up_to(2, 6).unwrap(),
        b"let",
        "one byte over the limit"
    );
    // Symlinks are refused, to files and to directories alike.
    for name in [c"link_out", c"alias.js", c"dir_out"] {
        assert_eq!(root.open_in(name).unwrap_err(), nix::errno::Errno::ELOOP);
    }
    assert!(root.open_dir_in(c"dir_out").is_err());
    assert!(root.open_dir_in(c"sub").is_ok());
    assert_eq!(
        root.open_in(c"sub").unwrap().kind().unwrap(),
        Kind::Directory
    );
}

#[test]
fn dotfiles_are_not_loaded_nor_served() {
    let t = Tree::new();
    fs::write(t.site.join(".env"), "TOKEN").unwrap();
    fs::create_dir_all(t.site.join(".git")).unwrap();
    fs::write(t.site.join(".git/config"), "[core]").unwrap();
    fs::write(t.site.join("sub/.hidden.js"), "x").unwrap();
    let site = t.load();
    assert_eq!(site.len(), 5);
    for target in [
        "/.env",
        "/.git/config",
        "/sub/.hidden.js",
        "/%2eenv",
        "/./.env",
    ] {
        assert!(serve(&site, target, None).is_none(), "{target}");
    }
    assert!(site.get(".env").is_none() && site.get(".git/config").is_none());
}

#[test]
fn the_total_size_is_capped_and_the_size_found_reported() {
    let t = Tree::new();
    // index.html 11 + app.js 6 + sub/index.html 10 + sub/page.html 11 + "a b.txt" 6.
    let total = 44;
    let site = StaticSite::load(&t.site, total).unwrap();
    assert_eq!((site.len(), site.bytes()), (5, total));
    for cap in [total - 1, 1, 0] {
        match StaticSite::load(&t.site, cap) {
            Err(LoadError::OverCap { found, cap: c, dir }) => {
                assert_eq!((found, c), (total, cap));
                assert_eq!(dir, t.site.display().to_string());
            }
            other => panic!("cap {cap}: {other:?}"),
        }
    }
    let message = StaticSite::load(&t.site, 40).unwrap_err().to_string();
    assert!(!message.contains('\n'));
    assert!(
        message.contains("44 bytes") && message.contains("40 bytes"),
        "{message}"
    );
}

#[test]
fn a_missing_folder_is_an_error_naming_it() {
    let t = Tree::new();
    let missing = t.base.join("nope");
    let e = StaticSite::load(&missing, 100).unwrap_err();
    assert!(matches!(e, LoadError::Root { .. }), "{e:?}");
    assert!(e.to_string().contains(&missing.display().to_string()));
    let file = t.site.join("app.js");
    assert!(matches!(
        StaticSite::load(&file, 100),
        Err(LoadError::Root { .. })
    ));
}

#[test]
fn the_folder_itself_may_be_a_symlink() {
    let t = Tree::new();
    let current = t.base.join("current");
    std::os::unix::fs::symlink(&t.site, &current).unwrap();
    let site = StaticSite::load(&current, 1 << 20).unwrap();
    assert_eq!(site.len(), 5);
}

#[test]
fn directories_deeper_than_the_limit_are_skipped() {
    let t = Tree::new();
    let mut deep = t.site.clone();
    for _ in 0..=MAX_DEPTH {
        deep.push("d");
    }
    fs::create_dir_all(&deep).unwrap();
    fs::write(deep.join("too-deep.txt"), "x").unwrap();
    fs::write(deep.parent().unwrap().join("deep-enough.txt"), "y").unwrap();
    let site = t.load();
    let at = |levels: usize, name: &str| format!("{}{name}", "d/".repeat(levels));
    assert!(site.get(&at(MAX_DEPTH, "deep-enough.txt")).is_some());
    assert!(site.get(&at(MAX_DEPTH + 1, "too-deep.txt")).is_none());
}

#[test]
fn replies_share_the_loaded_bytes_with_an_etag_and_304() {
    use sha2::{Digest, Sha256};
    let t = Tree::new();
    let site = t.load();
    let a = serve(&site, "/app.js", None).unwrap();
    let b = serve(&site, "/app.js", None).unwrap();
    match (&a.body, &b.body) {
        (Body::Blob(x), Body::Blob(y)) => assert!(Rc::ptr_eq(x, y), "one buffer"),
        other => panic!("{other:?}"),
    }
    let etag = a.header("ETag").unwrap().to_string();
    let hex: String = Sha256::digest(b"let x;")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(etag, format!("\"0x{hex}\""));
    assert_eq!(a.header("Cache-Control"), Some("no-cache"));
    for inm in [
        etag.as_str(),
        "*",
        &format!("W/{etag}"),
        &format!("\"x\", {etag}"),
    ] {
        let r = serve(&site, "/app.js", Some(inm)).unwrap();
        assert_eq!((r.status, r.body.len()), (304, 0), "{inm}");
        assert_eq!(r.header("ETag"), Some(etag.as_str()));
    }
    assert_eq!(
        serve(&site, "/app.js", Some("\"0x00\"")).unwrap().status,
        200
    );
    let other = serve(&site, "/index.html", None).unwrap();
    assert_ne!(other.header("ETag"), Some(etag.as_str()));
}

#[test]
fn a_reload_replaces_the_set_only_when_it_loads() {
    let t = Tree::new();
    let files = StaticFiles::load(t.site.clone(), 64).unwrap();
    let before = files.site();
    let held = serve(&before, "/app.js", None).unwrap();
    fs::write(t.site.join("app.js"), "let y;").unwrap();
    assert_eq!(
        serve(&files.site(), "/app.js", None)
            .unwrap()
            .body
            .as_slice(),
        b"let x;",
        "nothing changes before a reload"
    );
    files.reload().unwrap();
    assert_eq!(
        serve(&files.site(), "/app.js", None)
            .unwrap()
            .body
            .as_slice(),
        b"let y;"
    );
    // A reply taken before the reload still holds the old bytes.
    assert_eq!(held.body.as_slice(), b"let x;");

    fs::write(t.site.join("big.bin"), [0u8; 100]).unwrap();
    assert!(matches!(files.reload(), Err(LoadError::OverCap { .. })));
    assert_eq!(
        serve(&files.site(), "/app.js", None)
            .unwrap()
            .body
            .as_slice(),
        b"let y;",
        "a failed reload keeps the current set"
    );
    assert!(serve(&files.site(), "/big.bin", None).is_none());
}

#[test]
fn percent_decoding_is_single_and_strict() {
    assert_eq!(percent_decode("a%20b%2Fc").unwrap(), b"a b/c");
    assert_eq!(percent_decode("%252e").unwrap(), b"%2e");
    assert!(percent_decode("%").is_none());
    assert!(percent_decode("%4").is_none());
    assert!(percent_decode("%g0").is_none());
}

#[test]
fn content_types_by_extension() {
    for (name, ct) in [
        ("a.html", "text/html; charset=utf-8"),
        ("a.HTM", "text/html; charset=utf-8"),
        ("a.mjs", "text/javascript; charset=utf-8"),
        ("a.css", "text/css; charset=utf-8"),
        ("a.json", "application/json"),
        ("a.js.map", "application/json"),
        ("a.svg", "image/svg+xml"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.ico", "image/x-icon"),
        ("a.wasm", "application/wasm"),
        ("a.txt", "text/plain; charset=utf-8"),
        ("a.woff2", "font/woff2"),
        ("a.bin", "application/octet-stream"),
        ("noext", "application/octet-stream"),
    ] {
        assert_eq!(content_type(Path::new(name)), ct, "{name}");
    }
}
