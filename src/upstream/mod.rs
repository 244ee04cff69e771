//! The upstream engine: a pure per-upstream poll sequence, the non-blocking socket shell
//! of one upstream connection, the round scheduler with its socket pool, and the
//! resolver that keeps name lookups off the event loop.

pub mod conn;
pub mod engine;
pub mod poll;
pub mod reconfigure;
mod record;
pub mod resolver;

pub use engine::{Engine, EngineConfig};
