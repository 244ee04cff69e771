//! The poll scheduler: rounds every `--poll-ms`, one poll job per upstream per round,
//! at most one socket per upstream and at most `pool` upstream sockets at once (jobs
//! beyond that wait their turn in a queue), hard deadlines on every request, and the
//! round's end handed to the consensus. All upstream sockets live in the loop's slab.

use super::conn::{connect_call_error_kind, ConnOutcome, ConnPhase, UpstreamConn};
use super::poll::{error_at, Next, PollSequence, Step};
use super::record::{record_result, reference_state};
use super::resolver::{resolve_blocking, Lookup, Resolver};
use crate::app::round::{finish_round, RoundOutcome};
use crate::app::{StateBlob, UpstreamErrorKind};
use crate::config::UpstreamSpec;
use crate::consensus::{ConsensusOptions, Vote};
use crate::http1::encode::encode_get;
use crate::reactor::core::{disarm, rearm, Core, TimerEvent};
use crate::reactor::sockets::Socket;
use crate::timer::TimerHandle;
use mio::Waker;
use mio::{Registry, Token};
use std::collections::VecDeque;
use std::rc::Rc;
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
    pub consensus: ConsensusOptions,
}

/// One upstream's poll in progress.
pub(super) struct Job {
    seq: PollSequence,
    /// When its first request got a socket (queueing for the pool is not latency).
    started_mono: Option<u64>,
    /// Deadline of the request in progress.
    request_deadline: u64,
    /// The step whose stale-keep-alive retry was used (one retry per request).
    retried: Option<Step>,
}

/// The round in progress.
pub(super) struct Round {
    started_mono: u64,
    polled: Vec<usize>,
    remaining: usize,
    votes: Vec<Vote>,
    /// The state most recently fetched this round that differed from what was held:
    /// later state requests of the round compare against it first.
    newest_state: Option<Rc<StateBlob>>,
}

/// The scheduler.
pub struct Engine {
    pub(super) cfg: EngineConfig,
    pub(super) jobs: Vec<Option<Job>>,
    /// Each upstream's one socket, if open.
    pub(super) conns: Vec<Option<Token>>,
    /// Upstreams whose idle keep-alive socket may be closed to make room (oldest first).
    pub(super) idle: VecDeque<usize>,
    /// Jobs waiting for a socket.
    pub(super) waiting: VecDeque<usize>,
    pub(super) round: Option<Round>,
    pub(super) next_tick: u64,
    pub(super) tick_timer: Option<TimerHandle>,
    pub(super) resolver: Option<Resolver>,
    pub(super) waker: Arc<Waker>,
    /// A reload that waits for the round in progress to end.
    pub(super) pending_reload: Option<Vec<UpstreamSpec>>,
    pub(super) resolve_pending: Vec<bool>,
    pub(super) resolve_error: Vec<Option<String>>,
    pub(super) scratch: Vec<u8>,
}

impl Engine {
    /// Resolves what it can now (before the loop runs) and arms the first round.
    pub fn new(cfg: EngineConfig, core: &mut Core, waker: Arc<Waker>) -> Self {
        let n = core.app.upstreams.len();
        let mut engine = Engine {
            cfg,
            jobs: (0..n).map(|_| None).collect(),
            conns: vec![None; n],
            idle: VecDeque::new(),
            waiting: VecDeque::new(),
            round: None,
            next_tick: core.now,
            tick_timer: None,
            resolver: None,
            waker,
            pending_reload: None,
            resolve_pending: vec![false; n],
            resolve_error: vec![None; n],
            scratch: vec![0; 64 * 1024],
        };
        for u in 0..n {
            let target = core.app.upstreams[u].spec.target.clone();
            match resolve_blocking(&target.host, target.port) {
                Ok(addr) => core.app.upstreams[u].addr = Some(addr),
                Err(e) => {
                    tracing::warn!(upstream = %core.app.upstreams[u].spec.name, "{e}");
                    engine.resolve_error[u] = Some(e);
                }
            }
        }
        engine.tick_timer = Some(core.timers.insert(core.now, TimerEvent::RoundTick));
        engine
    }

    /// The round timer fired.
    pub fn on_tick(&mut self, core: &mut Core, registry: &Registry) {
        self.tick_timer = None;
        if self.round.is_some() {
            return; // the round in progress starts the next one when it ends
        }
        self.start_round(core, registry);
    }

