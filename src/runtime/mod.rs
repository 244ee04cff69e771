//! Putting the process together: the fd budget, the static folder, the listener, the
//! signalfd, the resolver, the engine and the server, built into the [`Leanpoint`]
//! handler of a reactor. Kept apart from `main` so integration tests build the same
//! thing.

mod leanpoint;

pub use leanpoint::Leanpoint;

use crate::app::AppState;
use crate::config::Config;
use crate::fd_budget::{self, BudgetError, FdBudget};
use crate::http1::request::RequestLimits;
use crate::reactor::{Reactor, Signals};
use crate::reload::Reloader;
use crate::server::access_log::AccessLog;
use crate::server::bind;
use crate::server::listener::{Server, ServerConfig};
use crate::server::static_files::{LoadError, StaticFiles};
use crate::shell::{Shell, Sockets, ACCESS_LOG, WAKER};
use crate::timer::Clock;
use crate::upstream::{Engine, EngineConfig};
use mio::net::TcpListener;
use mio::{Interest, Poll, Waker};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use thiserror::Error;

/// Listen backlog of the admin listener (its probes are few).
const ADMIN_BACKLOG: i32 = 64;

/// Why the process could not start or stopped abnormally.
#[derive(Debug, Error)]
pub enum RunError {
    #[error("{0}")]
    Budget(#[from] BudgetError),
    /// `--static-dir` missing, unreadable or over `--static-max-bytes`.
    #[error("{0}")]
    Static(#[from] LoadError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// `--access-log` names a file that cannot be opened for appending.
    #[error("{0}")]
    AccessLog(#[from] crate::server::access_log::OpenError),
    #[error("signal handling: {0}")]
    Signals(nix::Error),
    #[error("event loop: {0}")]
    Io(#[from] std::io::Error),
}

impl RunError {
    /// Exit status: 2 for a configuration the machine cannot hold (or a static folder
    /// or access log that cannot be used), 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Budget(_) | RunError::Static(_) | RunError::AccessLog(_) => 2,
            _ => 1,
        }
    }
}

/// Builds the reactor for `config` (bound, not yet running).
pub fn build(config: &Config) -> Result<Reactor<Leanpoint>, RunError> {
    let budget = fd_budget::establish(
        config.upstreams.len(),
        config.poll_concurrency,
        config.max_connections,
        fd_budget::admin_reserved(config.admin_addr.is_some())
            + fd_budget::access_log_reserved(config.access_log.is_some()),
    )?;
    tracing::info!(
        limit = budget.limit,
        reserved = budget.reserved,
        upstream_pool = budget.upstream_pool,
        inbound_pool = budget.inbound_pool,
        "file-descriptor budget"
    );
    // Read before binding, so that a folder that cannot be served stops start-up.
    let static_dir = match &config.static_dir {
        Some(dir) => Some(Rc::new(StaticFiles::load(
            dir.clone(),
            config.static_max_bytes,
        )?)),
        None => None,
    };
    let access_log = match &config.access_log {
        Some(dest) => Some(Rc::new(AccessLog::open(dest, config.access_log_format)?)),
        None => None,
    };
    // Block the signals before any thread is spawned so every thread inherits the mask.
    let signals = Signals::new().map_err(RunError::Signals)?;
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let (listener, admin) = bind_listeners(config, budget.inbound_pool)?;
    let mut app = AppState::new(
        config.upstreams.clone(),
        config.stale_ms,
        config.history_len,
        budget,
        config.fd_pressure_percent,
    );
    let engine_cfg = engine_config(config, &budget);
    let server_cfg = server_config(config, &budget, static_dir.clone(), access_log.clone());
    let log_fd = access_log.as_ref().and_then(|log| log.pollable_fd());
    let reloader = Reloader::new(config, static_dir, access_log);
    let reactor = Reactor::new(poll, Clock::new(), signals, |cx| {
        if let Some(fd) = log_fd {
            let mut source = mio::unix::SourceFd(&fd);
            if let Err(e) = cx
                .registry
                .register(&mut source, ACCESS_LOG, Interest::WRITABLE)
            {
                tracing::debug!("access log not watched for writability: {e}");
            }
        }
        let mut server = Server::new(listener, server_cfg, cx.registry)?;
        if let Some(admin) = admin {
            server.add_admin(admin, cx.registry)?;
        }
        let mut sockets = Sockets::default();
        let mut sh = Shell {
            registry: cx.registry,
            timers: cx.timers,
            sockets: &mut sockets,
            now: cx.now,
            wall_ms: cx.wall_ms,
        };
        let engine = Engine::new(engine_cfg, &mut sh, &mut app, waker.clone());
        Ok(Leanpoint {
            app,
            sockets,
            server,
            engine,
            reloader,
            _waker: waker,
        })
    })?;
    Ok(reactor)
}

/// The public listener and the admin one (with `--admin-port`), bound and listening.
fn bind_listeners(
    config: &Config,
    inbound_pool: usize,
) -> Result<(TcpListener, Option<TcpListener>), RunError> {
    let addr = SocketAddr::new(config.bind, config.port);
    let backlog = bind::public_backlog(config.listen_backlog, inbound_pool);
    let listener = bind::listen(addr, backlog).map_err(|source| RunError::Bind { addr, source })?;
    let admin = config
        .admin_addr
        .map(|addr| {
            bind::listen(addr, ADMIN_BACKLOG).map_err(|source| RunError::Bind { addr, source })
        })
        .transpose()?;
    Ok((listener, admin))
}

fn engine_config(config: &Config, budget: &FdBudget) -> EngineConfig {
    EngineConfig {
        poll_ms: config.poll_ms,
        timeout_ms: config.timeout_ms,
        connect_timeout_ms: config.connect_timeout_ms,
        max_state_bytes: config.max_state_bytes,
        pool: budget.upstream_pool,
        split_retry_ms: config.split_retry_ms,
    }
}

fn server_config(
    config: &Config,
    budget: &FdBudget,
    static_dir: Option<Rc<StaticFiles>>,
    access_log: Option<Rc<AccessLog>>,
) -> ServerConfig {
    ServerConfig {
        limits: RequestLimits::default(),
        header_timeout_ms: config.header_timeout_ms,
        idle_timeout_ms: config.idle_timeout_ms,
        write_timeout_ms: config.write_timeout_ms,
        head_grace_ms: config.head_grace_ms,
        static_dir,
        pool: budget.inbound_pool,
        admin_pool: fd_budget::ADMIN_POOL,
        fd_limit: budget.limit,
        access_log,
    }
}

/// Builds and runs until SIGTERM/SIGINT.
pub fn run(config: Config) -> Result<(), RunError> {
    let mut reactor = build(&config)?;
    let local = reactor.handler.server.local_addr()?;
    match reactor.handler.server.admin_addr().transpose()? {
        Some(admin) => tracing::info!(
            %local,
            %admin,
            upstreams = config.upstreams.len(),
            "leanpoint listening"
        ),
        None => tracing::info!(%local, upstreams = config.upstreams.len(), "leanpoint listening"),
    }
    if let Some(file) = &config.upstreams_config {
        crate::config::log_misconfigured(&file.display().to_string(), &config.upstreams);
    }
    reactor.run()?;
    Ok(())
}
