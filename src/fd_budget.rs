//! The file-descriptor budget: `RLIMIT_NOFILE` split into reserved fds, the upstream
//! socket pool and the inbound connection pool, computed once at start-up.
//!
//! `required = reserved + upstream_pool + MIN_INBOUND` where
//! `upstream_pool = min(poll_concurrency, upstreams)` and `reserved = RESERVED`, plus
//! the admin listener and its [`ADMIN_POOL`] connections when it is enabled, and
//! [`ACCESS_LOG_FDS`] with an access log. The soft
//! limit is raised toward the hard one when that helps; otherwise start-up is refused
//! naming the limit needed.

use thiserror::Error;

/// Fds kept for stdio, epoll, signalfd, listener, the resolver, a static file, /proc reads.
pub const RESERVED: usize = 12;
/// Fewest inbound connections worth starting with.
pub const MIN_INBOUND: usize = 8;
/// Connections of the admin listener (`--admin-port`), reserved apart from the inbound
/// pool so that probes never compete with the public.
pub const ADMIN_POOL: usize = 8;

/// Fds an access log holds: its file (or stderr opened anew), and the new one while a
/// SIGHUP reopen overlaps the old.
pub const ACCESS_LOG_FDS: usize = 2;

/// Fds reserved for the access log (0 without one).
pub fn access_log_reserved(access_log: bool) -> usize {
    if access_log {
        ACCESS_LOG_FDS
    } else {
        0
    }
}

/// Fds reserved for the admin listener and its connections (0 without it).
pub fn admin_reserved(admin: bool) -> usize {
    if admin {
        ADMIN_POOL + 1
    } else {
        0
    }
}

/// The budget every pool reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdBudget {
    /// The soft `RLIMIT_NOFILE` in force after start-up.
    pub limit: usize,
    /// `RESERVED`, plus the admin listener and its connections when enabled.
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

/// Limits above this (`RLIM_INFINITY` included) are counted as this many fds: the
/// kernel's default `fs.nr_open`, above which `setrlimit` fails anyway.
pub const FD_CAP: u64 = 1 << 20;

impl FdBudget {
    /// Whether the fds outside the inbound pool are above `percent` % of their share
    /// of the limit (`/healthz` `fd_pressure`): `open` fds of the process, `inbound` of
    /// them inbound connections of the public listener. A full inbound pool is within
    /// budget, so it is not pressure; leaked or unbudgeted fds are.
    pub fn under_pressure(&self, open: usize, inbound: usize, percent: u8) -> bool {
        let outside = open.saturating_sub(inbound.min(self.inbound_pool));
        let share = self.limit.saturating_sub(self.inbound_pool);
        outside.saturating_mul(100) > share.saturating_mul(usize::from(percent))
    }
}

/// Pure computation. `soft`/`hard` are the current limits; `extra_reserved` the fds
/// reserved beyond [`RESERVED`] ([`admin_reserved`], [`access_log_reserved`]). Returns
/// the budget and the soft limit to set if it must be raised.
///
/// `desired = reserved + upstream_pool + max_connections`: when the soft limit is below
/// it and the hard limit is above the soft one, the soft limit is raised to
/// `min(hard, desired)`. The inbound pool is what is left, at most `max_connections`.
pub fn compute(
    soft: u64,
    hard: u64,
    upstreams: usize,
    poll_concurrency: usize,
    max_connections: usize,
    extra_reserved: usize,
) -> Result<(FdBudget, Option<u64>), BudgetError> {
    let soft = soft.min(FD_CAP);
    let hard = hard.min(FD_CAP);
    let reserved = RESERVED + extra_reserved;
    let upstream_pool = poll_concurrency.min(upstreams).max(1);
    let needed = reserved
        .saturating_add(upstream_pool)
        .saturating_add(MIN_INBOUND);
    let desired = reserved
        .saturating_add(upstream_pool)
        .saturating_add(max_connections);
    let desired = u64::try_from(desired).unwrap_or(u64::MAX);
    let (limit, raise) = if soft < desired && hard > soft {
        let new_soft = hard.min(desired);
        (new_soft, Some(new_soft))
    } else {
        (soft, None)
    };
    // `limit` is at most FD_CAP, which fits any usize of 32 bits or more.
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    if limit < needed {
        return Err(BudgetError::TooLow {
            limit,
            upstreams,
            concurrency: poll_concurrency,
            needed,
        });
    }
    let inbound_pool = max_connections.min(limit - reserved - upstream_pool);
    let budget = FdBudget {
        limit,
        reserved,
        upstream_pool,
        inbound_pool,
    };
    Ok((budget, raise))
}

