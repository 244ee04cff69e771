//! The shell around the poll scheduler: it performs the scheduler's actions with real
//! sockets and timers and feeds back what happened. Each upstream has at most one
//! socket (kept alive between requests); at most `pool` upstream sockets are open, an
//! idle one being closed to make room; every request has a connect deadline and a
//! whole-request deadline in the loop's timer wheel. Names are resolved off the loop
//! (`names.rs`).

use super::conn::{
    connect_call_error_kind, BodyMode, Completed, ConnOutcome, ConnPhase, UpstreamConn,
};
use super::names::Names;
use super::poll::request_limits;
use super::schedule::{Action, Now, Reply, Request, Scheduler, SchedulerConfig};
use crate::app::{AppState, UpstreamErrorKind};
use crate::config::UpstreamSpec;
use crate::http1::encode::encode_get;
use crate::shell::{Shell, Socket, TimerEvent};
use crate::timer::{TimerHandle, TimerSlot};
use mio::Token;
use mio::Waker;
use std::collections::VecDeque;
use std::sync::Arc;

/// The engine's settings.
#[derive(Debug, Clone, Copy)]
pub struct EngineConfig {
    pub poll_ms: u64,
    pub timeout_ms: u64,
    pub connect_timeout_ms: u64,
    pub max_state_bytes: usize,
    /// Most upstream sockets open at once (from the fd budget).
    pub pool: usize,
    /// Delay before retrying a round that ended split while upstreams answered.
    pub split_retry_ms: u64,
}

/// The request in progress on an upstream's socket.
#[derive(Debug, Clone, Copy)]
struct InFlight {
    request: Request,
    /// Monotonic ms the whole request must be done by.
    deadline: u64,
    /// A stale keep-alive connection was already retried once for it.
    retried: bool,
}

/// The shell.
pub struct Engine {
    pub(super) cfg: EngineConfig,
    pub(super) scheduler: Scheduler,
    /// Each upstream's one socket, if open.
    pub(super) conns: Vec<Option<Token>>,
    in_flight: Vec<Option<InFlight>>,
    /// Upstreams whose idle keep-alive socket may be closed to make room (oldest first).
    pub(super) idle: VecDeque<usize>,
    tick_timer: TimerSlot,
    names: Names,
    scratch: Vec<u8>,
    /// Sockets that yielded at the read budget and are driven again next iteration.
    ready: Vec<Token>,
}

impl Engine {
    /// Takes IP literals as addresses, sends names to the resolver thread (never blocks)
    /// and arms the first round.
    pub fn new(
        cfg: EngineConfig,
        sh: &mut Shell<'_>,
        app: &mut AppState,
        waker: Arc<Waker>,
    ) -> Self {
        let n = app.upstreams.len();
        let now = now_of(sh);
        let scheduler = Scheduler::new(
            SchedulerConfig {
                poll_ms: cfg.poll_ms,
                split_retry_ms: cfg.split_retry_ms,
                pool: cfg.pool,
            },
            n,
            now,
        );
        let mut engine = Engine {
            cfg,
            scheduler,
            conns: vec![None; n],
            in_flight: vec![None; n],
            idle: VecDeque::new(),
            tick_timer: TimerSlot::default(),
            names: Names::new(waker),
            scratch: vec![0; 64 * 1024],
            ready: Vec::new(),
        };
        engine.names.resolve_missing(app);
        // A new scheduler asks for its first tick only.
        for action in engine.scheduler.take_actions() {
            if let Action::ArmTick { at } = action {
                engine
                    .tick_timer
                    .rearm(sh.timers, at, TimerEvent::RoundTick);
            }
        }
        engine
    }

    /// Performs the scheduler's actions (and those they lead to).
    fn perform(&mut self, sh: &mut Shell<'_>, app: &mut AppState) {
        loop {
            let actions = self.scheduler.take_actions();
            if actions.is_empty() {
                return;
            }
            for action in actions {
                match action {
                    Action::Send { upstream, request } => self.send(sh, app, upstream, request),
                    Action::ArmTick { at } => {
                        self.tick_timer.rearm(sh.timers, at, TimerEvent::RoundTick)
                    }
                    Action::Remap { kept } => self.remap(sh, app, &kept),
                }
            }
        }
    }

    /// The round timer fired.
    pub fn on_tick(&mut self, sh: &mut Shell<'_>, app: &mut AppState, handle: TimerHandle) {
        if !self.tick_timer.claim(handle) {
            return;
        }
        let now = now_of(sh);
        self.scheduler.on_tick(app, now);
        self.perform(sh, app);
    }

    /// Replaces the upstream set (SIGHUP) once nothing is in flight.
    pub fn reload(&mut self, sh: &mut Shell<'_>, app: &mut AppState, specs: Vec<UpstreamSpec>) {
        let now = now_of(sh);
        self.scheduler.reload(app, specs, now);
        self.perform(sh, app);
    }