    fn start_round(&mut self, core: &mut Core, registry: &Registry) {
        self.next_tick = self
            .next_tick
            .max(core.now.saturating_sub(self.cfg.poll_ms))
            .saturating_add(self.cfg.poll_ms);
        let n = core.app.upstreams.len();
        let mut round = Round {
            started_mono: core.now,
            polled: (0..n).collect(),
            remaining: 0,
            votes: Vec::new(),
            newest_state: None,
        };
        let wall = core.wall_ms();
        for u in 0..n {
            let record = &mut core.app.upstreams[u];
            if record.addr.is_none() {
                let detail = self.resolve_error[u].clone().unwrap_or_else(|| {
                    format!("name {} is still resolving", record.spec.target.host)
                });
                record.healthy = false;
                record.record_error(error_at(UpstreamErrorKind::NameNotResolved, detail, wall));
                self.request_resolve(core, u);
                continue;
            }
            record.in_flight = true;
            self.jobs[u] = Some(Job {
                seq: PollSequence::new(self.cfg.max_state_bytes, reference_state(&core.app, u)),
                started_mono: None,
                request_deadline: 0,
                retried: None,
            });
            self.waiting.push_back(u);
            round.remaining += 1;
        }
        let empty = round.remaining == 0;
        self.round = Some(round);
        if empty {
            self.end_round(core, registry);
        } else {
            self.pump(core, registry);
        }
    }

    pub(super) fn request_resolve(&mut self, core: &Core, u: usize) {
        if self.resolve_pending[u] {
            return;
        }
        if self.resolver.is_none() {
            match Resolver::spawn(self.waker.clone()) {
                Ok(r) => self.resolver = Some(r),
                Err(e) => tracing::warn!("cannot start the resolver thread: {e}"),
            }
        }
        if let Some(resolver) = &self.resolver {
            let target = &core.app.upstreams[u].spec.target;
            resolver.submit(Lookup {
                upstream: u,
                host: target.host.clone(),
                port: target.port,
            });
            self.resolve_pending[u] = true;
        }
    }

    /// The resolver woke the loop.
    pub fn on_resolved(&mut self, core: &mut Core) {
        let Some(resolver) = &self.resolver else {
            return;
        };
        for answer in resolver.drain() {
            let u = answer.lookup.upstream;
            let Some(record) = core.app.upstreams.get_mut(u) else {
                continue;
            };
            if record.spec.target.host != answer.lookup.host
                || record.spec.target.port != answer.lookup.port
            {
                continue; // the configuration changed meanwhile
            }
            self.resolve_pending[u] = false;
            match answer.result {
                Ok(addr) => {
                    tracing::debug!(upstream = %record.spec.name, host = %answer.lookup.host, %addr, "name resolved again");
                    record.addr = Some(addr);
                    self.resolve_error[u] = None;
                }
                Err(e) => self.resolve_error[u] = Some(e),
            }
        }
    }

    /// Starts waiting jobs while sockets are available.
    fn pump(&mut self, core: &mut Core, registry: &Registry) {
        while let Some(&u) = self.waiting.front() {
            let token = match self.conns[u] {
                Some(token) => {
                    self.idle.retain(|&v| v != u);
                    token
                }
                None => {
                    if core.sockets.upstream_count() >= self.cfg.pool {
                        let Some(victim) = self.idle.pop_front() else {
                            break;
                        };
                        self.close_conn(core, victim);
                    }
                    match self.open_conn(core, registry, u) {
                        Ok(token) => token,
                        Err((kind, detail)) => {
                            self.waiting.pop_front();
                            self.step_failed(core, registry, u, kind, detail);
                            continue;
                        }
                    }
                }
            };
            self.waiting.pop_front();
            self.send_request(core, registry, u, token);
        }
    }

