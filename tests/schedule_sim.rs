//! The deterministic simulation tier of the poll scheduler: no sockets, no sleeps. A fake
//! clock and an event queue drive `Scheduler` with scripted peers (honest, liar, silent,
//! slow, flapping, without fork choice) over a chain whose finalized checkpoint moves on;
//! real lstar bundles, real roots. Thousands of rounds run in well under a second, and
//! after every event the rules are checked:
//! - the bundle served is always a verified pair of an honest chain step (never a liar's
//!   bytes), block root = its checkpoint root, `block.state_root == htr(state)`;
//! - at most `pool` requests in flight, never two to one upstream;
//! - at most one block or state download in flight (one bundle in flight, whatever the
//!   number of upstreams), and no previous bundle held meanwhile;
//! - a liar is asked at most once per checkpoint; every chain step an honest majority
//!   agrees on is verified and served; a reload in the middle of a bundle fetch loses
//!   nothing.

use leanpoint::app::AppState;
use leanpoint::app::UpstreamErrorKind;
use leanpoint::config::{HttpUrl, UpstreamSpec};
use leanpoint::fd_budget::FdBudget;
use leanpoint::lean::lstar::{signed_block_roots, state_roots};
use leanpoint::lean::{root_hex, Checkpoint};
use leanpoint::upstream::schedule::{Action, Now, Reply, Request, Scheduler, SchedulerConfig};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

const FIXTURE_STATE: &[u8] = include_bytes!("fixtures/lean-api/live/states_finalized.ssz");
const FIXTURE_BLOCK: &[u8] = include_bytes!("fixtures/lean-api/live/blocks_finalized.ssz");
/// Where `state_root` sits in the fixture's `SignedBlock`.
const BLOCK_STATE_ROOT_AT: usize = 8 + 8 + 8 + 32;

/// One step of the chain: a consistent bundle.
#[derive(Clone)]
struct Step {
    block: Vec<u8>,
    state: Vec<u8>,
    finalized: Checkpoint,
    fork_choice: Vec<u8>,
    justified: Vec<u8>,
}