/// Reads the limits, raises the soft one if that helps, and returns the budget.
///
/// If raising fails (a container may forbid it), the budget is computed again within
/// the current soft limit.
pub fn establish(
    upstreams: usize,
    poll_concurrency: usize,
    max_connections: usize,
    extra_reserved: usize,
) -> Result<FdBudget, BudgetError> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| BudgetError::Rlimit(e.to_string()))?;
    let (budget, raise) = compute(
        soft,
        hard,
        upstreams,
        poll_concurrency,
        max_connections,
        extra_reserved,
    )?;
    let Some(new_soft) = raise else {
        return Ok(budget);
    };
    match setrlimit(Resource::RLIMIT_NOFILE, new_soft, hard) {
        Ok(()) => {
            tracing::info!(from = soft, to = new_soft, "raised the soft RLIMIT_NOFILE");
            Ok(budget)
        }
        Err(e) => {
            tracing::warn!(soft, hard, wanted = new_soft, error = %e, "cannot raise RLIMIT_NOFILE");
            compute(
                soft,
                soft,
                upstreams,
                poll_concurrency,
                max_connections,
                extra_reserved,
            )
            .map(|(b, _)| b)
        }
    }
}

/// Open fds of this process (entries of `/proc/self/fd`, minus the one used to list it);
/// 0 where `/proc` cannot be read.
pub fn open_fds() -> usize {
    try_open_fds().unwrap_or(0)
}