    fn fail(
        &mut self,
        sh: &mut Shell<'_>,
        app: &mut AppState,
        u: usize,
        kind: UpstreamErrorKind,
        detail: &str,
    ) {
        self.in_flight[u] = None;
        let now = now_of(sh);
        self.scheduler.on_failure(app, u, kind, detail, now);
        if matches!(
            kind,
            UpstreamErrorKind::ConnectRefused | UpstreamErrorKind::ConnectTimeout
        ) {
            // A name may point elsewhere now: look it up again, off the loop.
            if let Some(record) = app.upstreams.get(u) {
                self.names.resolve_again(&record.spec.target);
            }
        }
    }

    /// Sends `request` to `u` on its socket, opening one if needed.
    fn send(&mut self, sh: &mut Shell<'_>, app: &mut AppState, u: usize, request: Request) {
        let deadline = sh.now.saturating_add(self.cfg.timeout_ms);
        self.in_flight[u] = Some(InFlight {
            request,
            deadline,
            retried: false,
        });
        self.start(sh, app, u);
    }

    /// Starts (or restarts, after a stale keep-alive connection) `u`'s request. A failure
    /// to start is reported to the scheduler; the caller then performs its actions (so
    /// that a first round of many unresolved names loops instead of recursing).
    fn start(&mut self, sh: &mut Shell<'_>, app: &mut AppState, u: usize) {
        let Some(job) = self.in_flight[u] else {
            return;
        };
        let token = match self.conns[u] {
            Some(token) => {
                self.idle.retain(|&v| v != u);
                token
            }
            None => match self.open_conn(sh, app, u) {
                Ok(token) => token,
                Err((kind, detail)) => {
                    // Reported to the scheduler; the caller performs what follows.
                    self.fail(sh, app, u, kind, &detail);
                    return;
                }
            },
        };
        let spec = &app.upstreams[u].spec;
        let target = format!("{}{}", spec.target.prefix, job.request.path());
        let bytes = encode_get(&target, &spec.target.host_header(), job.request.accept());
        let limits = request_limits(job.request, self.cfg.max_state_bytes);
        let mode = BodyMode {
            keep: job.request.keeps_body(),
            hash_state: job.request.hashes_state(),
        };
        let Some(conn) = sh.sockets.upstream_mut(token) else {
            // Unreachable by construction; never leave a request hanging.
            debug_assert!(false, "upstream socket vanished");
            self.conns[u] = None;
            self.fail(sh, app, u, UpstreamErrorKind::Io, "socket vanished");
            return;
        };
        conn.begin_request(bytes, limits, mode);
        let deadline = if conn.phase == ConnPhase::Connecting {
            conn.connect_deadline.min(job.deadline)
        } else {
            job.deadline
        };
        conn.timer
            .rearm(sh.timers, deadline, TimerEvent::Upstream(token));
        self.on_event(sh, app, token);
    }

    fn open_conn(
        &mut self,
        sh: &mut Shell<'_>,
        app: &mut AppState,
        u: usize,
    ) -> Result<Token, (UpstreamErrorKind, String)> {
        let Some(addr) = app.upstreams[u].addr else {
            let detail = self.names.why_unresolved(&app.upstreams[u].spec.target);
            self.names.resolve_missing(app);
            return Err((UpstreamErrorKind::NameNotResolved, detail));
        };
        if sh.sockets.upstream_count() >= self.cfg.pool {
            if let Some(victim) = self.idle.pop_front() {
                self.close_conn(sh, victim);
            }
        }
        let connect_deadline = sh.now.saturating_add(self.cfg.connect_timeout_ms);
        let registry = sh.registry;
        let token = sh
            .sockets
            .insert_with(|token| {
                UpstreamConn::connect(addr, u, registry, token, connect_deadline)
                    .map(Socket::Upstream)
            })
            .map_err(|e| {
                (
                    connect_call_error_kind(&e),
                    format!("connect to {addr}: {e}"),
                )
            })?;
        self.conns[u] = Some(token);
        Ok(token)
    }

    pub(super) fn close_conn(&mut self, sh: &mut Shell<'_>, u: usize) {
        if let Some(token) = self.conns[u].take() {
            close_socket(sh, token);
        }
        self.idle.retain(|&v| v != u);
    }

