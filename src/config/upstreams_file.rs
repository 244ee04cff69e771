//! The upstreams JSON file: `{"upstreams":[{"name","url","path"?}]}`.
//!
//! Nothing is silent, but one bad row does not take the monitor down (generated files
//! carry such rows, e.g. `"url": "http://:5055"` for a validator without an IP):
//! - a problem with the file itself (unreadable, not JSON, wrong top-level shape, no
//!   usable entry) is an error of one line naming the file;
//! - a problem with one entry (not an object, no name, a bad or `https://` URL, a
//!   duplicate name, ...) makes that entry `misconfigured`: it is kept, with a message
//!   naming the entry (1-based) and the problem, shown in the API and never polled.
//!
//! Unknown keys are ignored (at the top level and in entries), so files written for the
//! original keep working.

use super::{one_line, parse_http_url, ConfigError, UpstreamSpec};
use serde_json::{Map, Value};

/// The `path` of an entry that has none.
pub const DEFAULT_PATH: &str = "/status";

/// Parses the file's contents; `file` names it in error messages. Entries with a
/// problem are returned as `misconfigured` (see [`UpstreamSpec::problem`]).
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
        let mut spec = parse_entry(n, item);
        let first = specs
            .iter()
            .position(|s| s.is_usable() && s.name == spec.name);
        if let (true, Some(first)) = (spec.is_usable(), first) {
            spec = UpstreamSpec::misconfigured(
                spec.name.clone(),
                spec.url,
                spec.path,
                format!(
                    "entry {n} ({:?}): duplicate name (also entry {})",
                    spec.name,
                    first + 1
                ),
            );
        }
        specs.push(spec);
    }
    if !specs.iter().any(UpstreamSpec::is_usable) {
        let problems: Vec<&str> = specs.iter().filter_map(|s| s.problem.as_deref()).collect();
        return Err(fail(format!("no usable entry: {}", problems.join("; "))));
    }
    Ok(specs)
}

/// Logs every misconfigured entry at error level (start-up and each reload): loud, but
/// the monitor keeps running with the others.
pub fn log_misconfigured(file: &str, specs: &[UpstreamSpec]) {
    for problem in specs.iter().filter_map(|s| s.problem.as_deref()) {
        tracing::error!(file = %one_line(file), "{problem}; shown as misconfigured, not polled");
    }
}

/// One entry; `n` is its 1-based position. A problem makes it `misconfigured`, named
/// by its name when it has a usable one, else `entry N`.
fn parse_entry(n: usize, item: &Value) -> UpstreamSpec {
    let Value::Object(obj) = item else {
        return bad(n, None, "", DEFAULT_PATH, "not an object".into());
    };
    let name = match string_field(obj, "name") {
        Ok(Some(name)) if name.chars().any(char::is_control) => {
            return bad(
                n,
                None,
                "",
                DEFAULT_PATH,
                format!("\"name\" {name:?} contains control characters"),
            );
        }
        Ok(Some("")) => return bad(n, None, "", DEFAULT_PATH, "\"name\" is empty".into()),
        Ok(Some(name)) => name,
        Ok(None) => return bad(n, None, "", DEFAULT_PATH, "missing \"name\"".into()),
        Err(e) => return bad(n, None, "", DEFAULT_PATH, e),
    };
    let url = match string_field(obj, "url") {
        Ok(Some(url)) => url,
        Ok(None) => return bad(n, Some(name), "", DEFAULT_PATH, "missing \"url\"".into()),
        Err(e) => return bad(n, Some(name), "", DEFAULT_PATH, e),
    };
    let path = match string_field(obj, "path") {
        Ok(Some(path)) => normalize_path(path),
        Ok(None) => DEFAULT_PATH.to_string(),
        Err(e) => return bad(n, Some(name), url, DEFAULT_PATH, e),
    };
    if path.chars().any(|c| c.is_control() || c.is_whitespace()) {
        let problem = format!("path {path:?} contains whitespace or control characters");
        return bad(n, Some(name), url, DEFAULT_PATH, problem);
    }
    match parse_http_url(url) {
        Ok(target) => UpstreamSpec {
            name: name.to_string(),
            url: url.to_string(),
            target,
            path,
            problem: None,
        },
        Err(e) => bad(n, Some(name), url, &path, format!("url {url:?}: {e}")),
    }
}

