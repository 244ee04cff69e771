//! The public listener in the loop: accepting under the inbound cap (shedding the oldest
//! idle keep-alive connection to admit a new one, pausing and resuming with hysteresis),
//! surviving EMFILE/ENFILE without spinning, and driving inbound connections with
//! their head, idle, write-stall and lingering-close deadlines.
//!
//! At the cap, a connection is shed only once `accept` has returned a new one, so a
//! spurious wake-up never closes anybody. With nobody idle, accepting pauses (new
//! connections wait in the kernel's backlog) until the count falls to 90% of the cap or
//! some connection turns idle (then it is shed for the first waiting newcomer).

use super::conn::{Deadline, Drive, DriveInput, InboundConn};
use super::router::{route, RouteContext};
use crate::fd_budget::try_open_fds;
use crate::http1::date::DateCache;
use crate::http1::request::RequestLimits;
use crate::reactor::core::{disarm, rearm, Core, TimerEvent};
use crate::reactor::sockets::{Socket, LISTENER};
use crate::timer::TimerHandle;
use mio::net::TcpListener;
use mio::{Interest, Registry, Token};
use std::collections::VecDeque;
use std::io;
use std::rc::Rc;

/// Delay before accepting again after EMFILE/ENFILE.
const ACCEPT_RETRY_MS: u64 = 100;
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
    /// `--static-dir` as loaded, shared with the SIGHUP hook that reloads it.
    pub static_dir: Option<Rc<crate::server::static_files::StaticFiles>>,
    /// Most inbound connections at once (from the fd budget).
    pub pool: usize,
    /// The nofile limit in force.
    pub fd_limit: usize,
}

/// The listener and the inbound side of the loop.
pub struct Server {
    listener: TcpListener,
    cfg: ServerConfig,
    paused: bool,
    retry_timer: Option<TimerHandle>,
    scratch: Vec<u8>,
    fds_read_at: Option<u64>,
    fds: usize,
    /// The nofile limit (reported as open fds when they cannot be counted).
    fd_limit: usize,
    /// Connections that yielded at their read budget, to be driven again.
    ready: VecDeque<Token>,
    /// While paused at the cap: when the longest reply becomes sheddable.
    shed_timer: Option<TimerHandle>,
    /// The `Date` header, formatted once per second.
    date: DateCache,
    /// Pairs each client's block and state requests across an advance.
    pairing: std::cell::RefCell<crate::server::pairing::Pairing>,
}

