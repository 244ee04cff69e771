//! Static files from `--static-dir`: safe path resolution (no traversal in any encoding,
//! no symlink escape), content types by extension, `/` → `index.html`.
//!
//! The target is percent-decoded exactly once; encoded slashes (`%2f`, `%5c`),
//! backslashes, NUL and `..` segments are refused outright rather than normalised, and
//! the canonical result must lie under the canonical static directory.

use super::router::{Body, Reply};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest file served.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Decodes `%XX` escapes once. `None` when an escape is truncated or not hex.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hi = hex_val(*bytes.get(i + 1)?)?;
            let lo = hex_val(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    Some(out)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Resolves a request path (query allowed, ignored) to a regular file under
/// `static_dir`, or `None` when it is unsafe, missing, or not a file.
pub fn resolve(static_dir: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if !path.starts_with('/') {
        return None;
    }
    let lower = path.to_ascii_lowercase();
    if lower.contains("%2f") || lower.contains("%5c") {
        return None;
    }
    let decoded = String::from_utf8(percent_decode(path)?).ok()?;
    if decoded.contains('\\') || decoded.contains('\0') {
        return None;
    }
    let mut joined = static_dir.to_path_buf();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => continue,
            ".." => return None,
            s => joined.push(s),
        }
    }
    if decoded.ends_with('/') || joined.is_dir() {
        joined.push("index.html");
    }
    let root = static_dir.canonicalize().ok()?;
    let file = joined.canonicalize().ok()?;
    if !file.starts_with(&root) || !file.is_file() {
        return None;
    }
    Some(file)
}

/// The `Content-Type` for a file, by its extension (case-insensitive).
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "ico" => "image/x-icon",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        _ => "application/octet-stream",
    }
}

/// Reads a file of at most `cap` bytes; `None` when unreadable or larger.
pub fn read_capped(path: &Path, cap: u64) -> Option<Vec<u8>> {
    let file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    if len > cap {
        return None;
    }
    let mut buf = Vec::with_capacity(usize::try_from(len).ok()?);
    file.take(cap + 1).read_to_end(&mut buf).ok()?;
    if buf.len() as u64 > cap {
        return None;
    }
    Some(buf)
}

/// Serves `target` from `static_dir`: a 200 reply, or `None` (the caller answers 404).
pub fn serve(static_dir: &Path, target: &str) -> Option<Reply> {
    let path = resolve(static_dir, target)?;
    let bytes = read_capped(&path, MAX_FILE_BYTES)?;
    Some(Reply {
        status: 200,
        content_type: content_type(&path),
        body: Body::Owned(bytes),
        headers: vec![("Cache-Control", "no-cache".to_string())],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// A fresh directory tree, removed on drop:
    /// `base/site/{index.html, app.js, sub/index.html, sub/page.html, a b.txt,
    /// link_out -> base/secret.txt, dir_out -> base/outside}` and `base/secret.txt`.
    struct Tree {
        base: PathBuf,
        site: PathBuf,
    }

    impl Tree {
        fn new() -> Tree {
            static N: AtomicU32 = AtomicU32::new(0);
            let base = std::env::temp_dir().join(format!(
                "leanpoint-static-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
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
            Tree { base, site }
        }

        fn body(&self, target: &str) -> Option<String> {
            let reply = serve(&self.site, target)?;
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
        let reply = serve(&t.site, "/app.js").unwrap();
        assert_eq!(reply.content_type, "text/javascript; charset=utf-8");
    }

    #[test]
    fn missing_files_are_none() {
        let t = Tree::new();
        assert!(t.body("/nope.html").is_none());
        assert!(t.body("/sub/nope/").is_none());
        assert!(t.body("/app.js/").is_none());
        assert!(t.body("").is_none());
        assert!(t.body("app.js").is_none());
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
    fn symlinks_leaving_the_directory_are_refused() {
        let t = Tree::new();
        assert!(t.base.join("secret.txt").is_file());
        assert!(t.body("/link_out").is_none());
        assert!(t.body("/dir_out/").is_none());
        assert!(t.body("/dir_out/index.html").is_none());
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

    #[test]
    fn files_over_the_cap_are_refused() {
        let t = Tree::new();
        let path = t.site.join("app.js");
        assert_eq!(read_capped(&path, 6).unwrap(), b"let x;");
        assert!(read_capped(&path, 5).is_none());
    }
}