    /// A readiness event (or a direct nudge) for an upstream socket.
    pub fn on_event(&mut self, sh: &mut Shell<'_>, app: &mut AppState, token: Token) {
        let Some(conn) = sh.sockets.upstream_mut(token) else {
            return;
        };
        let u = conn.upstream;
        let was_connecting = conn.phase == ConnPhase::Connecting;
        let outcome = conn.drive(&mut self.scratch);
        if was_connecting && !matches!(conn.phase, ConnPhase::Connecting | ConnPhase::Idle) {
            if let Some(job) = &self.in_flight[u] {
                conn.timer
                    .rearm(sh.timers, job.deadline, TimerEvent::Upstream(token));
            }
        }
        match outcome {
            ConnOutcome::Pending => {
                if conn.yielded() && !self.ready.contains(&token) {
                    self.ready.push(token);
                }
            }
            ConnOutcome::IdleClosed => self.close_conn(sh, u),
            ConnOutcome::Response(done) => {
                conn.timer.disarm(sh.timers);
                if !done.response.keep_alive {
                    self.close_conn(sh, u);
                } else if !self.idle.contains(&u) {
                    self.idle.push_back(u);
                }
                self.in_flight[u] = None;
                let Completed {
                    response,
                    body_len,
                    state,
                } = *done;
                let reply = Reply {
                    status: response.status,
                    content_type: response.content_type,
                    body: response.body,
                    body_len,
                    state,
                };
                let now = now_of(sh);
                self.scheduler.on_reply(app, u, reply, now);
                self.perform(sh, app);
            }
            ConnOutcome::Failed {
                kind,
                detail,
                retryable,
            } => {
                self.close_conn(sh, u);
                let retry = retryable && self.in_flight[u].is_some_and(|j| !j.retried);
                if let (true, Some(job)) = (retry, self.in_flight[u].as_mut()) {
                    job.retried = true;
                    tracing::debug!(
                        upstream = u,
                        "stale keep-alive connection ({detail}); retrying once"
                    );
                    self.start(sh, app, u);
                    self.perform(sh, app);
                } else {
                    self.fail(sh, app, u, kind, &detail);
                    self.perform(sh, app);
                }
            }
        }
    }

    /// Whether a socket yielded at the read budget and waits to be driven again.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Drives the sockets that yielded at the read budget (one budget each).
    pub fn run_ready(&mut self, sh: &mut Shell<'_>, app: &mut AppState) {
        for token in std::mem::take(&mut self.ready) {
            self.on_event(sh, app, token);
        }
    }

    /// A socket deadline fired.
    pub fn on_deadline(
        &mut self,
        sh: &mut Shell<'_>,
        app: &mut AppState,
        token: Token,
        handle: TimerHandle,
    ) {
        if !sh.sockets.claim_deadline(token, handle) {
            return;
        }
        let Some(conn) = sh.sockets.upstream_mut(token) else {
            return;
        };
        let u = conn.upstream;
        let connecting = conn.phase == ConnPhase::Connecting;
        self.close_conn(sh, u);
        let (kind, detail) = if connecting {
            (
                UpstreamErrorKind::ConnectTimeout,
                format!("no connection within {} ms", self.cfg.connect_timeout_ms),
            )
        } else {
            (
                UpstreamErrorKind::RequestTimeout,
                format!("no complete response within {} ms", self.cfg.timeout_ms),
            )
        };
        self.fail(sh, app, u, kind, &detail);
        self.perform(sh, app);
    }

    /// The resolver woke the loop. An upstream that got its first address is polled
    /// at once rather than at the next round.
    pub fn on_resolved(&mut self, sh: &mut Shell<'_>, app: &mut AppState) {
        if self.names.on_answers(app) > 0 {
            let now = now_of(sh);
            self.scheduler.poll_soon(now);
            self.perform(sh, app);
        }
    }

    /// The upstream set was replaced: move sockets to their new indices, close those of
    /// removed upstreams, look up the new names (lookups are keyed by name, so one
    /// already pending is not queued again).
    fn remap(&mut self, sh: &mut Shell<'_>, app: &mut AppState, kept: &[Option<usize>]) {
        let mut old_conns = std::mem::take(&mut self.conns);
        let n = kept.len();
        self.conns = Vec::with_capacity(n);
        for (new_index, old) in kept.iter().enumerate() {
            let token = old.and_then(|o| old_conns.get_mut(o).and_then(Option::take));
            if let Some(conn) = token.and_then(|t| sh.sockets.upstream_mut(t)) {
                conn.upstream = new_index;
            }
            self.conns.push(token);
        }
        for token in old_conns.into_iter().flatten() {
            close_socket(sh, token);
        }
        self.in_flight = vec![None; n];
        self.idle = (0..n).filter(|&u| self.conns[u].is_some()).collect();
        if n > self.cfg.pool {
            tracing::warn!(
                upstreams = n,
                sockets = self.cfg.pool,
                "more upstreams than the upstream socket pool sized at start-up: they take turns within each round; restart to resize the pool"
            );
        }
        self.names.resolve_missing(app);
    }

    /// Closes every upstream socket (shutdown).
    pub fn close_all(&mut self, sh: &mut Shell<'_>) {
        for u in 0..self.conns.len() {
            self.close_conn(sh, u);
        }
    }
}

/// The time of an input to the scheduler.
fn now_of(sh: &Shell<'_>) -> Now {
    Now {
        mono: sh.now,
        wall: sh.wall_ms,
    }
}

/// Closes an upstream socket: disarms its deadline and drops it (closing the fd).
pub(super) fn close_socket(sh: &mut Shell<'_>, token: Token) {
    if let Some(Socket::Upstream(mut conn)) = sh.sockets.remove(token) {
        conn.timer.disarm(sh.timers);
    }
}
