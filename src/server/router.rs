//! Routing, pure: a parsed request plus the application state in, a reply out. Inbound
//! requests never reach an upstream: everything comes from `AppState`.

use crate::app::{AppState, StateBlob};
use crate::http1::request::Method;
use std::path::Path;
use std::rc::Rc;

/// The body of a reply. Shared bodies are written from the one buffer, never copied.
#[derive(Debug, Clone)]
pub enum Body {
    Empty,
    Static(&'static [u8]),
    Owned(Vec<u8>),
    /// The agreed state's bytes.
    State(Rc<StateBlob>),
    /// A cached upstream body (fork choice).
    Shared(Rc<[u8]>),
}

impl Body {
    pub fn len(&self) -> usize {
        match self {
            Body::Empty => 0,
            Body::Static(b) => b.len(),
            Body::Owned(b) => b.len(),
            Body::State(s) => s.bytes.len(),
            Body::Shared(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        match self {
            Body::Empty => &[],
            Body::Static(b) => b,
            Body::Owned(b) => b,
            Body::State(s) => &s.bytes,
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

/// One request as the router sees it.
#[derive(Debug, Clone, Copy)]
pub struct RouteInput<'a> {
    pub method: Method,
    pub target: &'a str,
    pub if_none_match: Option<&'a str>,
}

/// What the router may read.
#[derive(Debug, Clone, Copy)]
pub struct RouteContext<'a> {
    pub app: &'a AppState,
    /// Wall-clock ms since the Unix epoch.
    pub now_ms: i64,
    /// Open fds of the process now.
    pub open_fds: usize,
    pub static_dir: Option<&'a Path>,
}

/// Routes one request.
pub fn route(input: RouteInput<'_>, ctx: &RouteContext<'_>) -> Reply {
    let _ = (input, ctx);
    todo!()
}