impl Server {
    /// Registers the bound listener.
    pub fn new(
        mut listener: TcpListener,
        cfg: ServerConfig,
        registry: &Registry,
    ) -> io::Result<Self> {
        registry.register(&mut listener, LISTENER, Interest::READABLE)?;
        let fd_limit = cfg.fd_limit;
        Ok(Server {
            listener,
            cfg,
            paused: false,
            retry_timer: None,
            scratch: vec![0; 64 * 1024],
            fds_read_at: None,
            ready: VecDeque::new(),
            shed_timer: None,
            date: DateCache::default(),
            pairing: Default::default(),
            fds: 0,
            fd_limit,
        })
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Open fds now, read from `/proc/self/fd` at most every 100 ms.
    pub fn open_fds(&mut self, now: u64) -> usize {
        match self.fds_read_at {
            Some(at) if now.saturating_sub(at) < OPEN_FDS_CACHE_MS => self.fds,
            _ => {
                // Listing /proc needs an fd: when none is left, report the whole limit so
                // that /healthz says fd_pressure instead of a reassuring zero.
                self.fds = try_open_fds().unwrap_or(self.fd_limit);
                self.fds_read_at = Some(now);
                self.fds
            }
        }
    }

    /// The listener is readable (or accepting should be retried).
    pub fn on_accept_ready(&mut self, core: &mut Core, registry: &Registry) {
        if self.paused {
            return;
        }
        loop {
            // At the cap, a victim must exist before accepting; it is closed only once
            // a newcomer is really there.
            let victim = if core.sockets.inbound_count() >= self.cfg.pool {
                let overdue = core.now.saturating_sub(self.cfg.write_timeout_ms);
                match oldest_idle(core).or_else(|| longest_writer(core, overdue)) {
                    Some(token) => Some(token),
                    None => {
                        tracing::debug!(
                            open = core.sockets.inbound_count(),
                            "inbound cap reached; pausing accept"
                        );
                        self.paused = true;
                        // Slow readers must not hold every slot for ever: once the
                        // longest reply has been writing for the write timeout, its
                        // connection may be shed for a newcomer. Try again then.
                        if let Some(since) = earliest_writer(core) {
                            let at = since
                                .saturating_add(self.cfg.write_timeout_ms)
                                .max(core.now + 1);
                            rearm(
                                &mut core.timers,
                                &mut self.shed_timer,
                                at,
                                TimerEvent::AcceptRetry,
                            );
                        }
                        return;
                    }
                }
            } else {
                None
            };
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if let Some(token) = victim {
                        core.app.counters.inbound_shed += 1;
                        self.close(core, token);
                    }
                    let _ = stream.set_nodelay(true);
                    let now = core.now;
                    let inserted = core.sockets.insert_with(|token| {
                        let mut conn = InboundConn::new(stream, now);
                        conn.peer = Some(peer.ip());
                        registry
                            .register(
                                conn.stream_mut(),
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )
                            .map(|_| Socket::Inbound(conn))
                    });
                    match inserted {
                        Ok(token) => {
                            core.app.counters.inbound_accepted += 1;
                            core.app.counters.inbound_open = core.sockets.inbound_count();
                            if let Some(conn) = core.sockets.inbound_mut(token) {
                                let deadline = now.saturating_add(self.cfg.header_timeout_ms);
                                rearm(
                                    &mut core.timers,
                                    &mut conn.timer,
                                    deadline,
                                    TimerEvent::Socket(token),
                                );
                                conn.deadline = Deadline::Head;
                            }
                        }
                        Err(e) => tracing::warn!("cannot register an accepted connection: {e}"),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionAborted | io::ErrorKind::PermissionDenied
                    ) || e.raw_os_error() == Some(nix::libc::EPROTO) =>
                {
                    // That one connection failed; the next may not.
                    tracing::debug!("accept: {e}");
                }
                Err(e) => {
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM: stop and retry later, never spin.
                    core.app.counters.accept_errors += 1;
                    tracing::warn!("accept failed: {e}; retrying in {ACCEPT_RETRY_MS} ms");
                    self.paused = true;
                    let at = core.now + ACCEPT_RETRY_MS;
                    rearm(
                        &mut core.timers,
                        &mut self.retry_timer,
                        at,
                        TimerEvent::AcceptRetry,
                    );
                    return;
                }
            }
        }
    }

    /// The EMFILE retry timer fired.
    pub fn on_accept_retry(&mut self, core: &mut Core, registry: &Registry) {
        self.retry_timer = None;
        disarm(&mut core.timers, &mut self.shed_timer);
        self.paused = false;
        self.on_accept_ready(core, registry);
    }

    /// A readiness event for an inbound connection.
    pub fn on_event(&mut self, core: &mut Core, registry: &Registry, token: Token) {
        let now = core.now;
        let open_fds = self.open_fds(now);
        let now_ms = core.wall_ms();
        let date = self.date.get(u64::try_from(now_ms / 1000).unwrap_or(0));
        let site = self.cfg.static_dir.as_ref().map(|s| s.site());
        let ctx = RouteContext {
            app: &core.app,
            now_ms,
            open_fds,
            static_dir: site.as_deref(),
            pairing: Some(&self.pairing),
        };
        let Some(Socket::Inbound(conn)) = core.sockets.get_mut(token) else {
            return;
        };
        let served_before = conn.served;
        let outcome = conn.drive(DriveInput {
            now,
            limits: &self.cfg.limits,
            handler: &mut |input| route(input, &ctx),
            date: Some(date),
            scratch: &mut self.scratch,
        });
        let served = conn.served - served_before;
        match outcome {
            Drive::Close => {
                core.app.counters.requests_served += served;
                self.close(core, token);
                self.maybe_resume(core, registry);
            }
            Drive::Keep(kind, since) => {
                let timeout = match kind {
                    Deadline::Head => self.cfg.header_timeout_ms,
                    Deadline::Idle if conn.served == 0 => self.cfg.header_timeout_ms,
                    Deadline::Idle => self.cfg.idle_timeout_ms,
                    Deadline::Write if conn.lingering() => LINGER_MS.min(self.cfg.write_timeout_ms),
                    Deadline::Write => self.cfg.write_timeout_ms,
                };
                // Paused at the cap with nobody idle, and this one just turned idle:
                // the first waiting newcomer may take its place.
                let became_idle = (kind == Deadline::Idle && conn.served > 0) || conn.lingering();
                let deadline = since.saturating_add(timeout);
                if conn.deadline != kind
                    || conn.timer.is_none()
                    || served > 0
                    || kind == Deadline::Write
                {
                    conn.deadline = kind;
                    rearm(
                        &mut core.timers,
                        &mut conn.timer,
                        deadline,
                        TimerEvent::Socket(token),
                    );
                }
                core.app.counters.requests_served += served;
                if conn.wants_more() {
                    self.ready.push_back(token);
                }
                if became_idle && self.paused && self.retry_timer.is_none() {
                    self.paused = false;
                    self.on_accept_ready(core, registry);
                }
            }
        }
    }