/// A misconfigured entry: `entry N ("name"): problem`.
fn bad(n: usize, name: Option<&str>, url: &str, path: &str, problem: String) -> UpstreamSpec {
    let (shown, at) = match name {
        Some(name) => (name.to_string(), format!("entry {n} ({name:?})")),
        None => (format!("entry {n}"), format!("entry {n}")),
    };
    UpstreamSpec::misconfigured(
        shown,
        url.to_string(),
        path.to_string(),
        format!("{at}: {problem}"),
    )
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

    /// The problem of entry `at` (0-based) of a file whose other entries are fine.
    fn problem(list: &str, at: usize) -> (String, String) {
        let v = parse_upstreams_file("ups.json", &entries(list)).unwrap();
        let spec = &v[at];
        assert!(!spec.is_usable(), "{spec:?}");
        assert!(v.iter().any(UpstreamSpec::is_usable));
        (spec.name.clone(), spec.problem.clone().unwrap())
    }

    const GOOD: &str = r#"{"name":"ok","url":"http://ok:1"}"#;

    #[test]
    fn a_bad_entry_is_kept_as_misconfigured_naming_it_and_the_others_are_usable() {
        let with = |bad: &str| format!("{GOOD},{bad}");
        assert_eq!(
            problem(&with("1"), 1),
            ("entry 2".into(), "entry 2: not an object".into())
        );
        assert_eq!(
            problem(&with(r#"{"url":"http://a:1"}"#), 1).1,
            "entry 2: missing \"name\""
        );
        assert!(problem(&with(r#"{"name":7,"url":"http://a:1"}"#), 1)
            .1
            .contains("entry 2: \"name\" is not a string"));
        assert!(problem(&with(r#"{"name":"","url":"http://a:1"}"#), 1)
            .1
            .contains("\"name\" is empty"));
        assert!(problem(&with(r#"{"name":"a\nb","url":"http://a:1"}"#), 1)
            .1
            .contains("control"));
        assert_eq!(
            problem(&with(r#"{"name":"a"}"#), 1),
            ("a".into(), r#"entry 2 ("a"): missing "url""#.into())
        );
        assert!(problem(&with(r#"{"name":"a","url":5}"#), 1)
            .1
            .contains(r#"entry 2 ("a"): "url" is not a string"#));
        assert!(
            problem(&with(r#"{"name":"a","url":"http://a:1","path":[]}"#), 1)
                .1
                .contains(r#"entry 2 ("a"): "path" is not a string"#)
        );
        assert!(
            problem(&with(r#"{"name":"a","url":"http://a:1","path":"/a b"}"#), 1)
                .1
                .contains("whitespace")
        );
    }

    #[test]
    fn a_bad_url_names_entry_and_url() {
        let (name, p) = problem(
            r#"{"name":"a","url":"http://a:1"},{"name":"b","url":"http://b:2"},
               {"name":"zeam_0","url":"https://10.0.0.1:5052"}"#,
            2,
        );
        assert_eq!(name, "zeam_0");
        assert!(
            p.starts_with(
                r#"entry 3 ("zeam_0"): url "https://10.0.0.1:5052": TLS is not supported"#
            ),
            "{p}"
        );
        // What lean-quickstart writes for a validator without an IP.
        let (_, p) = problem(
            &format!(r#"{GOOD},{{"name":"zeam_1","url":"http://:5055"}}"#),
            1,
        );
        assert_eq!(p, r#"entry 2 ("zeam_1"): url "http://:5055": empty host"#);
        // No port is port 80, as any HTTP client does.
        let v =
            parse_upstreams_file("f", &entries(r#"{"name":"a","url":"http://a/lean"}"#)).unwrap();
        assert_eq!(
            (v[0].target.port, v[0].target.prefix.as_str()),
            (80, "/lean")
        );
    }

    #[test]
    fn a_duplicate_name_is_misconfigured_and_the_first_is_kept() {
        let v = parse_upstreams_file(
            "ups.json",
            &entries(
                r#"{"name":"a","url":"http://a:1"},{"name":"b","url":"http://b:1"},
                   {"name":"a","url":"http://c:1"}"#,
            ),
        )
        .unwrap();
        assert!(v[0].is_usable() && v[1].is_usable());
        assert_eq!(
            v[2].problem.as_deref(),
            Some(r#"entry 3 ("a"): duplicate name (also entry 1)"#)
        );
        assert_eq!(v[2].url, "http://c:1");
    }

    #[test]
    fn no_usable_entry_is_a_file_problem_listing_every_entry() {
        let e = err(&entries(r#"{"name":"a","url":"http://:1"},7"#));
        assert_eq!(
            e,
            r#"upstreams file ups.json: no usable entry: entry 1 ("a"): url "http://:1": empty host; entry 2: not an object"#
        );
    }

    #[test]
    fn file_name_cannot_break_the_line() {
        let e = parse_upstreams_file("a\nb", "[]").unwrap_err().to_string();
        assert!(e.starts_with("upstreams file a\\nb: "), "{e}");
    }
}
