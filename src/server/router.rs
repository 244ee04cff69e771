//! Routing, pure: a parsed request plus the application state in, a reply out. Inbound
//! requests never reach an upstream: everything comes from `AppState`.

use super::pairing::{Half, Pairing};
use super::render::{
    render_checkpoint, render_history, render_status, render_upstreams, timeline, LEAN_HEALTHY,
    LEAN_UNHEALTHY,
};
use super::{dashboard, static_files};
use crate::app::{AppState, Blob};
use crate::http1::request::Method;
use crate::lean::root_hex;
use crate::metrics;
use std::cell::RefCell;
use std::net::IpAddr;
use std::rc::Rc;

/// `Content-Type` of the plain-text answers (errors, `/healthz`).
pub const TEXT_PLAIN: &str = "text/plain";
/// `Content-Type` of JSON answers.
pub const APPLICATION_JSON: &str = "application/json";
/// `Content-Type` of the SSZ block and state.
pub const OCTET_STREAM: &str = "application/octet-stream";
/// `Content-Type` of the built-in dashboard.
pub const TEXT_HTML: &str = "text/html; charset=utf-8";
/// `Cache-Control` of the block and state, as checkpointz does.
pub const STATE_CACHE_CONTROL: &str = "public, max-age=1";

/// The body of a reply. Shared bodies are written from the one buffer, never copied.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Static(&'static [u8]),
    Owned(Vec<u8>),
    /// The verified block's or state's bytes.
    Blob(Rc<Blob>),
    /// A cached upstream body (fork choice).
    Shared(Rc<[u8]>),
}

impl Body {
    /// Length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Body::Empty => 0,
            Body::Static(b) => b.len(),
            Body::Owned(b) => b.len(),
            Body::Blob(s) => s.bytes.len(),
            Body::Shared(b) => b.len(),
        }
    }

    /// Whether the body has no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes to write.
    pub fn as_slice(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Static(b) => b,
            Body::Owned(b) => b,
            Body::Blob(s) => &s.bytes,
            Body::Shared(b) => b,
        }
    }
}

/// A reply; the shell encodes the head, omits the body for HEAD and 304.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Body,
    /// Extra headers (ETag, Cache-Control, Allow, ...).
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// A `text/plain` reply with a fixed body and no extra header.
    pub fn text(status: u16, body: &'static [u8]) -> Reply {
        Reply {
            status,
            content_type: TEXT_PLAIN,
            body: Body::Static(body),
            headers: Vec::new(),
        }
    }

    /// `404` `Not found\n`.
    pub fn not_found() -> Reply {
        Reply::text(404, b"Not found\n")
    }

    /// `405` `Method not allowed\n` with `Allow: GET, HEAD`.
    pub fn method_not_allowed() -> Reply {
        let mut reply = Reply::text(405, b"Method not allowed\n");
        reply.headers.push(("Allow", "GET, HEAD".to_string()));
        reply
    }

    /// A JSON reply with `Cache-Control: no-cache`.
    pub fn json(status: u16, body: Body) -> Reply {
        Reply {
            status,
            content_type: APPLICATION_JSON,
            body,
            headers: vec![no_cache()],
        }
    }

    /// The value of extra header `name` (case-insensitive), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn no_cache() -> (&'static str, String) {
    ("Cache-Control", "no-cache".to_string())
}

/// One request as the router sees it.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    pub method: Method,
    pub target: &'a str,
    pub if_none_match: Option<&'a str>,
    /// The client's address, when known (pairs its block and state requests).
    pub client: Option<IpAddr>,
}

/// What the router may read.
#[derive(Debug, Clone, Copy)]
pub struct RouteContext<'a> {
    pub app: &'a AppState,
    /// Wall-clock ms since the Unix epoch.
    pub now_ms: i64,
    /// The loop's gauges now (open fds, sockets).
    pub gauges: metrics::LoopGauges,
    /// The `--static-dir` files as loaded (None: the built-in dashboard).
    pub static_dir: Option<&'a static_files::StaticSite>,
    /// Pairs each client's block and state across an advance (None: no pairing).
    pub pairing: Option<&'a RefCell<Pairing>>,
    /// The shared `/api/timeline` body (None: rendered for each request).
    pub timeline_cache: Option<&'a RefCell<timeline::TimelineCache>>,
}

