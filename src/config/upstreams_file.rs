//! The upstreams JSON file: `{"upstreams":[{"name","url","path"?}]}`, strictly validated.
//!
//! Unlike the original, which skipped malformed entries silently, every problem is an
//! error of one line naming the file and the entry (1-based). Unknown keys are ignored
//! (at the top level and in entries), so files written for the original keep working.

use super::{one_line, parse_http_url, ConfigError, UpstreamSpec};
use serde_json::{Map, Value};

/// The `path` of an entry that has none.
pub const DEFAULT_PATH: &str = "/status";

/// Parses the file's contents; `file` names it in error messages.
pub fn parse_upstreams_file(file: &str, contents: &str) -> Result<Vec<UpstreamSpec>, ConfigError> {
    let file = one_line(file);
    let fail = |msg: String| ConfigError::new(format!("upstreams file {file}: {msg}"));
    let root: Value =
        serde_json::from_str(contents).map_err(|e| fail(format!("invalid JSON: {e}")))?;
    const SHAPE: &str = r#"expected {"upstreams": [{"name": ..., "url": ...}, ...]}"#;
    let Value::Object(root) = root else {
        return Err(fail(format!("top level is not an object; {SHAPE}")));
    };
    let list = match root.get("upstreams") {
        Some(Value::Array(list)) => list,
        Some(_) => return Err(fail(format!("\"upstreams\" is not an array; {SHAPE}"))),
        None => return Err(fail(format!("no \"upstreams\" key; {SHAPE}"))),
    };
    if list.is_empty() {
        return Err(fail(
            "\"upstreams\" is empty; at least one upstream is required".into(),
        ));
    }
    let mut specs: Vec<UpstreamSpec> = Vec::with_capacity(list.len());
    for (i, item) in list.iter().enumerate() {
        let n = i + 1;
        let spec = parse_entry(n, item).map_err(&fail)?;
        if let Some(first) = specs.iter().position(|s| s.name == spec.name) {
            return Err(fail(format!(
                "entry {n} ({:?}): duplicate name (also entry {})",
                spec.name,
                first + 1
            )));
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// One entry; `n` is its 1-based position. The error is the text after the file name.
fn parse_entry(n: usize, item: &Value) -> Result<UpstreamSpec, String> {
    let Value::Object(obj) = item else {
        return Err(format!("entry {n}: not an object"));
    };
    let name = string_field(obj, "name").map_err(|e| format!("entry {n}: {e}"))?;
    let Some(name) = name else {
        return Err(format!("entry {n}: missing \"name\""));
    };
    if name.is_empty() {
        return Err(format!("entry {n}: \"name\" is empty"));
    }
    if name.chars().any(char::is_control) {
        return Err(format!(
            "entry {n} ({name:?}): \"name\" contains control characters"
        ));
    }
    let at = format!("entry {n} ({name:?})");
    let url = match string_field(obj, "url") {
        Ok(Some(url)) => url,
        Ok(None) => return Err(format!("{at}: missing \"url\"")),
        Err(e) => return Err(format!("{at}: {e}")),
    };
    let target = parse_http_url(url).map_err(|e| format!("{at}: url {url:?}: {e}"))?;
    let path = match string_field(obj, "path") {
        Ok(Some(path)) => normalize_path(path),
        Ok(None) => DEFAULT_PATH.to_string(),
        Err(e) => return Err(format!("{at}: {e}")),
    };
    if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(format!(
            "{at}: path {path:?} contains whitespace or control characters"
        ));
    }
    Ok(UpstreamSpec {
        name: name.to_string(),
        url: url.to_string(),
        target,
        path,
    })
}

/// `Ok(None)` when absent (or `null`), an error when present but not a string.
fn string_field<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key:?} is not a string")),
    }
}