    /// Whether connections wait to be driven again (the loop must not sleep).
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Drives once each connection that yielded at its read budget.
    pub fn run_ready(&mut self, core: &mut Core, registry: &Registry) {
        for _ in 0..self.ready.len() {
            let Some(token) = self.ready.pop_front() else {
                break;
            };
            self.on_event(core, registry, token);
        }
    }

    /// A deadline of an inbound connection fired: close it.
    pub fn on_deadline(
        &mut self,
        core: &mut Core,
        registry: &Registry,
        token: Token,
        handle: TimerHandle,
    ) {
        if !core.sockets.claim_deadline(token, handle) {
            return;
        }
        let Some(conn) = core.sockets.inbound_mut(token) else {
            return;
        };
        if conn.lingering() {
            // The reply was delivered; the peer just never closed its side.
            tracing::trace!("lingering close ended at its deadline");
        } else {
            tracing::debug!(deadline = ?conn.deadline, "closing an inbound connection at its deadline");
            core.app.counters.inbound_timed_out += 1;
        }
        self.close(core, token);
        self.maybe_resume(core, registry);
    }

    fn close(&mut self, core: &mut Core, token: Token) {
        if let Some(Socket::Inbound(mut conn)) = core.sockets.remove(token) {
            disarm(&mut core.timers, &mut conn.timer);
        }
        core.app.counters.inbound_open = core.sockets.inbound_count();
    }

    /// Resumes accepting once the count falls to 90% of the cap.
    fn maybe_resume(&mut self, core: &mut Core, registry: &Registry) {
        if self.paused
            && self.retry_timer.is_none()
            && core.sockets.inbound_count() * 10 <= self.cfg.pool * 9
        {
            self.paused = false;
            self.on_accept_ready(core, registry);
        }
    }

    /// Closes every inbound connection (shutdown).
    pub fn close_all(&mut self, core: &mut Core) {
        let tokens: Vec<Token> = core.sockets.inbound_tokens().map(|(t, _)| t).collect();
        for token in tokens {
            self.close(core, token);
        }
    }
}

/// The connection that has been idle longest (having served a request, or lingering
/// after its last reply), if any.
/// The connection whose reply has been writing the longest, if it started by `overdue`.
fn longest_writer(core: &Core, overdue: u64) -> Option<Token> {
    core.sockets
        .inbound_tokens()
        .filter_map(|(t, c)| c.writing_since().map(|since| (t, since)))
        .filter(|&(_, since)| since <= overdue)
        .min_by_key(|&(_, since)| since)
        .map(|(t, _)| t)
}

/// When the longest-writing connection started its reply.
fn earliest_writer(core: &Core) -> Option<u64> {
    core.sockets
        .inbound_tokens()
        .filter_map(|(_, c)| c.writing_since())
        .min()
}

fn oldest_idle(core: &Core) -> Option<Token> {
    core.sockets
        .inbound_tokens()
        .filter(|(_, c)| c.lingering() || (c.is_idle() && c.served > 0))
        .min_by_key(|(_, c)| c.idle_since)
        .map(|(t, _)| t)
}
