//! leanpoint: a checkpoint-sync provider and finality monitor for Lean Ethereum devnets.
//!
//! One thread drives one `mio` reactor. Pure cores (parsers, state machines, consensus,
//! rendering) live apart from the socket shells so they can be unit-tested, fuzzed and
//! benched without I/O. See `docs/architecture.md`.

#![forbid(unsafe_code)]

pub mod app;
pub mod config;
pub mod consensus;
pub mod devnet;
pub mod fd_budget;
pub mod http1;
pub mod lean;
pub mod metrics;
pub mod reactor;
pub mod reload;
pub mod runtime;
pub mod server;
pub mod shell;
pub mod timer;
pub mod upstream;
