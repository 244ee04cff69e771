//! The file-descriptor budget: `RLIMIT_NOFILE` split into reserved fds, the upstream
//! socket pool and the inbound connection pool, computed once at start-up.
//!
//! `required = RESERVED + upstream_pool + MIN_INBOUND` where
//! `upstream_pool = min(poll_concurrency, upstreams)`. The soft limit is raised toward
//! the hard one when that helps; otherwise start-up is refused naming the limit needed.

use thiserror::Error;

/// Fds kept for stdio, epoll, signalfd, listener, the resolver, a static file, /proc reads.
pub const RESERVED: usize = 12;
/// Fewest inbound connections worth starting with.
pub const MIN_INBOUND: usize = 8;

/// The budget every pool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft `RLIMIT_NOFILE` in force after start-up.
    pub limit: usize,
    pub reserved: usize,
    /// Most upstream sockets open at once.
    pub upstream_pool: usize,
    /// Most inbound connections open at once.
    pub inbound_pool: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BudgetError {
    #[error("nofile {limit} is too low: {upstreams} upstreams with poll concurrency {concurrency} need at least {needed}")]
    TooLow {
        limit: usize,
        upstreams: usize,
        concurrency: usize,
        needed: usize,
    },
    #[error("cannot read RLIMIT_NOFILE: {0}")]
    Rlimit(String),
}

/// Pure computation. `soft`/`hard` are the current limits; returns the budget and the
/// soft limit to set if it must be raised.
pub fn compute(
    soft: u64,
    hard: u64,
    upstreams: usize,
    poll_concurrency: usize,
    max_connections: usize,
) -> Result<(FdBudget, Option<u64>), BudgetError> {
    let _ = (soft, hard, upstreams, poll_concurrency, max_connections);
    todo!()
}

/// Reads the limits, raises the soft one if that helps, and returns the budget.
pub fn establish(
    upstreams: usize,
    poll_concurrency: usize,
    max_connections: usize,
) -> Result<FdBudget, BudgetError> {
    let _ = (upstreams, poll_concurrency, max_connections);
    todo!()
}

/// Open fds of this process (entries of `/proc/self/fd`, minus the one used to list it).
pub fn open_fds() -> usize {
    todo!()
}