/// Adds the leading `/` if it is missing (as the original did for `--lean-path`).
pub(crate) fn normalize_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIXTURE: &str = r#"{ "upstreams": [ { "name": "zeam_0", "url": "http://127.0.0.1:5052", "path": "/status" } ] }"#;

    fn err(contents: &str) -> String {
        match parse_upstreams_file("ups.json", contents) {
            Ok(v) => panic!("accepted: {v:?}"),
            Err(e) => {
                let s = e.to_string();
                assert!(!s.contains('\n'), "not one line: {s}");
                assert!(s.starts_with("upstreams file ups.json: "), "{s}");
                s
            }
        }
    }

    fn entries(list: &str) -> String {
        format!(r#"{{"upstreams": [{list}]}}"#)
    }

    #[test]
    fn parses_the_fixture() {
        let v = parse_upstreams_file("ups.json", FIXTURE).unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].name, "zeam_0");
        assert_eq!(v[0].url, "http://127.0.0.1:5052");
        assert_eq!(v[0].path, "/status");
        assert_eq!(
            v[0].target,
            parse_http_url("http://127.0.0.1:5052").unwrap()
        );
    }

    #[test]
    fn path_defaults_and_gains_a_leading_slash() {
        let v = parse_upstreams_file(
            "f",
            &entries(
                r#"{"name":"a","url":"http://a:1"},
                   {"name":"b","url":"http://b:2/p/","path":"health"},
                   {"name":"c","url":"http://c:3","path":null,"extra":true}"#,
            ),
        )
        .unwrap();
        let paths: Vec<_> = v.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/status", "/health", "/status"]);
        assert_eq!(v[1].target.prefix, "/p");
        assert_eq!(v[1].url, "http://b:2/p/");
    }

    #[test]
    fn ignores_unknown_top_level_keys() {
        let v = parse_upstreams_file(
            "f",
            r#"{"comment":"x","upstreams":[{"name":"a","url":"http://a:1"}]}"#,
        )
        .unwrap();
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn refuses_bad_shapes() {
        assert!(err("").contains("invalid JSON"));
        assert!(err("{").contains("invalid JSON"));
        assert!(err("[]").contains("top level is not an object"));
        assert!(err("{}").contains("no \"upstreams\" key"));
        assert!(err(r#"{"upstreams":{}}"#).contains("not an array"));
        assert!(err(r#"{"upstreams":[]}"#).contains("is empty"));
    }

    #[test]
    fn refuses_bad_entries_naming_them() {
        assert_eq!(
            err(&entries("1")),
            "upstreams file ups.json: entry 1: not an object"
        );
        assert!(err(&entries(r#"{"url":"http://a:1"}"#)).contains("entry 1: missing \"name\""));
        assert!(err(&entries(r#"{"name":7,"url":"http://a:1"}"#))
            .contains("entry 1: \"name\" is not a string"));
        assert!(err(&entries(r#"{"name":"","url":"http://a:1"}"#)).contains("\"name\" is empty"));
        assert!(err(&entries(r#"{"name":"a\nb","url":"http://a:1"}"#)).contains("control"));
        assert!(err(&entries(r#"{"name":"a"}"#)).contains(r#"entry 1 ("a"): missing "url""#));
        assert!(err(&entries(r#"{"name":"a","url":5}"#))
            .contains(r#"entry 1 ("a"): "url" is not a string"#));
        assert!(
            err(&entries(r#"{"name":"a","url":"http://a:1","path":[]}"#))
                .contains(r#"entry 1 ("a"): "path" is not a string"#)
        );
        assert!(
            err(&entries(r#"{"name":"a","url":"http://a:1","path":"/a b"}"#))
                .contains("whitespace")
        );
    }

    #[test]
    fn refuses_bad_url_naming_entry_and_url() {
        let e = err(&entries(
            r#"{"name":"a","url":"http://a:1"},{"name":"b","url":"http://b:2"},
               {"name":"zeam_0","url":"https://10.0.0.1:5052"}"#,
        ));
        assert!(
            e.starts_with(
                r#"upstreams file ups.json: entry 3 ("zeam_0"): url "https://10.0.0.1:5052": TLS is not supported"#
            ),
            "{e}"
        );
        assert!(err(&entries(r#"{"name":"a","url":"http://a"}"#)).contains("missing port"));
    }

    #[test]
    fn refuses_duplicate_names() {
        let e = err(&entries(
            r#"{"name":"a","url":"http://a:1"},{"name":"b","url":"http://b:1"},
               {"name":"a","url":"http://c:1"}"#,
        ));
        assert_eq!(
            e,
            r#"upstreams file ups.json: entry 3 ("a"): duplicate name (also entry 1)"#
        );
    }

    #[test]
    fn file_name_cannot_break_the_line() {
        let e = parse_upstreams_file("a\nb", "[]").unwrap_err().to_string();
        assert!(e.starts_with("upstreams file a\\nb: "), "{e}");
    }
}