    fn open_conn(
        &mut self,
        core: &mut Core,
        registry: &Registry,
        u: usize,
    ) -> Result<Token, (UpstreamErrorKind, String)> {
        let Some(addr) = core.app.upstreams[u].addr else {
            return Err((UpstreamErrorKind::NameNotResolved, "no address".into()));
        };
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

    fn send_request(&mut self, core: &mut Core, registry: &Registry, u: usize, token: Token) {
        let Some(job) = self.jobs[u].as_mut() else {
            return;
        };
        let step = job.seq.step();
        job.started_mono.get_or_insert(core.now);
        job.request_deadline = core.now.saturating_add(self.cfg.timeout_ms);
        let spec = &core.app.upstreams[u].spec;
        let target = format!("{}{}", spec.target.prefix, step.path());
        let request = encode_get(&target, &spec.target.host_header(), step.accept());
        let limits = job.seq.limits();
        if let Some(newest) = self.round.as_ref().and_then(|r| r.newest_state.clone()) {
            job.seq.prefer_reference(newest);
        }
        let reference = job.seq.body_reference();
        let request_deadline = job.request_deadline;
        let Some(conn) = core.sockets.upstream_mut(token) else {
            // Unreachable by construction; never leave a job (and its round) hanging.
            debug_assert!(false, "upstream socket vanished");
            self.conns[u] = None;
            self.idle.retain(|&v| v != u);
            self.step_failed(
                core,
                registry,
                u,
                UpstreamErrorKind::Io,
                "socket vanished".into(),
            );
            return;
        };
        conn.begin_request(request, limits, reference);
        let deadline = if conn.phase == ConnPhase::Connecting {
            conn.connect_deadline.min(request_deadline)
        } else {
            request_deadline
        };
        rearm(
            &mut core.timers,
            &mut conn.timer,
            deadline,
            TimerEvent::Socket(token),
        );
        core.app.counters.upstream_requests_in_flight += 1;
        self.on_event(core, registry, token);
    }

    /// A readiness event (or a direct nudge) for an upstream socket.
    pub fn on_event(&mut self, core: &mut Core, registry: &Registry, token: Token) {
        let Some(conn) = core.sockets.upstream_mut(token) else {
            return;
        };
        let u = conn.upstream;
        let was_connecting = conn.phase == ConnPhase::Connecting;
        let outcome = conn.drive(&mut self.scratch);
        if was_connecting && conn.phase != ConnPhase::Connecting && conn.phase != ConnPhase::Idle {
            if let Some(job) = &self.jobs[u] {
                rearm(
                    &mut core.timers,
                    &mut conn.timer,
                    job.request_deadline,
                    TimerEvent::Socket(token),
                );
            }
        }
        match outcome {
            ConnOutcome::Pending => {}
            ConnOutcome::IdleClosed => {
                self.close_conn(core, u);
                self.pump(core, registry);
            }
            ConnOutcome::Response(response) => {
                request_ended(&mut core.app.counters);
                disarm(&mut core.timers, &mut conn.timer);
                if !response.keep_alive {
                    self.close_conn(core, u);
                }
                let Some(job) = self.jobs[u].as_mut() else {
                    self.park(core, u);
                    return;
                };
                match job.seq.on_response(response) {
                    Next::Request(_) => self.continue_job(core, registry, u),
                    Next::Done => self.finish_job(core, registry, u),
                }
            }
            ConnOutcome::Failed {
                kind,
                detail,
                retryable,
            } => {
                request_ended(&mut core.app.counters);
                self.close_conn(core, u);
                let retry = retryable
                    && self.jobs[u]
                        .as_ref()
                        .is_some_and(|j| j.retried != Some(j.seq.step()));
                if retry {
                    if let Some(job) = self.jobs[u].as_mut() {
                        job.retried = Some(job.seq.step());
                    }
                    tracing::debug!(
                        upstream = u,
                        "stale keep-alive connection ({detail}); retrying once"
                    );
                    self.waiting.push_front(u);
                    self.pump(core, registry);
                } else {
                    self.step_failed(core, registry, u, kind, detail);
                }
            }
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
        request_ended(&mut core.app.counters);
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
        self.step_failed(core, registry, u, kind, detail);
    }

    fn step_failed(
        &mut self,
        core: &mut Core,
        registry: &Registry,
        u: usize,
        kind: UpstreamErrorKind,
        detail: String,
    ) {
        let Some(job) = self.jobs[u].as_mut() else {
            return;
        };
        let path = job.seq.step().path();
        match job.seq.on_failure(kind, format!("{detail} ({path})")) {
            Next::Request(_) => self.continue_job(core, registry, u),
            Next::Done => self.finish_job(core, registry, u),
        }
    }

    /// Sends the job's next request on its socket, or queues it for one (first in line).
    fn continue_job(&mut self, core: &mut Core, registry: &Registry, u: usize) {
        match self.conns[u] {
            Some(token) => self.send_request(core, registry, u, token),
            None => {
                self.waiting.push_front(u);
                self.pump(core, registry);
            }
        }
    }

    /// Keeps an idle socket for the next round (it may be closed to make room).
    fn park(&mut self, _core: &mut Core, u: usize) {
        if self.conns[u].is_some() && !self.idle.contains(&u) {
            self.idle.push_back(u);
        }
    }

    fn finish_job(&mut self, core: &mut Core, registry: &Registry, u: usize) {
        let Some(job) = self.jobs[u].take() else {
            return;
        };
        self.park(core, u);
        let latency = core
            .now
            .saturating_sub(job.started_mono.unwrap_or(core.now));
        let result = job.seq.finish();
        let wall = core.wall_ms();
        let cannot_connect = result.state.is_none()
            && result.errors.iter().any(|(kind, _)| {
                matches!(
                    kind,
                    UpstreamErrorKind::ConnectRefused | UpstreamErrorKind::ConnectTimeout
                )
            });
        let vote = record_result(core, u, result, latency, wall);
        if let (Some(round), Some(state)) =
            (self.round.as_mut(), core.app.upstreams[u].state.as_ref())
        {
            let held = core
                .app
                .agreed
                .as_ref()
                .is_some_and(|a| Rc::ptr_eq(&a.state, state));
            if vote.is_some() && !held {
                round.newest_state = Some(state.clone());
            }
        }
        if cannot_connect
            && core.app.upstreams[u]
                .spec
                .target
                .host
                .parse::<std::net::IpAddr>()
                .is_err()
        {
            // The name may point elsewhere now: look it up again, off the loop, keeping
            // the current address until the answer arrives.
            self.request_resolve(core, u);
        }
        if let Some(round) = self.round.as_mut() {
            if let Some(vote) = vote {
                round.votes.push(vote);
            }
            round.remaining -= 1;
            if round.remaining == 0 {
                self.end_round(core, registry);
            }
        }
        self.pump(core, registry);
    }

    fn end_round(&mut self, core: &mut Core, registry: &Registry) {
        let Some(round) = self.round.take() else {
            return;
        };
        let wall = core.wall_ms();
        let took = core.now.saturating_sub(round.started_mono);
        let previous_error = core.app.last_error.clone();
        let outcome = finish_round(
            &mut core.app,
            &round.polled,
            &round.votes,
            self.cfg.consensus,
            wall,
            took,
        );
        match outcome {
            RoundOutcome::Agreed {
                new_checkpoint: true,
            } => {
                if let Some(a) = &core.app.agreed {
                    tracing::info!(
                        justified_slot = a.candidate.justified_slot,
                        finalized_slot = a.candidate.finalized_slot,
                        agreeing = a.agreeing,
                        responders = a.responders,
                        identical = a.identical,
                        "new agreed checkpoint"
                    );
                }
            }
            RoundOutcome::Agreed { .. } => {}
            RoundOutcome::NoConsensus => {
                // Warn when the situation changes; repeat it only at debug level.
                if previous_error != core.app.last_error {
                    tracing::warn!(
                        responders = round.votes.len(),
                        polled = round.polled.len(),
                        last_error = core.app.last_error.as_deref().unwrap_or(""),
                        "round without consensus"
                    );
                } else {
                    tracing::debug!(
                        responders = round.votes.len(),
                        "round without consensus (unchanged)"
                    );
                }
            }
        }
        if let Some(specs) = self.pending_reload.take() {
            self.apply_reload(core, specs);
        }
        let at = self.next_tick.max(core.now);
        self.tick_timer = Some(core.timers.insert(at, TimerEvent::RoundTick));
        let _ = registry;
    }

    /// Closes every upstream socket (shutdown).
    pub fn close_all(&mut self, core: &mut Core) {
        for u in 0..self.conns.len() {
            self.close_conn(core, u);
        }
    }
}

/// One upstream request is no longer in flight.
fn request_ended(counters: &mut crate::app::Counters) {
    counters.upstream_requests_in_flight = counters.upstream_requests_in_flight.saturating_sub(1);
}

/// Closes an upstream socket: disarms its deadline and drops it (closing the fd).
pub(super) fn close_socket(core: &mut Core, token: Token) {
    if let Some(Socket::Upstream(mut conn)) = core.sockets.remove(token) {
        disarm(&mut core.timers, &mut conn.timer);
    }
    core.app.counters.upstream_sockets_open = core.sockets.upstream_count();
}
