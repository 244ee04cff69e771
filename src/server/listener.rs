//! The inbound side of the loop: the public listener and the optional admin listener
//! (each a `Door`, see `accept`), and the inbound connections they admit, driven on
//! readiness events with their head, idle, write-stall and lingering-close deadlines.
//! Connections of the admin listener are answered by the admin routes only.

use super::accept::{close_inbound, AcceptConfig, Door, DoorTimer};
use super::admin::route_admin;
use super::admission::Policy;
use super::conn::{Deadline, Drive, DriveInput};
use super::router::{route, RouteContext};
use crate::app::AppState;
use crate::fd_budget::try_open_fds;
use crate::http1::date::DateCache;
use crate::http1::request::RequestLimits;
use crate::metrics::LoopGauges;
use crate::shell::{Listener, Shell, Socket, TimerEvent, ADMIN_LISTENER, LISTENER};
use crate::timer::TimerHandle;
use mio::net::TcpListener;
use mio::{Registry, Token};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

/// How long a reading of `/proc/self/fd` is reused.
const OPEN_FDS_CACHE_MS: u64 = 100;
/// Longest lingering close (also bounded by the write-stall deadline).
pub const LINGER_MS: u64 = 2000;

/// The server's settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub limits: RequestLimits,
    pub header_timeout_ms: u64,
    pub idle_timeout_ms: u64,
    pub write_timeout_ms: u64,
    /// At the cap, a connection waiting for its head is displaced only after this.
    pub head_grace_ms: u64,
    /// `--static-dir` as loaded, shared with the SIGHUP hook that reloads it.
    pub static_dir: Option<Rc<crate::server::static_files::StaticFiles>>,
    /// Most inbound connections at once (from the fd budget).
    pub pool: usize,
    /// Most admin connections at once (when the admin listener is added).
    pub admin_pool: usize,
    /// The nofile limit in force.
    pub fd_limit: usize,
    /// `--access-log`, shared with the SIGHUP hook that reopens it.
    pub access_log: Option<Rc<crate::server::access_log::AccessLog>>,
}

impl ServerConfig {
    fn accept(&self) -> AcceptConfig {
        AcceptConfig {
            policy: Policy {
                head_grace_ms: self.head_grace_ms,
                write_timeout_ms: self.write_timeout_ms,
            },
            header_timeout_ms: self.header_timeout_ms,
        }
    }
}

/// The listeners and the inbound side of the loop.
pub struct Server {
    public: Door,
    admin: Option<Door>,
    cfg: ServerConfig,
    scratch: Vec<u8>,
    fds_read_at: Option<u64>,
    /// The last reading: open fds and the public inbound connections at that moment.
    fds: (usize, usize),
    /// The nofile limit (reported as open fds when they cannot be counted).
    fd_limit: usize,
    /// Connections that yielded at their read budget, to be driven again.
    ready: VecDeque<Token>,
    /// The `Date` header, formatted once per second.
    date: DateCache,
    /// Pairs each client's block and state requests across an advance.
    pairing: std::cell::RefCell<crate::server::pairing::Pairing>,
    /// The `/api/timeline` body shared until the timeline changes.
    timeline_cache: std::cell::RefCell<crate::server::render::timeline::TimelineCache>,
}

impl Server {
    /// Registers the bound public listener.
    pub fn new(listener: TcpListener, cfg: ServerConfig, registry: &Registry) -> io::Result<Self> {
        let public = Door::new(listener, LISTENER, false, cfg.pool, registry)?;
        let fd_limit = cfg.fd_limit;
        Ok(Server {
            public,
            admin: None,
            cfg,
            scratch: vec![0; 64 * 1024],
            fds_read_at: None,
            ready: VecDeque::new(),
            date: DateCache::default(),
            pairing: Default::default(),
            timeline_cache: Default::default(),
            fds: (0, 0),
            fd_limit,
        })
    }

