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
use crate::app::UpstreamErrorKind;
use crate::config::UpstreamSpec;
use crate::http1::encode::encode_get;
use crate::reactor::core::{disarm, rearm, Core, TimerEvent};
use crate::reactor::sockets::Socket;
use crate::timer::TimerHandle;
use mio::Waker;
use mio::{Registry, Token};
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
    tick_timer: Option<TimerHandle>,
    names: Names,
    scratch: Vec<u8>,
    /// Sockets that yielded at the read budget and are driven again next iteration.
    ready: Vec<Token>,
}

impl Engine {
    /// Takes IP literals as addresses, sends names to the resolver thread (never blocks)
    /// and arms the first round.
    pub fn new(cfg: EngineConfig, core: &mut Core, waker: Arc<Waker>) -> Self {
        let n = core.app.upstreams.len();
        let now = now_of(core);
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
            tick_timer: None,
            names: Names::new(waker),
            scratch: vec![0; 64 * 1024],
            ready: Vec::new(),
        };
        engine.names.resolve_missing(&mut core.app);
        // A new scheduler asks for its first tick only.
        for action in engine.scheduler.take_actions() {
            if let Action::ArmTick { at } = action {
                rearm(
                    &mut core.timers,
                    &mut engine.tick_timer,
                    at,
                    TimerEvent::RoundTick,
                );
            }
        }
        engine
    }

    /// Performs the scheduler's actions (and those they lead to).
    fn perform(&mut self, core: &mut Core, registry: &Registry) {
        loop {
            let actions = self.scheduler.take_actions();
            if actions.is_empty() {
                return;
            }
            for action in actions {
                match action {
                    Action::Send { upstream, request } => {
                        self.send(core, registry, upstream, request)
                    }
                    Action::ArmTick { at } => rearm(
                        &mut core.timers,
                        &mut self.tick_timer,
                        at,
                        TimerEvent::RoundTick,
                    ),
                    Action::Remap { kept } => self.remap(core, &kept),
                }
            }
        }
    }

    /// The round timer fired.
    pub fn on_tick(&mut self, core: &mut Core, registry: &Registry) {
        self.tick_timer = None;
        let now = now_of(core);
        self.scheduler.on_tick(&mut core.app, now);
        self.perform(core, registry);
    }

    /// Replaces the upstream set (SIGHUP) once nothing is in flight.
    pub fn reload(&mut self, core: &mut Core, registry: &Registry, specs: Vec<UpstreamSpec>) {
        let now = now_of(core);
        self.scheduler.reload(&mut core.app, specs, now);
        self.perform(core, registry);
    }

    fn fail(&mut self, core: &mut Core, u: usize, kind: UpstreamErrorKind, detail: &str) {
        self.in_flight[u] = None;
        let now = now_of(core);
        self.scheduler
            .on_failure(&mut core.app, u, kind, detail, now);
        if matches!(
            kind,
            UpstreamErrorKind::ConnectRefused | UpstreamErrorKind::ConnectTimeout
        ) {
            // A name may point elsewhere now: look it up again, off the loop.
            if let Some(record) = core.app.upstreams.get(u) {
                self.names.resolve_again(&record.spec.target);
            }
        }
    }

    /// Sends `request` to `u` on its socket, opening one if needed.
    fn send(&mut self, core: &mut Core, registry: &Registry, u: usize, request: Request) {
        let deadline = core.now.saturating_add(self.cfg.timeout_ms);
        self.in_flight[u] = Some(InFlight {
            request,
            deadline,
            retried: false,
        });
        self.start(core, registry, u);
    }

    /// Starts (or restarts, after a stale keep-alive connection) `u`'s request. A failure
    /// to start is reported to the scheduler; the caller then performs its actions (so
    /// that a first round of many unresolved names loops instead of recursing).
    fn start(&mut self, core: &mut Core, registry: &Registry, u: usize) {
        let Some(job) = self.in_flight[u] else {
            return;
        };
        let token = match self.conns[u] {
            Some(token) => {
                self.idle.retain(|&v| v != u);
                token
            }
            None => match self.open_conn(core, registry, u) {
                Ok(token) => token,
                Err((kind, detail)) => {
                    // Reported to the scheduler; the caller performs what follows.
                    self.fail(core, u, kind, &detail);
                    return;
                }
            },
        };
        let spec = &core.app.upstreams[u].spec;
        let target = format!("{}{}", spec.target.prefix, job.request.path());
        let bytes = encode_get(&target, &spec.target.host_header(), job.request.accept());
        let limits = request_limits(job.request, self.cfg.max_state_bytes);
        let mode = BodyMode {
            keep: job.request.keeps_body(),
            hash_state: job.request.hashes_state(),
        };
        let Some(conn) = core.sockets.upstream_mut(token) else {
            // Unreachable by construction; never leave a request hanging.
            debug_assert!(false, "upstream socket vanished");
            self.conns[u] = None;
            self.fail(core, u, UpstreamErrorKind::Io, "socket vanished");
            return;
        };
        conn.begin_request(bytes, limits, mode);
        let deadline = if conn.phase == ConnPhase::Connecting {
            conn.connect_deadline.min(job.deadline)
        } else {
            job.deadline
        };
        rearm(
            &mut core.timers,
            &mut conn.timer,
            deadline,
            TimerEvent::Socket(token),
        );
        core.app.counters.upstream_requests_in_flight = self.scheduler.in_flight();
        self.on_event(core, registry, token);
    }

    fn open_conn(
        &mut self,
        core: &mut Core,
        registry: &Registry,
        u: usize,
    ) -> Result<Token, (UpstreamErrorKind, String)> {
        let Some(addr) = core.app.upstreams[u].addr else {
            let detail = self
                .names
                .why_unresolved(&core.app.upstreams[u].spec.target);
            self.names.resolve_missing(&mut core.app);
            return Err((UpstreamErrorKind::NameNotResolved, detail));
        };
        if core.sockets.upstream_count() >= self.cfg.pool {
            if let Some(victim) = self.idle.pop_front() {
                self.close_conn(core, victim);
            }
        }
        let connect_deadline = core.now.saturating_add(self.cfg.connect_timeout_ms);
        let token = core
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
        core.app.counters.upstream_sockets_open = core.sockets.upstream_count();
        Ok(token)
    }

    pub(super) fn close_conn(&mut self, core: &mut Core, u: usize) {
        if let Some(token) = self.conns[u].take() {
            close_socket(core, token);
        }
        self.idle.retain(|&v| v != u);
    }

    /// A readiness event (or a direct nudge) for an upstream socket.
    pub fn on_event(&mut self, core: &mut Core, registry: &Registry, token: Token) {
        let Some(conn) = core.sockets.upstream_mut(token) else {
            return;
        };
        let u = conn.upstream;
        let was_connecting = conn.phase == ConnPhase::Connecting;
        let outcome = conn.drive(&mut self.scratch);
        if was_connecting && !matches!(conn.phase, ConnPhase::Connecting | ConnPhase::Idle) {
            if let Some(job) = &self.in_flight[u] {
                rearm(
                    &mut core.timers,
                    &mut conn.timer,
                    job.deadline,
                    TimerEvent::Socket(token),
                );
            }
        }
        match outcome {
            ConnOutcome::Pending => {
                if conn.yielded() && !self.ready.contains(&token) {
                    self.ready.push(token);
                }
            }
            ConnOutcome::IdleClosed => self.close_conn(core, u),
            ConnOutcome::Response(done) => {
                disarm(&mut core.timers, &mut conn.timer);
                if !done.response.keep_alive {
                    self.close_conn(core, u);
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
                let now = now_of(core);
                self.scheduler.on_reply(&mut core.app, u, reply, now);
                self.perform(core, registry);
            }
            ConnOutcome::Failed {
                kind,
                detail,
                retryable,
            } => {
                self.close_conn(core, u);
                let retry = retryable && self.in_flight[u].is_some_and(|j| !j.retried);
                if let (true, Some(job)) = (retry, self.in_flight[u].as_mut()) {
                    job.retried = true;
                    tracing::debug!(
                        upstream = u,
                        "stale keep-alive connection ({detail}); retrying once"
                    );
                    self.start(core, registry, u);
                    self.perform(core, registry);
                } else {
                    self.fail(core, u, kind, &detail);
                    self.perform(core, registry);
                }
            }
        }
        core.app.counters.upstream_requests_in_flight = self.scheduler.in_flight();
    }

    /// Whether a socket yielded at the read budget and waits to be driven again.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Drives the sockets that yielded at the read budget (one budget each).
    pub fn run_ready(&mut self, core: &mut Core, registry: &Registry) {
        for token in std::mem::take(&mut self.ready) {
            self.on_event(core, registry, token);
        }
    }

    /// A socket deadline fired.
    pub fn on_deadline(
        &mut self,
        core: &mut Core,
        registry: &Registry,
        token: Token,
        handle: TimerHandle,
    ) {
        if !core.sockets.claim_deadline(token, handle) {
            return;
        }
        let Some(conn) = core.sockets.upstream_mut(token) else {
            return;
        };
        let u = conn.upstream;
        let connecting = conn.phase == ConnPhase::Connecting;
        self.close_conn(core, u);
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
        self.fail(core, u, kind, &detail);
        self.perform(core, registry);
        core.app.counters.upstream_requests_in_flight = self.scheduler.in_flight();
    }

    /// The resolver woke the loop. An upstream that got its first address is polled
    /// at once rather than at the next round.
    pub fn on_resolved(&mut self, core: &mut Core, registry: &Registry) {
        if self.names.on_answers(&mut core.app) > 0 {
            let now = now_of(core);
            self.scheduler.poll_soon(now);
            self.perform(core, registry);
        }
    }

    /// The upstream set was replaced: move sockets to their new indices, close those of
    /// removed upstreams, look up the new names (lookups are keyed by name, so one
    /// already pending is not queued again).
    fn remap(&mut self, core: &mut Core, kept: &[Option<usize>]) {
        let mut old_conns = std::mem::take(&mut self.conns);
        let n = kept.len();
        self.conns = Vec::with_capacity(n);
        for (new_index, old) in kept.iter().enumerate() {
            let token = old.and_then(|o| old_conns.get_mut(o).and_then(Option::take));
            if let Some(conn) = token.and_then(|t| core.sockets.upstream_mut(t)) {
                conn.upstream = new_index;
            }
            self.conns.push(token);
        }
        for token in old_conns.into_iter().flatten() {
            close_socket(core, token);
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
        self.names.resolve_missing(&mut core.app);
        core.app.counters.upstream_sockets_open = core.sockets.upstream_count();
    }

    /// Closes every upstream socket (shutdown).
    pub fn close_all(&mut self, core: &mut Core) {
        for u in 0..self.conns.len() {
            self.close_conn(core, u);
        }
    }
}

/// The time of an input to the scheduler.
fn now_of(core: &Core) -> Now {
    Now {
        mono: core.now,
        wall: core.wall_ms(),
    }
}

/// Closes an upstream socket: disarms its deadline and drops it (closing the fd).
pub(super) fn close_socket(core: &mut Core, token: Token) {
    if let Some(Socket::Upstream(mut conn)) = core.sockets.remove(token) {
        disarm(&mut core.timers, &mut conn.timer);
    }
    core.app.counters.upstream_sockets_open = core.sockets.upstream_count();
}
