//! The poll scheduler as a sans-io state machine. Inputs: a tick, a reply, a failure,
//! a reload, each with the time as a value; outputs: actions (send this request to that
//! upstream, arm the next tick, remap the upstream set) for a thin shell to perform.
//!
//! Every round asks each upstream for its fork choice and justified checkpoint only
//! (small JSON) and decides by strict majority on the finalized checkpoint. When the
//! agreed finalized checkpoint differs from the verified bundle held, the block and the
//! state are fetched from one member of the majority at a time and verified against the
//! agreed root before they replace the bundle served. At most `pool` requests are in
//! flight, at most one per upstream, and at most one bundle is being fetched.

pub mod bundle;
mod fetching;
pub mod poll;
pub mod reload;
pub mod request;

use self::bundle::BundleFetch;
use self::poll::{Next, Poll};
pub use self::request::{Action, Now, Reply, Request};
use crate::app::round::{finish_round, RoundOutcome};
use crate::app::{AppState, UpstreamError, UpstreamErrorKind};
use crate::config::UpstreamSpec;
use crate::consensus::Vote;
use crate::lean::{root_hex, Checkpoint};
use std::collections::VecDeque;

/// The scheduler's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerConfig {
    /// Interval between rounds.
    pub poll_ms: u64,
    /// Delay before retrying a round that ended split while upstreams answered.
    pub split_retry_ms: u64,
    /// Most requests in flight at once (the upstream socket pool).
    pub pool: usize,
}

/// Why a request was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Poll,
    /// For the bundle fetch with this id (a reply to a fetch since replaced is dropped).
    Bundle(u64),
}

/// Checkpoints whose failed members are remembered.
const FAILED_CHECKPOINTS: usize = 8;

/// The round in progress.
#[derive(Debug)]
struct Round {
    started: u64,
    polled: Vec<usize>,
    remaining: usize,
    votes: Vec<Vote>,
}

/// The scheduler.
#[derive(Debug)]
pub struct Scheduler {
    cfg: SchedulerConfig,
    polls: Vec<Option<Poll>>,
    round: Option<Round>,
    fetch: Option<BundleFetch>,
    /// A bundle verified by an early fetch, before its round published the agreement:
    /// installed when the round ends agreeing on it (so the bundle served is never
    /// ahead of the agreed checkpoint `/status` and `/metrics` show), else dropped.
    early: Option<Box<bundle::Verified>>,
    /// Id of the current fetch (each new fetch gets the next).
    fetch_id: u64,
    /// The members (by name, which a reload does not change) whose bundle failed
    /// verification, for the last few checkpoints: never asked again for that one.
    failed: VecDeque<(Checkpoint, Vec<String>)>,
    /// Rounds in a row that ended split with answers (the retry backs off).
    split_streak: u32,
    /// Rotates the first member asked from one bundle fetch to the next.
    rotation: usize,
    /// Requests ready to send, in order.
    queue: VecDeque<(usize, Request, Purpose)>,
    /// Each upstream's request in flight.
    outstanding: Vec<Option<(Request, Purpose)>>,
    in_flight: usize,
    /// Monotonic ms of the next regular round.
    next_tick: u64,
    pending_reload: Option<Vec<UpstreamSpec>>,
    actions: Vec<Action>,
}

impl Scheduler {
    /// A scheduler for `upstreams` upstreams; the first round is due at `now`.
    pub fn new(cfg: SchedulerConfig, upstreams: usize, now: Now) -> Self {
        Scheduler {
            cfg: SchedulerConfig {
                pool: cfg.pool.max(1),
                ..cfg
            },
            polls: (0..upstreams).map(|_| None).collect(),
            round: None,
            fetch: None,
            early: None,
            fetch_id: 0,
            failed: VecDeque::new(),
            split_streak: 0,
            rotation: 0,
            queue: VecDeque::new(),
            outstanding: vec![None; upstreams],
            in_flight: 0,
            next_tick: now.mono,
            pending_reload: None,
            actions: vec![Action::ArmTick { at: now.mono }],
        }
    }

