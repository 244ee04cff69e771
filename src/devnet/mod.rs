//! `lean-devnet`: simulated lean nodes for trying and testing leanpoint without a real
//! devnet. One thread, one `mio` loop: every node's listener and connection in one slab,
//! one timer wheel, the project's own HTTP request parser and inbound connection shell.
//!
//! The chain model (`chain`, with true SSZ roots kept incrementally through `merkle`),
//! the SSZ state (`state`) and the bodies built from them (`bodies`: block, state, JSON)
//! are pure; `node` answers requests, `profile` names the fault profiles, `conn` holds
//! one connection's behaviour, `setup` binds and announces the nodes, `slots` is the
//! slab, `event_loop` drives it all, `flags` reads the command line.

pub mod bodies;
pub mod chain;
pub mod conn;
pub mod event_loop;
pub mod flags;
pub mod merkle;
pub mod node;
pub mod profile;
pub mod setup;
pub mod state;

pub use flags::{parse_args, usage, DevnetConfig, Parsed};
pub use profile::Profile;

use crate::reactor::{Reactor, Signals};
use crate::timer::Clock;
use bodies::BodyCache;
use chain::ChainParams;
use std::io::Write;

/// Views kept in the body cache beyond the `lagging` and `late` delays.
const EXTRA_CACHED_SLOTS: u64 = 4;

/// Runs the simulator until SIGTERM/SIGINT: raises the open-files limit, binds the
/// nodes, writes the upstreams file, prints one line per node to `out`, then loops.
/// The error is one line for the user.
pub fn run(cfg: DevnetConfig, out: &mut dyn Write) -> Result<(), String> {
    let listening = cfg.profiles.iter().filter(|p| **p != Profile::Down).count();
    let limit = setup::raise_nofile(listening as u64)?;
    tracing::debug!(limit, "open-files limit");
    // Before anything else, so that no signal is lost once nodes are announced.
    let signals = Signals::new().map_err(|e| format!("cannot open the signalfd: {e}"))?;
    let bound = setup::bind_nodes(&cfg)?;
    if let Some(path) = &cfg.upstreams_out {
        setup::write_upstreams(path, &bound)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let clock = Clock::new();
    let params = ChainParams {
        genesis_time: u64::try_from(Clock::wall_ms() / 1000).unwrap_or(0),
        slot_ms: cfg.slot_ms,
        start_slot: cfg.start_slot,
        validators: cfg.validators,
    };
    let late_slots = cfg.late_ms.div_ceil(cfg.slot_ms.max(1));
    let mut cache = BodyCache::new(
        params,
        cfg.lag_slots
            .saturating_add(late_slots)
            .saturating_add(EXTRA_CACHED_SLOTS),
    );
    // The roots of a long start-up history are computed now, before the nodes are
    // announced, not during the first request.
    let head = params.head_at(clock.now_ms());
    for fork in [chain::CANONICAL, chain::ALTERNATE] {
        if cfg
            .profiles
            .iter()
            .any(|p| p.fork() == fork || p.fork() == chain::FLAPPING)
        {
            cache.get(fork, head);
        }
    }
    tracing::debug!(head, "chain ready");
    let nodes = bound.len();
    // The listeners queue connections already; the loop accepts them once it runs.
    setup::announce(&bound, out).map_err(|e| format!("cannot write to stdout: {e}"))?;
    let poll = mio::Poll::new().map_err(|e| format!("cannot start the loop: {e}"))?;
    let mut reactor = Reactor::new(poll, clock, signals, |cx| {
        event_loop::Devnet::new(cx, cfg, bound, cache)
    })
    .map_err(|e| format!("cannot start the loop: {e}"))?;
    tracing::info!(nodes, "devnet running");
    reactor.run().map_err(|e| format!("loop failed: {e}"))
}