/// Chain step `k` (`fork` picks another chain): the fixture's block and post-state moved
/// to slot 18 + k (state slot and header slot), with the genesis time changed on the
/// other fork, so every root differs; the block's slot and state root set to match.
fn step(k: u16, fork: u8) -> Step {
    let slot = 18 + u64::from(k);
    let mut state = FIXTURE_STATE.to_vec();
    state[8..16].copy_from_slice(&slot.to_le_bytes());
    state[16..24].copy_from_slice(&slot.to_le_bytes());
    state[3] ^= fork;
    let roots = state_roots(&state).expect("valid state");
    let mut block = FIXTURE_BLOCK.to_vec();
    let first = u32::from_le_bytes(block[..4].try_into().unwrap()) as usize;
    block[first..first + 8].copy_from_slice(&slot.to_le_bytes());
    let at = first + BLOCK_STATE_ROOT_AT - 8;
    block[at..at + 32].copy_from_slice(&roots.state_root);
    assert_eq!(
        signed_block_roots(&block).unwrap().block_root,
        roots.block_root
    );
    let finalized = Checkpoint {
        slot: roots.header_slot,
        root: roots.block_root,
    };
    let root = root_hex(&finalized.root);
    let justified = format!(r#"{{"slot":{},"root":"{root}"}}"#, finalized.slot + 1);
    let fork_choice = format!(
        r#"{{"nodes":[],"head":"{root}","justified":{justified},"finalized":{{"slot":{},"root":"{root}"}},"safe_target":"{root}","validator_count":4}}"#,
        finalized.slot
    );
    Step {
        block,
        state,
        finalized,
        fork_choice: fork_choice.into_bytes(),
        justified: justified.into_bytes(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Honest,
    /// True fork choice and block, tampered state.
    Liar,
    /// Never answers: the shell's request deadline fires.
    Silent,
    /// Answers after a third of the deadline.
    Slow,
    /// On another chain every other step.
    Flapping,
    /// 404 on fork choice; votes with its state.
    NoForkChoice,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Event {
    Tick,
    /// A reply (or failure) of upstream `u`, for the request sent with sequence `seq`.
    Deliver(usize, u64),
}

/// The fake shell: performs actions against scripted peers.
struct Sim {
    now: u64,
    scheduler: Scheduler,
    app: AppState,
    peers: Vec<Peer>,
    queue: BinaryHeap<Reverse<(u64, u64, Event)>>,
    seq: u64,
    /// Request in flight per upstream: (request, seq).
    outstanding: Vec<Option<(Request, u64)>>,
    /// Replies computed at send time, delivered later.
    pending: HashMap<u64, Result<Reply, UpstreamErrorKind>>,
    tick_at: Option<u64>,
    pool: usize,
    /// Chain steps: step `i` is current from `i * step_ms`.
    chain: Vec<Step>,
    alternate: Vec<Step>,
    step_ms: u64,
    timeout_ms: u64,
    honest_states: Vec<Vec<u8>>,
    /// (checkpoint root, upstream) pairs of liars asked for a bundle.
    liar_asks: HashMap<([u8; 32], usize), usize>,
    verified: Vec<Checkpoint>,
    /// The bundle checked last (a bundle is immutable: checked once).
    checked: Option<std::rc::Rc<leanpoint::app::Bundle>>,
    max_in_flight: usize,
}

fn spec(i: usize) -> UpstreamSpec {
    UpstreamSpec {
        name: format!("p{i}"),
        url: format!("http://127.0.0.1:{}", 6000 + i),
        target: HttpUrl {
            host: "127.0.0.1".into(),
            port: 6000 + i as u16,
            prefix: String::new(),
        },
        path: "/status".into(),
        problem: None,
    }
}

impl Sim {
    fn new(peers: &[Peer], pool: usize, steps: u16, step_ms: u64) -> Sim {
        let specs: Vec<UpstreamSpec> = (0..peers.len()).map(spec).collect();
        let budget = FdBudget {
            limit: 1024,
            reserved: 12,
            upstream_pool: pool,
            inbound_pool: 64,
        };
        let mut app = AppState::new(specs, 30_000, 16, budget, 90);
        for u in app.upstreams.iter_mut() {
            u.addr = Some(format!("127.0.0.1:{}", u.spec.target.port).parse().unwrap());
        }
        let chain: Vec<Step> = (0..steps).map(|k| step(k, 0)).collect();
        let alternate: Vec<Step> = (0..steps).map(|k| step(k, 0x5a)).collect();
        let honest_states = chain.iter().map(|s| s.state.clone()).collect();
        let cfg = SchedulerConfig {
            poll_ms: 1000,
            split_retry_ms: 200,
            pool,
        };
        let now = Now { mono: 0, wall: 0 };
        let scheduler = Scheduler::new(cfg, peers.len(), now);
        Sim {
            now: 0,
            scheduler,
            app,
            peers: peers.to_vec(),
            queue: BinaryHeap::new(),
            seq: 0,
            outstanding: vec![None; peers.len()],
            pending: HashMap::new(),
            tick_at: None,
            pool,
            chain,
            alternate,
            step_ms,
            timeout_ms: 800,
            honest_states,
            liar_asks: HashMap::new(),
            verified: Vec::new(),
            checked: None,
            max_in_flight: 0,
        }
    }

    fn time(&self) -> Now {
        Now {
            mono: self.now,
            wall: 1_700_000_000_000 + self.now as i64,
        }
    }

    /// The chain step current at `now` (the last one stays once reached).
    fn current(&self, fork: bool) -> &Step {
        let i = ((self.now / self.step_ms) as usize).min(self.chain.len() - 1);
        if fork {
            &self.alternate[i]
        } else {
            &self.chain[i]
        }
    }

    /// What peer `u` answers to `request` now.
    fn answer(&mut self, u: usize, request: Request) -> (u64, Result<Reply, UpstreamErrorKind>) {
        let peer = self.peers[u];
        let index = (self.now / self.step_ms) as usize;
        let fork = peer == Peer::Flapping && index % 2 == 1;
        let step = self.current(fork).clone();
        let latency = match peer {
            Peer::Slow => self.timeout_ms / 3,
            _ => 3 + (u as u64 * 7 + self.seq) % 20,
        };
        if peer == Peer::Silent {
            return (self.timeout_ms, Err(UpstreamErrorKind::RequestTimeout));
        }
        let reply = match request {
            Request::ForkChoice if peer == Peer::NoForkChoice => Reply {
                status: 404,
                ..Reply::ok(b"not found".to_vec())
            },
            Request::ForkChoice => Reply::ok(step.fork_choice),
            Request::Justified => Reply::ok(step.justified),
            Request::Block => {
                if peer == Peer::Liar {
                    *self.liar_asks.entry((step.finalized.root, u)).or_default() += 1;
                }
                Reply::ok(step.block)
            }
            Request::State | Request::VoteState => {
                let mut state = step.state;
                if peer == Peer::Liar {
                    state[0] ^= 1;
                }
                let roots = state_roots(&state);
                let mut reply = Reply::ok(state);
                if request == Request::VoteState {
                    reply.body = Vec::new();
                }
                reply.state = Some(roots);
                reply
            }
        };
        (latency, Ok(reply))
    }

    fn perform(&mut self) {
        for action in self.scheduler.take_actions() {
            match action {
                Action::Send { upstream, request } => {
                    assert!(
                        self.outstanding[upstream].is_none(),
                        "two requests in flight to upstream {upstream}"
                    );
                    self.seq += 1;
                    let (latency, reply) = self.answer(upstream, request);
                    self.outstanding[upstream] = Some((request, self.seq));
                    self.pending.insert(self.seq, reply);
                    self.queue.push(Reverse((
                        self.now + latency,
                        self.seq,
                        Event::Deliver(upstream, self.seq),
                    )));
                }
                Action::ArmTick { at } => {
                    self.tick_at = Some(at);
                    self.seq += 1;
                    self.queue.push(Reverse((at, self.seq, Event::Tick)));
                }
                Action::Remap { kept } => {
                    // The shell moves what it holds per upstream to the new indices.
                    let old_peers = std::mem::take(&mut self.peers);
                    let old_out = std::mem::take(&mut self.outstanding);
                    assert!(
                        old_out.iter().all(Option::is_none),
                        "remap with requests in flight"
                    );
                    self.peers = kept
                        .iter()
                        .map(|k| k.map_or(Peer::Honest, |o| old_peers[o]))
                        .collect();
                    self.outstanding = vec![None; kept.len()];
                }
            }
        }
        self.check();
    }

    /// The rules that hold after every event.
    fn check(&mut self) {
        let in_flight = self.outstanding.iter().filter(|o| o.is_some()).count();
        assert_eq!(in_flight, self.scheduler.in_flight());
        assert!(
            in_flight <= self.pool,
            "{in_flight} requests in flight, pool {}",
            self.pool
        );
        self.max_in_flight = self.max_in_flight.max(in_flight);
        let downloads = self
            .outstanding
            .iter()
            .flatten()
            .filter(|(r, _)| matches!(r, Request::Block | Request::State))
            .count();
        assert!(downloads <= 1, "{downloads} bundle downloads in flight");
        // States in memory: the bundle served and one in flight, or the bundle served
        // and the previous one (kept for clients finishing a pair), never three.
        let state_downloads = self
            .outstanding
            .iter()
            .flatten()
            .filter(|(r, _)| *r == Request::State)
            .count();
        if state_downloads > 0 {
            assert!(
                self.app.previous_bundle.is_none(),
                "a previous bundle held while another downloads"
            );
        }
        let states = usize::from(self.app.bundle.is_some())
            + usize::from(self.app.previous_bundle.is_some())
            + usize::from(self.scheduler.held_early().is_some())
            + state_downloads;
        assert!(states <= 2, "{states} states in memory");
        // The bundle served is never ahead of the agreed checkpoint shown beside it.
        if let Some(bundle) = &self.app.bundle {
            let agreed = self.app.agreed.as_ref().expect("a bundle only once agreed");
            assert!(
                bundle.checkpoint.slot <= agreed.finalized.slot,
                "bundle of slot {} served while slot {} is agreed",
                bundle.checkpoint.slot,
                agreed.finalized.slot
            );
        }
        if let Some(bundle) = self.app.bundle.clone() {
            if self
                .checked
                .as_ref()
                .is_some_and(|c| std::rc::Rc::ptr_eq(c, &bundle))
            {
                return;
            }
            let block = signed_block_roots(&bundle.block.bytes).expect("served block decodes");
            let state = state_roots(&bundle.state.bytes).expect("served state decodes");
            assert_eq!(block.block_root, bundle.checkpoint.root);
            assert_eq!(block.state_root, state.state_root);
            assert!(
                self.honest_states
                    .iter()
                    .any(|s| **s == *bundle.state.bytes),
                "served bytes that no honest chain step has"
            );
            if self.verified.last() != Some(&bundle.checkpoint) {
                self.verified.push(bundle.checkpoint);
            }
            self.checked = Some(bundle);
        }
    }

    fn run_until(&mut self, end: u64) {
        self.perform();
        while let Some(Reverse((at, _, _))) = self.queue.peek() {
            if *at > end {
                break;
            }
            let Some(Reverse((at, _, event))) = self.queue.pop() else {
                break;
            };
            self.now = at;
            let now = self.time();
            match event {
                Event::Tick => {
                    if self.tick_at == Some(at) {
                        self.tick_at = None;
                        self.scheduler.on_tick(&mut self.app, now);
                    }
                }
                Event::Deliver(u, seq) => {
                    let current = self.outstanding.get(u).copied().flatten();
                    let Some(reply) = self.pending.remove(&seq) else {
                        continue;
                    };
                    if current.map(|(_, s)| s) != Some(seq) {
                        continue; // for an index the reload removed
                    }
                    self.outstanding[u] = None;
                    match reply {
                        Ok(reply) => self.scheduler.on_reply(&mut self.app, u, reply, now),
                        Err(kind) => {
                            self.scheduler
                                .on_failure(&mut self.app, u, kind, "no answer", now)
                        }
                    }
                }
            }
            self.perform();
        }
        self.now = end;
    }
}

#[test]
fn thousands_of_rounds_with_every_kind_of_peer() {
    use Peer::*;
    let peers = [
        Honest,
        Honest,
        Honest,
        NoForkChoice,
        Liar,
        Silent,
        Slow,
        Flapping,
    ];
    // 3000 rounds of 1 s; the chain steps every 10 s (300 steps).
    let mut sim = Sim::new(&peers, 4, 300, 10_000);
    let started = std::time::Instant::now();
    sim.run_until(3_000_000);
    let took = started.elapsed();
    let rounds = sim.app.counters.rounds;
    eprintln!(
        "{rounds} rounds, {} bundles verified, {} verification failures, in {took:?}",
        sim.app.counters.bundles_verified, sim.app.counters.bundle_failures
    );
    assert!(rounds >= 3000, "{rounds} rounds");
    // Every step was agreed (5 honest-enough voters of 8) and verified, in order.
    let expected: Vec<Checkpoint> = sim.chain.iter().map(|s| s.finalized).collect();
    assert_eq!(
        sim.verified, expected,
        "each chain step verified once, in order"
    );
    // The liar is asked at most once per checkpoint.
    assert!(
        sim.liar_asks.values().all(|&n| n == 1),
        "{:?}",
        sim.liar_asks
    );
    assert!(sim.max_in_flight <= 4);
    // Steady state is light: block and state bytes are about one bundle per step.
    let fetched = sim.app.counters.fetched;
    let per_state = FIXTURE_STATE.len() as u64;
    assert!(
        fetched.states <= 300 * per_state * 5 / 4 + sim.liar_asks.len() as u64 * per_state,
        "{fetched:?}"
    );
}

#[test]
fn a_majority_of_liars_is_skipped_one_by_one_whatever_the_rotation() {
    use Peer::*;
    for honest_at in 0..5 {
        let mut peers = vec![Liar; 5];
        peers[honest_at] = Honest;
        let mut sim = Sim::new(&peers, 64, 20, 5_000);
        sim.run_until(100_000);
        let expected: Vec<Checkpoint> = sim.chain.iter().map(|s| s.finalized).collect();
        assert_eq!(sim.verified, expected, "honest at {honest_at}");
        assert!(sim.liar_asks.values().all(|&n| n == 1));
        // The rotation spreads who is asked first: not every liar every time.
        assert!(sim.liar_asks.len() < 20 * 4, "{}", sim.liar_asks.len());
    }
}

#[test]
fn when_every_member_lies_nothing_is_served_and_nobody_is_hammered() {
    let mut sim = Sim::new(&[Peer::Liar; 3], 8, 5, 10_000);
    sim.run_until(60_000);
    assert!(sim.app.bundle.is_none());
    assert!(sim.app.agreed.is_some(), "the checkpoint itself is agreed");
    assert!(
        sim.liar_asks.values().all(|&n| n == 1),
        "{:?}",
        sim.liar_asks
    );
}

#[test]
fn a_reload_in_the_middle_of_a_bundle_fetch_loses_nothing() {
    use Peer::*;
    let mut sim = Sim::new(&[Slow, Slow, Slow, Honest], 8, 40, 5_000);
    let mut reloads = 0;
    let mut t = 0;
    while t < 200_000 {
        t += 50;
        sim.run_until(t);
        if sim.scheduler.fetching().is_some() && reloads < 30 {
            // Same set, reordered, one added: indices move under the fetch.
            let mut specs: Vec<UpstreamSpec> =
                sim.app.upstreams.iter().map(|u| u.spec.clone()).collect();
            specs.rotate_left(1);
            if specs.len() < 6 {
                specs.push(spec(10 + reloads));
            }
            let now = sim.time();
            sim.scheduler.reload(&mut sim.app, specs, now);
            sim.perform();
            reloads += 1;
        }
    }
    assert!(reloads >= 10, "{reloads} reloads during a fetch");
    let last = sim.chain.last().unwrap().finalized;
    assert_eq!(sim.app.bundle.as_ref().map(|b| b.checkpoint), Some(last));
    // Records followed their upstream through every reorder.
    for u in &sim.app.upstreams {
        if u.spec.name == "p3" {
            assert!(u.healthy);
        }
    }
}

#[test]
fn a_split_round_is_retried_soon_then_less_often_and_silent_upstreams_are_not_responders() {
    use Peer::*;
    let mut sim = Sim::new(&[Honest, Flapping], 8, 4, 10_000);
    // The odd step starts at 10 s: the two disagree. The split is retried after 200 ms,
    // then 400, 800 ms... (the regular round every 1 s would give 1 in 0.7 s).
    sim.run_until(10_001);
    let rounds_before = sim.app.counters.rounds;
    sim.run_until(10_700);
    let early = sim.app.counters.rounds - rounds_before;
    assert!(early >= 3, "{early} rounds in the first 0.7 s of split");
    // A split that lasts backs off to the regular interval, not one retry every 200 ms.
    let rounds_before = sim.app.counters.rounds;
    sim.run_until(19_000);
    let later = sim.app.counters.rounds - rounds_before;
    assert!(later <= 12, "{later} rounds in 8.3 s of a lasting split");
    assert!(!sim.app.round.has_consensus);
    // The majority is of those who answered: one answer of three polled agrees.
    let mut silent = Sim::new(&[Silent, Silent, Honest], 8, 2, 10_000);
    silent.run_until(5_000);
    assert!(silent.app.round.has_consensus);
    assert_eq!(silent.app.round.responding_upstreams, 1);
    assert!(silent.app.bundle.is_some());
}

#[test]
fn honest_members_are_never_blamed_when_finalization_moves_during_a_round() {
    use Peer::*;
    // A silent upstream makes every round last the whole request deadline (800 ms), and
    // finalization moves every 1.1 s: the agreed checkpoint is often out of date by the
    // time its bundle is fetched, and the members serve a later block.
    let mut sim = Sim::new(&[Honest, Honest, Honest, Silent], 8, 60, 1_100);
    sim.run_until(66_000);
    let mismatches: u64 = sim.app.upstreams[..3]
        .iter()
        .map(|u| u.errors_by_kind[UpstreamErrorKind::CheckpointMismatch.index()])
        .sum();
    assert_eq!(mismatches, 0, "honest members blamed for moving on");
    assert_eq!(sim.app.counters.bundle_failures, 0);
    // Most steps still get their bundle served (each at most one step late).
    assert!(
        sim.verified.len() >= 40,
        "{} of 60 steps verified",
        sim.verified.len()
    );
    assert_eq!(
        sim.app.bundle.as_ref().map(|b| b.checkpoint),
        Some(sim.chain[59].finalized)
    );
}