    /// The actions produced since the last call, in order.
    pub fn take_actions(&mut self) -> Vec<Action> {
        std::mem::take(&mut self.actions)
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The checkpoint of a bundle verified early and held until its round ends, if any.
    pub fn held_early(&self) -> Option<Checkpoint> {
        self.early.as_ref().map(|v| v.checkpoint)
    }

    /// The checkpoint whose bundle is being fetched, if any.
    pub fn fetching(&self) -> Option<Checkpoint> {
        self.fetch.as_ref().map(|f| f.target)
    }

    /// The tick armed last fired.
    pub fn on_tick(&mut self, app: &mut AppState, now: Now) {
        app.expire_previous_bundle(now.wall);
        if self.round.is_none() && self.pending_reload.is_none() {
            self.start_round(app, now);
        }
        self.settle(app, now);
    }

    /// An upstream got its first address (its name resolved): poll now rather than at
    /// the next round, unless a round is in progress (its end arms the next one).
    pub fn poll_soon(&mut self, now: Now) {
        if self.round.is_none() && self.pending_reload.is_none() {
            self.actions.push(Action::ArmTick { at: now.mono });
        }
    }

    /// A complete response to the request in flight to `upstream`.
    pub fn on_reply(&mut self, app: &mut AppState, upstream: usize, reply: Reply, now: Now) {
        let Some((request, purpose)) = self.take_outstanding(app, upstream) else {
            return;
        };
        let fetched = &mut app.counters.fetched;
        let bytes = reply.body_len as u64;
        match request {
            Request::ForkChoice | Request::Justified => fetched.json += bytes,
            Request::VoteState => fetched.vote_states += bytes,
            Request::Block => fetched.blocks += bytes,
            Request::State => fetched.states += bytes,
        }
        match purpose {
            Purpose::Poll => self.poll_reply(app, upstream, reply, now),
            Purpose::Bundle(id) => {
                if let Some(fetch) = self.current_fetch(upstream, request, id) {
                    let progress = fetch.on_reply(reply);
                    self.on_progress(app, progress, now);
                }
            }
        }
        self.settle(app, now);
    }

    /// The request in flight to `upstream` failed (`detail` says how).
    pub fn on_failure(
        &mut self,
        app: &mut AppState,
        upstream: usize,
        kind: UpstreamErrorKind,
        detail: &str,
        now: Now,
    ) {
        let Some((request, purpose)) = self.take_outstanding(app, upstream) else {
            return;
        };
        let detail = format!("{detail} ({})", request.path());
        match purpose {
            Purpose::Poll => {
                if let Some(poll) = self.polls.get_mut(upstream).and_then(Option::as_mut) {
                    let failure = poll.fail(kind, detail);
                    record_failure(app, upstream, failure, now);
                    self.finish_poll(app, upstream, now);
                }
            }
            Purpose::Bundle(id) => {
                if let Some(fetch) = self.current_fetch(upstream, request, id) {
                    let progress = fetch.on_failure(kind, detail);
                    self.on_progress(app, progress, now);
                }
            }
        }
        self.settle(app, now);
    }

    /// Replaces the upstream set as soon as nothing is in flight (at once if nothing
    /// is): the round in progress and any bundle fetch are abandoned (the bundle held
    /// keeps being served) and a new round starts.
    pub fn reload(&mut self, app: &mut AppState, specs: Vec<UpstreamSpec>, now: Now) {
        if self.in_flight > 0 {
            tracing::info!(
                in_flight = self.in_flight,
                "reload waits for the requests in flight"
            );
        }
        self.pending_reload = Some(specs);
        self.settle(app, now);
    }

    fn take_outstanding(&mut self, app: &mut AppState, u: usize) -> Option<(Request, Purpose)> {
        let taken = self.outstanding.get_mut(u)?.take()?;
        self.in_flight -= 1;
        if let Some(record) = app.upstreams.get_mut(u) {
            record.in_flight = false;
        }
        Some(taken)
    }

    /// The fetch, if it is fetch `id` and `upstream`'s `request` is the one it waits for.
    fn current_fetch(
        &mut self,
        upstream: usize,
        request: Request,
        id: u64,
    ) -> Option<&mut BundleFetch> {
        let current = self.fetch_id;
        self.fetch
            .as_mut()
            .filter(|f| id == current && f.current() == (upstream, request))
    }

    fn start_round(&mut self, app: &mut AppState, now: Now) {
        if now.mono >= self.next_tick {
            // A regular round (not an early retry): the schedule moves on.
            self.next_tick = self
                .next_tick
                .max(now.mono.saturating_sub(self.cfg.poll_ms))
                .saturating_add(self.cfg.poll_ms);
        }
        // Misconfigured entries are shown, never polled.
        let polled: Vec<usize> = (0..app.upstreams.len())
            .filter(|&u| app.upstreams[u].spec.is_usable())
            .collect();
        for &u in &polled {
            self.polls[u] = Some(Poll::default());
            self.queue
                .push_back((u, Request::ForkChoice, Purpose::Poll));
        }
        let n = polled.len();
        self.round = Some(Round {
            started: now.mono,
            polled,
            remaining: n,
            votes: Vec::new(),
        });
        if n == 0 {
            self.end_round(app, now);
        }
    }

    fn poll_reply(&mut self, app: &mut AppState, u: usize, reply: Reply, now: Now) {
        let (Some(poll), Some(record)) = (
            self.polls.get_mut(u).and_then(Option::as_mut),
            app.upstreams.get_mut(u),
        ) else {
            return;
        };
        match poll.on_reply(record, reply) {
            Ok(Next::Send(request)) => self.queue.push_front((u, request, Purpose::Poll)),
            Ok(Next::Done) => self.finish_poll(app, u, now),
            Err(failure) => {
                record_failure(app, u, failure, now);
                self.finish_poll(app, u, now);
            }
        }
    }

    fn finish_poll(&mut self, app: &mut AppState, u: usize, now: Now) {
        let (Some(poll), Some(record)) = (
            self.polls.get_mut(u).and_then(Option::take),
            app.upstreams.get_mut(u),
        ) else {
            return;
        };
        let vote = poll.vote(u, record);
        if vote.is_some() && !record.healthy && record.last_success_ms.is_some() {
            tracing::info!(upstream = %record.spec.name, "upstream recovered");
        }
        record.healthy = vote.is_some();
        record.last_latency_ms = poll.started.map(|s| now.mono.saturating_sub(s));
        if vote.is_some() {
            record.last_success_ms = Some(now.wall);
        }
        app.version += 1;
        let Some(round) = self.round.as_mut() else {
            return;
        };
        round.votes.extend(vote);
        round.remaining -= 1;
        if round.remaining == 0 {
            self.end_round(app, now);
        } else if vote.is_some() {
            self.fetch_early(app);
        }
    }

    fn end_round(&mut self, app: &mut AppState, now: Now) {
        let Some(round) = self.round.take() else {
            return;
        };
        let took = now.mono.saturating_sub(round.started);
        let previous_error = app.last_error.clone();
        let outcome = finish_round(app, &round.polled, &round.votes, now.wall, took);
        self.install_early(app, now);
        let mut at = self.next_tick;
        match outcome {
            RoundOutcome::Agreed { new_checkpoint } => {
                if let (true, Some(a)) = (new_checkpoint, &app.agreed) {
                    tracing::info!(
                        finalized_slot = a.finalized.slot,
                        finalized_root = %root_hex(&a.finalized.root),
                        justified_slot = a.justified.slot,
                        agreeing = a.agreeing(),
                        responders = a.responders,
                        "new agreed checkpoint"
                    );
                }
                self.split_streak = 0;
                self.want_bundle(app);
            }
            RoundOutcome::NoConsensus => {
                if previous_error != app.last_error {
                    tracing::warn!(
                        responders = round.votes.len(),
                        polled = round.polled.len(),
                        last_error = app.last_error.as_deref().unwrap_or(""),
                        "round without consensus"
                    );
                }
                if round.votes.is_empty() {
                    self.split_streak = 0;
                } else {
                    // Real nodes disagree for up to a second around each block; a split
                    // that lasts is retried less and less often (never past --poll-ms).
                    let backoff = self
                        .cfg
                        .split_retry_ms
                        .saturating_mul(1 << self.split_streak.min(6));
                    self.split_streak = self.split_streak.saturating_add(1);
                    at = at.min(now.mono.saturating_add(backoff));
                }
            }
        }
        self.actions.push(Action::ArmTick {
            at: at.max(now.mono),
        });
    }

    /// Applies a pending reload once idle, then sends what can be sent.
    fn settle(&mut self, app: &mut AppState, now: Now) {
        if self.in_flight == 0 {
            if let Some(specs) = self.pending_reload.take() {
                self.round = None;
                self.fetch = None;
                // Its round is abandoned, and its upstream index belongs to the old set:
                // fetched again if the next round agrees on it (never three states).
                self.early = None;
                self.queue.clear();
                let kept = reload::apply(app, specs);
                let n = app.upstreams.len();
                self.polls = (0..n).map(|_| None).collect();
                self.outstanding = vec![None; n];
                self.actions.push(Action::Remap { kept });
                self.start_round(app, now);
            }
        }
        self.dispatch(app, now);
    }

    /// Sends queued requests, in order, while the pool allows; an upstream with a
    /// request in flight keeps its place in the queue, and so does a bundle request
    /// while another one (of a fetch given up for a newer checkpoint) is still
    /// downloading: one bundle in flight at most.
    fn dispatch(&mut self, app: &mut AppState, now: Now) {
        if self.pending_reload.is_some() {
            return;
        }
        let mut downloading = self
            .outstanding
            .iter()
            .any(|o| matches!(o, Some((_, Purpose::Bundle(_)))));
        // Entries of a fetch since replaced are dropped.
        let current = self.fetch.as_ref().map(|_| self.fetch_id);
        self.queue
            .retain(|e| !matches!(e.2, Purpose::Bundle(id) if Some(id) != current));
        let mut i = 0;
        while self.in_flight < self.cfg.pool && i < self.queue.len() {
            let Some(&(u, request, purpose)) = self.queue.get(i) else {
                break;
            };
            let busy = self.outstanding.get(u).is_none_or(Option::is_some);
            let bundle = matches!(purpose, Purpose::Bundle(_));
            if busy || (bundle && downloading) {
                i += 1;
                continue;
            }
            downloading |= bundle;
            if bundle && request == Request::State {
                // The previous bundle (kept for clients finishing a pair) goes before the
                // next state arrives: two states in memory at most.
                app.previous_bundle = None;
            }
            self.queue.remove(i);
            self.outstanding[u] = Some((request, purpose));
            self.in_flight += 1;
            if let Some(record) = app.upstreams.get_mut(u) {
                record.in_flight = true;
            }
            if let Some(poll) = self.polls.get_mut(u).and_then(Option::as_mut) {
                poll.started.get_or_insert(now.mono);
            }
            self.actions.push(Action::Send {
                upstream: u,
                request,
            });
        }
    }
}

/// Records a failure in the upstream's record (and logs it when its kind changes).
fn record_failure(
    app: &mut AppState,
    u: usize,
    (kind, detail): (UpstreamErrorKind, String),
    now: Now,
) {
    let Some(record) = app.upstreams.get_mut(u) else {
        return;
    };
    let previous = record.last_error.as_ref().map(|e| e.kind);
    if previous != Some(kind) || kind == UpstreamErrorKind::CheckpointMismatch {
        tracing::warn!(upstream = %record.spec.name, kind = kind.as_str(), "{detail}");
    }
    record.record_error(UpstreamError {
        kind,
        detail,
        at_ms: now.wall,
    });
    app.version += 1;
}
