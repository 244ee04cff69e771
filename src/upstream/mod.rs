//! The upstream side: the sans-io poll scheduler (`schedule`: rounds, votes, the
//! verified bundle fetch, reload), the non-blocking socket shell of one upstream
//! connection (`conn`), the engine that performs the scheduler's actions with sockets
//! and timers, and the resolver that keeps name lookups off the event loop (`names`, `resolver`).

pub mod conn;
pub mod engine;
pub mod exchange;
pub mod names;
pub mod poll;
pub mod resolver;
pub mod schedule;

pub use engine::{Engine, EngineConfig};
