//! The `route` label of `leanpoint_http_requests_total`: which of the router's routes a
//! request target names, from a fixed set, so that no client can grow the label set.
//! Pure: a target (and whether a `--static-dir` is served) in, a label out.
//!
//! Known routes keep their path as label (`/status`, `/lean/v0/states/finalized`, ...;
//! `/api/upstreams/:name/fork_choice` for every upstream name: no braces in a label
//! value, for naive parsers). `/` (and `/index.html`) is the built-in dashboard. With
//! `--static-dir`, any other path is `static` (a file of the folder), unless it answered
//! `404`. Everything else is `other`: unknown paths, unknown `/lean/v0/` and `/api/`
//! paths, and requests refused before a path was read.

/// One value of the `route` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteLabel {
    Status,
    ApiUpstreams,
    ApiUpstreamForkChoice,
    ApiHistory,
    ApiTimeline,
    Metrics,
    Healthz,
    LeanStates,
    LeanBlocks,
    LeanForkChoice,
    LeanJustified,
    LeanHealth,
    /// The built-in dashboard (`/`, `/index.html` without `--static-dir`).
    Dashboard,
    /// A file of `--static-dir`.
    Static,
    /// Anything else.
    Other,
}

impl RouteLabel {
    /// Every label, in index order.
    pub const ALL: [RouteLabel; 15] = [
        RouteLabel::Status,
        RouteLabel::ApiUpstreams,
        RouteLabel::ApiUpstreamForkChoice,
        RouteLabel::ApiHistory,
        RouteLabel::ApiTimeline,
        RouteLabel::Metrics,
        RouteLabel::Healthz,
        RouteLabel::LeanStates,
        RouteLabel::LeanBlocks,
        RouteLabel::LeanForkChoice,
        RouteLabel::LeanJustified,
        RouteLabel::LeanHealth,
        RouteLabel::Dashboard,
        RouteLabel::Static,
        RouteLabel::Other,
    ];
    /// How many labels there are.
    pub const COUNT: usize = Self::ALL.len();

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteLabel::Status => "/status",
            RouteLabel::ApiUpstreams => "/api/upstreams",
            RouteLabel::ApiUpstreamForkChoice => "/api/upstreams/:name/fork_choice",
            RouteLabel::ApiHistory => "/api/history",
            RouteLabel::ApiTimeline => "/api/timeline",
            RouteLabel::Metrics => "/metrics",
            RouteLabel::Healthz => "/healthz",
            RouteLabel::LeanStates => "/lean/v0/states/finalized",
            RouteLabel::LeanBlocks => "/lean/v0/blocks/finalized",
            RouteLabel::LeanForkChoice => "/lean/v0/fork_choice",
            RouteLabel::LeanJustified => "/lean/v0/checkpoints/justified",
            RouteLabel::LeanHealth => "/lean/v0/health",
            RouteLabel::Dashboard => "/",
            RouteLabel::Static => "static",
            RouteLabel::Other => "other",
        }
    }

    /// Position in [`RouteLabel::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The label of a request for `target` (query ignored; None: refused before a
    /// target was read) answered with `status`, with or without a `--static-dir`.
    pub fn of(target: Option<&str>, static_dir: bool, status: u16) -> RouteLabel {
        match target.map(|t| classify(t, static_dir)) {
            // A path the folder does not hold is not one of its files.
            Some(RouteLabel::Static) if status == 404 => RouteLabel::Other,
            Some(label) => label,
            None => RouteLabel::Other,
        }
    }
}