/// Routes one request.
pub fn route(input: RouteInput<'_>, ctx: &RouteContext<'_>) -> Reply {
    if input.method == Method::Other {
        return Reply::method_not_allowed();
    }
    let app = ctx.app;
    let path = input
        .target
        .split_once('?')
        .map_or(input.target, |(p, _)| p);
    match path {
        "/status" => {
            let mut out = Vec::with_capacity(512);
            render_status(app, ctx.now_ms, &mut out);
            Reply::json(200, Body::Owned(out))
        }
        "/api/upstreams" => {
            let mut out = Vec::with_capacity(256 + 768 * app.upstreams.len());
            render_upstreams(app, &mut out);
            Reply::json(200, Body::Owned(out))
        }
        "/api/history" => {
            let mut out = Vec::with_capacity(32 + 320 * app.history.len());
            render_history(app, &mut out);
            Reply::json(200, Body::Owned(out))
        }
        "/api/timeline" => match ctx.timeline_cache {
            Some(cache) => Reply::json(200, Body::Shared(cache.borrow_mut().body(app, ctx.now_ms))),
            None => {
                let mut out = Vec::with_capacity(timeline::size_hint(&app.timeline));
                timeline::render_timeline(app, ctx.now_ms, &mut out);
                Reply::json(200, Body::Owned(out))
            }
        },
        "/metrics" => {
            let mut out = Vec::with_capacity(8192 + 2048 * app.upstreams.len());
            metrics::render_metrics(app, &ctx.gauges, ctx.now_ms, &mut out);
            Reply {
                status: 200,
                content_type: metrics::CONTENT_TYPE,
                body: Body::Owned(out),
                headers: vec![no_cache()],
            }
        }
        "/healthz" => {
            let mut reply = match health_check(app, ctx.now_ms, &ctx.gauges) {
                Ok(()) => Reply::text(200, b"ok\n"),
                Err(problem) => Reply::text(503, problem.body()),
            };
            reply.headers.push(no_cache());
            reply
        }
        "/lean/v0/states/finalized" => finalized(input, ctx, Half::State),
        "/lean/v0/blocks/finalized" => finalized(input, ctx, Half::Block),
        "/lean/v0/fork_choice" => match app.fork_choice_from.and_then(|u| app.upstreams.get(u)) {
            Some(record) => fork_choice_of(record),
            None => Reply::text(503, b"no_fork_choice\n"),
        },
        "/lean/v0/checkpoints/justified" => justified_checkpoint(app),
        "/lean/v0/health" => {
            if app.agreed.is_some() && !app.is_stale(ctx.now_ms) {
                Reply::json(200, Body::Static(LEAN_HEALTHY))
            } else {
                Reply::json(503, Body::Static(LEAN_UNHEALTHY))
            }
        }
        _ => match fork_choice_name(path) {
            Some(raw) => fork_choice(app, raw),
            None => fallback(path, input.if_none_match, ctx),
        },
    }
}

/// Why `/healthz` answers 503, in the order checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthProblem {
    /// No upstream configured, no round completed yet, or nobody responded last round.
    NoUpstreams,
    /// The last round had no consensus.
    NoConsensus,
    /// The agreed data is older than `--stale-ms`.
    Stale,
    /// The fds outside the inbound pool exceed the pressure share of the fds outside it
    /// (a full, budgeted inbound pool is not pressure; `FdBudget::under_pressure`).
    FdPressure,
}

impl HealthProblem {
    /// The exact `/healthz` body.
    pub fn body(self) -> &'static [u8] {
        match self {
            HealthProblem::NoUpstreams => b"no_upstreams\n",
            HealthProblem::NoConsensus => b"no_consensus\n",
            HealthProblem::Stale => b"stale\n",
            HealthProblem::FdPressure => b"fd_pressure\n",
        }
    }
}

/// The `/healthz` verdict: `ok` while the last agreement is fresh and the fd budget is
/// fine (a transient split does not flap health); once it is not fresh, what the last
/// round saw: nobody answered, answers without a majority, or else stale data.
pub fn health_check(
    app: &AppState,
    now_ms: i64,
    gauges: &metrics::LoopGauges,
) -> Result<(), HealthProblem> {
    if app.agreed.is_some() && !app.is_stale(now_ms) {
        if gauges.fd_pressure(app) {
            Err(HealthProblem::FdPressure)
        } else {
            Ok(())
        }
    } else if app.upstreams.is_empty()
        || !app.round.completed
        || app.round.responding_upstreams == 0
    {
        Err(HealthProblem::NoUpstreams)
    } else if !app.round.has_consensus {
        Err(HealthProblem::NoConsensus)
    } else {
        Err(HealthProblem::Stale)
    }
}

