//! Static files from `--static-dir`, served from memory: the folder is read at start-up
//! and on SIGHUP (`load.rs`: no symlink followed below the folder, no FIFO opened
//! blocking, only regular files by `fstat` of the opened fd, a total size cap) into
//! immutable shared buffers (`site.rs`), so a request never touches the disk and a file
//! swapped on disk can neither stall the loop nor leak bytes from outside the folder.
//! Each file is served without a copy, with a strong `ETag` (SHA-256 of its bytes) and
//! `304` for a matching `If-None-Match`; content types by extension; `/` and a folder
//! name → its `index.html`.
//!
//! The request path is percent-decoded exactly once; encoded slashes (`%2f`, `%5c`),
//! backslashes, NUL and `..` segments are refused outright rather than normalised, and a
//! segment starting with `.` (a dotfile) is never served.

mod fd;
mod load;
mod site;

pub use load::{LoadError, MAX_DEPTH, MAX_ENTRIES};
pub use site::{StaticFile, StaticFiles, StaticSite};

use super::router::{etag_matches, Body, Reply};
use std::path::Path;
use std::rc::Rc;

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

/// The loaded file a request path (query allowed, ignored) names, or `None` when the
/// path is unsafe, names a dotfile, or nothing loaded.
pub fn resolve<'s>(site: &'s StaticSite, target: &str) -> Option<&'s StaticFile> {
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
    let mut parts = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => continue,
            s if s.starts_with('.') => return None, // `..`, dotfiles
            s => parts.push(s),
        }
    }
    let key = parts.join("/");
    let index = if key.is_empty() {
        "index.html".to_string()
    } else {
        format!("{key}/index.html")
    };
    if key.is_empty() || decoded.ends_with('/') {
        site.get(&index)
    } else {
        site.get(&key).or_else(|| site.get(&index))
    }
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

/// Serves `target` from the loaded `site`: 200 with the shared bytes, or 304 when
/// `if_none_match` matches the file's ETag; `None` (the caller answers 404) when no
/// loaded file has that name.
pub fn serve(site: &StaticSite, target: &str, if_none_match: Option<&str>) -> Option<Reply> {
    let file = resolve(site, target)?;
    let etag = file.blob.etag.clone();
    let not_modified = if_none_match.is_some_and(|v| etag_matches(v, &etag));
    Some(Reply {
        status: if not_modified { 304 } else { 200 },
        content_type: file.content_type,
        body: if not_modified {
            Body::Empty
        } else {
            Body::Blob(Rc::clone(&file.blob))
        },
        headers: vec![("ETag", etag), ("Cache-Control", "no-cache".to_string())],
    })
}

#[cfg(test)]
mod tests;