/// The route `target` names, as the router would answer it (`server::router::route`).
pub fn classify(target: &str, static_dir: bool) -> RouteLabel {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    let exact = match path {
        "/status" => Some(RouteLabel::Status),
        "/api/upstreams" => Some(RouteLabel::ApiUpstreams),
        "/api/history" => Some(RouteLabel::ApiHistory),
        "/api/timeline" => Some(RouteLabel::ApiTimeline),
        "/metrics" => Some(RouteLabel::Metrics),
        "/healthz" => Some(RouteLabel::Healthz),
        "/lean/v0/states/finalized" => Some(RouteLabel::LeanStates),
        "/lean/v0/blocks/finalized" => Some(RouteLabel::LeanBlocks),
        "/lean/v0/fork_choice" => Some(RouteLabel::LeanForkChoice),
        "/lean/v0/checkpoints/justified" => Some(RouteLabel::LeanJustified),
        "/lean/v0/health" => Some(RouteLabel::LeanHealth),
        _ => None,
    };
    if let Some(label) = exact {
        return label;
    }
    let upstream_fork_choice = path
        .strip_prefix("/api/upstreams/")
        .and_then(|rest| rest.strip_suffix("/fork_choice"))
        .is_some_and(|name| !name.is_empty());
    if upstream_fork_choice {
        RouteLabel::ApiUpstreamForkChoice
    } else if static_dir {
        RouteLabel::Static
    } else if path == "/" || path == "/index.html" {
        RouteLabel::Dashboard
    } else {
        RouteLabel::Other
    }
}

/// Whether `target` is on the lean API (`/lean/v0/...`).
pub fn is_lean_api(target: &str) -> bool {
    target.starts_with("/lean/v0/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routes_keep_their_path() {
        for label in RouteLabel::ALL {
            let s = label.as_str();
            if s.starts_with('/') && !s.contains(':') {
                assert_eq!(classify(s, false), label, "{s}");
                if label != RouteLabel::Dashboard {
                    assert_eq!(classify(s, true), label, "{s} with a static dir");
                }
                assert_eq!(classify(&format!("{s}?x=1"), false), label, "{s} query");
            }
        }
    }

    #[test]
    fn indexes_follow_all() {
        for (i, label) in RouteLabel::ALL.into_iter().enumerate() {
            assert_eq!(label.index(), i);
        }
    }

    #[test]
    fn unknown_paths_are_other() {
        for path in [
            "/lean/v0/nope",
            "/lean/v0/states/finalized/",
            "/api/upstreams/",
            "/api/upstreams//fork_choice",
            "/statusx",
            "/STATUS",
            "http://host/status",
            "*",
            "",
        ] {
            assert_eq!(classify(path, false), RouteLabel::Other, "{path}");
        }
        assert_eq!(RouteLabel::of(None, true, 400), RouteLabel::Other);
    }

    #[test]
    fn upstream_fork_choice_is_one_label_for_every_name() {
        for path in [
            "/api/upstreams/zeam_0/fork_choice",
            "/api/upstreams/a%20b/fork_choice?x",
        ] {
            assert_eq!(classify(path, false), RouteLabel::ApiUpstreamForkChoice);
        }
    }

    #[test]
    fn dashboard_or_static_files() {
        assert_eq!(classify("/", false), RouteLabel::Dashboard);
        assert_eq!(classify("/index.html", false), RouteLabel::Dashboard);
        assert_eq!(classify("/app.js", false), RouteLabel::Other);
        assert_eq!(classify("/", true), RouteLabel::Static);
        assert_eq!(classify("/app.js", true), RouteLabel::Static);
        assert_eq!(
            RouteLabel::of(Some("/app.js"), true, 200),
            RouteLabel::Static
        );
        assert_eq!(
            RouteLabel::of(Some("/app.js"), true, 304),
            RouteLabel::Static
        );
        assert_eq!(
            RouteLabel::of(Some("/gone.js"), true, 404),
            RouteLabel::Other
        );
        // An unknown lean path with a static folder: static until it answers 404.
        assert_eq!(
            RouteLabel::of(Some("/lean/v0/nope"), true, 404),
            RouteLabel::Other
        );
        assert_eq!(
            RouteLabel::of(Some("/status"), true, 404),
            RouteLabel::Status,
            "a known route keeps its label whatever it answers"
        );
    }

    #[test]
    fn lean_api_paths() {
        assert!(is_lean_api("/lean/v0/nope"));
        assert!(is_lean_api("/lean/v0/states/finalized"));
        assert!(!is_lean_api("/lean/v0"));
        assert!(!is_lean_api("/status"));
    }
}