    /// Registers the bound admin listener (`/healthz`, `/metrics`, `/status` only), with
    /// at most `cfg.admin_pool` connections of its own.
    pub fn add_admin(&mut self, listener: TcpListener, registry: &Registry) -> io::Result<()> {
        let door = Door::new(
            listener,
            ADMIN_LISTENER,
            true,
            self.cfg.admin_pool,
            registry,
        )?;
        self.admin = Some(door);
        Ok(())
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.public.local_addr()
    }

    /// The admin listener's address, when there is one.
    pub fn admin_addr(&self) -> Option<io::Result<std::net::SocketAddr>> {
        self.admin.as_ref().map(Door::local_addr)
    }

    /// Open fds, read from `/proc/self/fd` at most every 100 ms, with the public inbound
    /// connections open at that reading (`inbound_now` when it is taken now).
    pub fn open_fds(&mut self, now: u64, inbound_now: usize) -> (usize, usize) {
        match self.fds_read_at {
            Some(at) if now.saturating_sub(at) < OPEN_FDS_CACHE_MS => self.fds,
            _ => {
                // Listing /proc needs an fd: when none is left, report the whole limit so
                // that /healthz says fd_pressure instead of a reassuring zero.
                let open = try_open_fds().unwrap_or(self.fd_limit);
                self.fds = (open, inbound_now);
                self.fds_read_at = Some(now);
                self.fds
            }
        }
    }

    fn door(&mut self, admin: bool) -> Option<&mut Door> {
        if admin {
            self.admin.as_mut()
        } else {
            Some(&mut self.public)
        }
    }

    /// A listener is readable.
    pub fn on_accept_ready(&mut self, sh: &mut Shell<'_>, app: &mut AppState, which: Listener) {
        let cfg = self.cfg.accept();
        if let Some(door) = self.door(which == Listener::Admin) {
            door.on_ready(sh, &mut app.counters, &cfg);
        }
    }

    /// One of a listener's timers fired (`timer` says which: the EMFILE/ENFILE back-off
    /// ended, or at its cap the next connection became a candidate for displacement);
    /// accepting resumes if it was the one armed last.
    pub fn on_door_timer(
        &mut self,
        sh: &mut Shell<'_>,
        app: &mut AppState,
        which: Listener,
        timer: DoorTimer,
        handle: TimerHandle,
    ) {
        let cfg = self.cfg.accept();
        if let Some(door) = self.door(which == Listener::Admin) {
            if door.on_timer(timer, handle) {
                door.on_ready(sh, &mut app.counters, &cfg);
            }
        }
    }