/// Whether an `If-None-Match` value matches `etag` (a quoted strong tag): `*`, or any
/// listed tag by weak comparison (`W/` ignored); a bare unquoted digest is tolerated.
pub fn etag_matches(if_none_match: &str, etag: &str) -> bool {
    let bare = etag.trim_matches('"');
    if_none_match.split(',').map(str::trim).any(|tag| {
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        tag == "*" || tag == etag || (!bare.is_empty() && tag == bare)
    })
}

/// The verified block or state (`pick`), with its ETag and both roots in headers:
/// `Eth-Consensus-Block-Root` and `Eth-Consensus-State-Root` (docs/api.md).
///
/// Which bundle: the current one, or, for a client that was just served the other half
/// of the previous one, that one (`pairing`).
fn finalized(input: RouteInput<'_>, ctx: &RouteContext<'_>, half: Half) -> Reply {
    let Some(current) = &ctx.app.bundle else {
        return Reply::text(503, b"no_finalized_state\n");
    };
    if ctx.app.is_stale(ctx.now_ms) {
        return Reply::text(503, b"stale\n");
    }
    let bundle = match ctx.pairing {
        Some(pairing) => pairing.borrow_mut().choose(
            input.client,
            half,
            ctx.now_ms,
            current,
            ctx.app.previous_bundle.as_ref(),
        ),
        None => Rc::clone(current),
    };
    let blob = match half {
        Half::Block => &bundle.block,
        Half::State => &bundle.state,
    };
    let headers = vec![
        ("ETag", blob.etag.clone()),
        ("Cache-Control", STATE_CACHE_CONTROL.to_string()),
        ("Eth-Consensus-Block-Root", root_hex(&bundle.block_root)),
        ("Eth-Consensus-State-Root", root_hex(&bundle.state_root)),
    ];
    let not_modified = input
        .if_none_match
        .is_some_and(|v| etag_matches(v, &blob.etag));
    Reply {
        status: if not_modified { 304 } else { 200 },
        content_type: OCTET_STREAM,
        body: if not_modified {
            Body::Empty
        } else {
            Body::Blob(Rc::clone(blob))
        },
        headers,
    }
}

fn justified_checkpoint(app: &AppState) -> Reply {
    let Some(agreed) = &app.agreed else {
        return Reply::text(503, b"no_finalized_state\n");
    };
    let mut out = Vec::with_capacity(96);
    render_checkpoint(agreed.justified.slot, &agreed.justified.root, &mut out);
    Reply::json(200, Body::Owned(out))
}

/// The raw (still percent-encoded) name in `/api/upstreams/{name}/fork_choice`.
fn fork_choice_name(path: &str) -> Option<&str> {
    let name = path
        .strip_prefix("/api/upstreams/")?
        .strip_suffix("/fork_choice")?;
    (!name.is_empty()).then_some(name)
}

fn fork_choice(app: &AppState, raw_name: &str) -> Reply {
    let name = static_files::percent_decode(raw_name).and_then(|b| String::from_utf8(b).ok());
    let Some(record) = name
        .and_then(|n| app.upstream_index(&n))
        .and_then(|i| app.upstreams.get(i))
    else {
        return Reply::not_found();
    };
    fork_choice_of(record)
}

/// An upstream's cached fork-choice body.
fn fork_choice_of(record: &crate::app::UpstreamRecord) -> Reply {
    match &record.fork_choice {
        Some(body) => Reply::json(200, Body::Shared(Rc::clone(body))),
        None => Reply::text(503, b"no fork choice cached\n"),
    }
}

/// Static files (from memory) when `--static-dir` is set, else the built-in dashboard,
/// else 404.
fn fallback(path: &str, if_none_match: Option<&str>, ctx: &RouteContext<'_>) -> Reply {
    match ctx.static_dir {
        Some(site) => {
            static_files::serve(site, path, if_none_match).unwrap_or_else(Reply::not_found)
        }
        None if path == "/" || path == "/index.html" => Reply {
            status: 200,
            content_type: TEXT_HTML,
            body: Body::Static(dashboard::PAGE.as_bytes()),
            headers: vec![no_cache()],
        },
        None => Reply::not_found(),
    }
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod timeline_tests;