/// Open fds, or `None` when `/proc/self/fd` cannot be listed (typically because no fd is
/// left to open it: callers should then assume the worst, not zero).
pub fn try_open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|entries| entries.count().saturating_sub(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: u64 = u64::MAX; // RLIM_INFINITY on Linux

    #[test]
    fn too_low_names_the_limit_needed() {
        let e = compute(16, 16, 40, 64, 1024, 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nofile 16 is too low: 40 upstreams with poll concurrency 64 need at least 60"
        );
    }

    #[test]
    fn too_low_after_raising_to_the_hard_limit() {
        let e = compute(16, 40, 40, 64, 1024, 0).unwrap_err();
        assert_eq!(
            e,
            BudgetError::TooLow {
                limit: 40,
                upstreams: 40,
                concurrency: 64,
                needed: 60
            }
        );
    }

    #[test]
    fn exactly_enough_is_enough() {
        let (b, raise) = compute(60, 60, 40, 64, 1024, 0).unwrap();
        assert_eq!(raise, None);
        assert_eq!((b.limit, b.upstream_pool, b.inbound_pool), (60, 40, 8));
    }

    #[test]
    fn raises_soft_toward_desired() {
        // desired = 12 + 4 + 1024 = 1040, hard allows it.
        let (b, raise) = compute(256, 4096, 4, 64, 1024, 0).unwrap();
        assert_eq!(raise, Some(1040));
        assert_eq!(b.limit, 1040);
        assert_eq!(b.inbound_pool, 1024);
        assert_eq!(b.reserved, RESERVED);
    }

    #[test]
    fn raises_soft_up_to_hard_and_clamps_inbound() {
        let (b, raise) = compute(256, 512, 100, 64, 1024, 0).unwrap();
        assert_eq!(raise, Some(512));
        assert_eq!(b.upstream_pool, 64);
        assert_eq!(b.inbound_pool, 512 - 12 - 64);
    }

    #[test]
    fn no_raise_when_soft_suffices_or_hard_is_soft() {
        let (b, raise) = compute(65536, 65536, 4, 64, 1024, 0).unwrap();
        assert_eq!((raise, b.limit, b.inbound_pool), (None, 65536, 1024));
        let (b, raise) = compute(256, 256, 4, 64, 1024, 0).unwrap();
        assert_eq!((raise, b.inbound_pool), (None, 256 - 12 - 4));
    }

    #[test]
    fn upstream_pool_is_bounded_by_concurrency_and_at_least_one() {
        assert_eq!(
            compute(1024, 1024, 500, 16, 10, 0).unwrap().0.upstream_pool,
            16
        );
        assert_eq!(
            compute(1024, 1024, 0, 16, 10, 0).unwrap().0.upstream_pool,
            1
        );
        assert_eq!(compute(1024, 1024, 3, 0, 10, 0).unwrap().0.upstream_pool, 1);
    }

    #[test]
    fn infinity_is_capped() {
        let (b, raise) = compute(INF, INF, 4, 64, 1024, 0).unwrap();
        assert_eq!(
            (raise, b.limit, b.inbound_pool),
            (None, FD_CAP as usize, 1024)
        );
        let (b, raise) = compute(1024, INF, 4, 64, 4096, 0).unwrap();
        assert_eq!(raise, Some(12 + 4 + 4096));
        assert_eq!(b.inbound_pool, 4096);
        let (b, raise) = compute(1024, INF, 4, 64, usize::MAX, 0).unwrap();
        assert_eq!(raise, Some(FD_CAP));
        assert_eq!(b.inbound_pool, FD_CAP as usize - 12 - 4);
    }

    #[test]
    fn the_admin_listener_and_its_connections_are_reserved() {
        let (b, _) = compute(128, 128, 1, 64, 1024, admin_reserved(true)).unwrap();
        assert_eq!(b.reserved, RESERVED + ADMIN_POOL + 1);
        assert_eq!(b.inbound_pool, 128 - RESERVED - ADMIN_POOL - 1 - 1);
        let e = compute(16, 16, 1, 64, 1024, admin_reserved(true)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "nofile 16 is too low: 1 upstreams with poll concurrency 64 need at least 30"
        );
    }

    #[test]
    fn pressure_is_above_the_share_outside_the_inbound_pool() {
        // limit 1000 = 12 reserved + 4 upstream + 984 inbound: 16 fds outside the pool.
        let b = compute(1000, 1000, 4, 64, 10_000, 0).unwrap().0;
        assert_eq!(b.inbound_pool, 984);
        // A full inbound pool and the usual fds outside it: no pressure.
        assert!(!b.under_pressure(984 + 10, 984, 90));
        // 90% of 16 is 14.4: 14 outside is fine, 15 is pressure.
        assert!(!b.under_pressure(984 + 14, 984, 90));
        assert!(b.under_pressure(984 + 15, 984, 90));
        assert!(b.under_pressure(15, 0, 90));
        assert!(!b.under_pressure(16, 0, 100));
        assert!(b.under_pressure(17, 0, 100));
        // More inbound connections than the pool (cannot happen) do not hide fds.
        assert!(b.under_pressure(2000, 2000, 90));
        assert!(
            b.under_pressure(usize::MAX, 0, 100),
            "saturates instead of overflowing"
        );
    }

    #[test]
    fn establish_gives_a_usable_budget() {
        let b = establish(1, 1, 8, 0).unwrap();
        assert!(b.limit >= RESERVED + 1 + MIN_INBOUND);
        assert_eq!(b.upstream_pool, 1);
        assert!(b.inbound_pool >= MIN_INBOUND && b.inbound_pool <= 8);
    }

    #[test]
    fn open_fds_counts_a_new_file() {
        // Other tests may open or close fds meanwhile: a few attempts must see exactly ours.
        const N: usize = 16;
        let seen = (0..10).any(|_| {
            let before = open_fds();
            let files: Vec<_> = (0..N)
                .filter_map(|_| std::fs::File::open("/proc/self/stat").ok())
                .collect();
            let during = open_fds();
            let opened = files.len();
            drop(files);
            let after = open_fds();
            opened == N && during == before + N && after == before
        });
        assert!(seen, "opening {N} files never showed as {N} more fds");
    }

    #[test]
    fn an_access_log_reserves_its_fds_out_of_the_inbound_pool() {
        let without = compute(128, 128, 1, 64, 1024, 0).unwrap().0;
        let with = compute(128, 128, 1, 64, 1024, access_log_reserved(true))
            .unwrap()
            .0;
        assert_eq!(with.reserved, without.reserved + ACCESS_LOG_FDS);
        assert_eq!(with.inbound_pool, without.inbound_pool - ACCESS_LOG_FDS);
        assert_eq!(access_log_reserved(false), 0);
    }
}