    /// A readiness event for an inbound connection.
    pub fn on_event(&mut self, sh: &mut Shell<'_>, app: &mut AppState, token: Token) {
        let now = sh.now;
        let counts = sh.sockets.counts();
        let (open_fds, inbound_at_fd_read) = self.open_fds(now, counts.inbound);
        let gauges = LoopGauges {
            open_fds,
            inbound_open: counts.inbound,
            upstream_sockets_open: counts.upstream,
            inbound_at_fd_read,
        };
        let now_ms = sh.wall_ms;
        let date = self.date.get(u64::try_from(now_ms / 1000).unwrap_or(0));
        let site = self.cfg.static_dir.as_ref().map(|s| s.site());
        let ctx = RouteContext {
            app,
            now_ms,
            gauges,
            static_dir: site.as_deref(),
            pairing: Some(&self.pairing),
            timeline_cache: Some(&self.timeline_cache),
        };
        let observer = crate::server::observe::Observer {
            stats: &app.http,
            log: self.cfg.access_log.as_deref(),
            static_dir: site.is_some(),
            now_ms,
        };
        let Some(Socket::Inbound(conn)) = sh.sockets.get_mut(token) else {
            return;
        };
        let admin = conn.admin;
        let served_before = conn.served;
        let outcome = conn.drive(DriveInput {
            now,
            limits: &self.cfg.limits,
            handler: &mut |input| {
                if admin {
                    route_admin(input, &ctx)
                } else {
                    route(input, &ctx)
                }
            },
            date: Some(date),
            scratch: &mut self.scratch,
            observe: Some(&mut |e| observer.observe(e)),
        });
        let served = conn.served - served_before;
        match outcome {
            Drive::Close => {
                app.counters.requests_served += served;
                self.close(sh, app, token);
            }
            Drive::Keep(kind, since) => {
                let timeout = match kind {
                    Deadline::Head => self.cfg.header_timeout_ms,
                    Deadline::Idle => self.cfg.idle_timeout_ms,
                    Deadline::Write => self.cfg.write_timeout_ms,
                    Deadline::Linger => LINGER_MS.min(self.cfg.write_timeout_ms),
                };
                // Paused at the cap, and this one just turned idle: the first waiting
                // newcomer may take its place.
                let became_idle = matches!(kind, Deadline::Idle | Deadline::Linger);
                let deadline = since.saturating_add(timeout);
                if conn.deadline != kind
                    || !conn.timer.is_armed()
                    || served > 0
                    || kind == Deadline::Write
                {
                    conn.deadline = kind;
                    conn.timer
                        .rearm(sh.timers, deadline, TimerEvent::Inbound(token));
                }
                app.counters.requests_served += served;
                if conn.wants_more() {
                    self.ready.push_back(token);
                }
                if became_idle {
                    let cfg = self.cfg.accept();
                    if let Some(door) = self.door(admin) {
                        if door.on_turned_idle(sh) {
                            door.on_ready(sh, &mut app.counters, &cfg);
                        }
                    }
                }
            }
        }
    }

    /// Writes the access-log lines buffered (once per loop iteration).
    pub fn flush_access_log(&self, app: &crate::app::AppState) {
        crate::server::observe::flush_access_log(self.cfg.access_log.as_deref(), app);
    }

    /// Whether connections wait to be driven again (the loop must not sleep).
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Drives once each connection that yielded at its read budget.
    pub fn run_ready(&mut self, sh: &mut Shell<'_>, app: &mut AppState) {
        for _ in 0..self.ready.len() {
            let Some(token) = self.ready.pop_front() else {
                break;
            };
            self.on_event(sh, app, token);
        }
    }

    /// A deadline of an inbound connection fired: close it.
    pub fn on_deadline(
        &mut self,
        sh: &mut Shell<'_>,
        app: &mut AppState,
        token: Token,
        handle: TimerHandle,
    ) {
        if !sh.sockets.claim_deadline(token, handle) {
            return;
        }
        let Some(conn) = sh.sockets.inbound_mut(token) else {
            return;
        };
        if conn.lingering() {
            // The reply was delivered; the peer just never closed its side.
            tracing::trace!("lingering close ended at its deadline");
        } else {
            tracing::debug!(deadline = ?conn.deadline, "closing an inbound connection at its deadline");
            if !conn.admin {
                app.counters.inbound_timed_out += 1;
            }
        }
        self.close(sh, app, token);
    }

    /// Closes a connection; its listener resumes accepting if it was full.
    fn close(&mut self, sh: &mut Shell<'_>, app: &mut AppState, token: Token) {
        let Some(admin) = close_inbound(sh, token) else {
            return;
        };
        let cfg = self.cfg.accept();
        if let Some(door) = self.door(admin) {
            if door.on_slot_freed(sh) {
                door.on_ready(sh, &mut app.counters, &cfg);
            }
        }
    }

    /// Closes every inbound connection (shutdown).
    pub fn close_all(&mut self, sh: &mut Shell<'_>) {
        let tokens: Vec<Token> = sh.sockets.inbound().map(|(t, _)| t).collect();
        for token in tokens {
            close_inbound(sh, token);
        }
    }
}
