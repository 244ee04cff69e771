//! One listener in the loop, the public one or the admin one: accepting under its cap,
//! displacing a connection at the cap to admit a newcomer (whom: `admission`), pausing
//! only while nobody can be displaced, and backing off after EMFILE/ENFILE without
//! spinning.
//!
//! At the cap a victim is chosen before accepting and closed only once `accept` has
//! returned a newcomer, so a spurious wake-up never closes anybody. With nobody to
//! displace, accepting pauses (newcomers wait in the kernel's listen backlog) until a
//! slot frees, a connection turns idle, or the next candidate's time comes (one timer).
//! Only the EMFILE/ENFILE back-off has hysteresis: it ends after 100 ms, or sooner once
//! the count has fallen to 90% of what it was when `accept` failed. Before backing off,
//! an EMFILE/ENFILE makes the connection admission would displace give its fd back
//! (once per wake-up): a newcomer is admitted even when no fd is spare.

use super::admission::{rank, Policy, Ranking};
use super::conn::{Deadline, InboundConn};
use crate::app::Counters;
use crate::shell::{Listener, Shell, Socket, Sockets, TimerEvent};
use crate::timer::{TimerHandle, TimerSlot};
use mio::net::TcpListener;
use mio::{Interest, Registry, Token};
use std::io;

/// Delay before accepting again after EMFILE/ENFILE.
pub const ACCEPT_RETRY_MS: u64 = 100;

/// Whether a listener is accepting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Accepting {
    Open,
    /// At the cap with nobody to displace.
    Full,
    /// After EMFILE/ENFILE: until the retry timer, or the count falls to `resume_at`.
    BackOff {
        resume_at: usize,
    },
}

/// A listener's two timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoorTimer {
    /// The EMFILE/ENFILE back-off ([`ACCEPT_RETRY_MS`]).
    Retry,
    /// At the cap: the next connection becomes a candidate for displacement.
    Shed,
}

/// What accepting needs from the server's settings.
#[derive(Debug, Clone, Copy)]
pub struct AcceptConfig {
    pub policy: Policy,
    pub header_timeout_ms: u64,
}

/// A listener, its cap and its pause state.
pub struct Door {
    listener: TcpListener,
    /// The admin listener (its connections are counted and routed apart).
    pub admin: bool,
    cap: usize,
    state: Accepting,
    retry_timer: TimerSlot,
    /// While full: when the next connection becomes a candidate.
    shed_timer: TimerSlot,
}

impl Door {
    /// Registers `listener` under `token`.
    pub fn new(
        mut listener: TcpListener,
        token: Token,
        admin: bool,
        cap: usize,
        registry: &Registry,
    ) -> io::Result<Door> {
        registry.register(&mut listener, token, Interest::READABLE)?;
        Ok(Door {
            listener,
            admin,
            cap,
            state: Accepting::Open,
            retry_timer: TimerSlot::default(),
            shed_timer: TimerSlot::default(),
        })
    }

    pub fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Which listener it is.
    pub fn which(&self) -> Listener {
        if self.admin {
            Listener::Admin
        } else {
            Listener::Public
        }
    }

    /// Its open connections.
    fn open(&self, sockets: &Sockets) -> usize {
        if self.admin {
            sockets.admin_count()
        } else {
            sockets.inbound_count()
        }
    }

    /// Accepts what is pending (the listener is readable, or accepting may resume).
    pub fn on_ready(&mut self, sh: &mut Shell<'_>, counters: &mut Counters, cfg: &AcceptConfig) {
        if self.state != Accepting::Open {
            return;
        }
        // Ranked when the cap is first met, and again once every victim of the ranking
        // has been taken (the newcomers admitted since are not in it): victims are taken
        // in order, so a ranking serves up to a whole pool of accepts.
        let mut ranking: Option<Ranking<Token>> = None;
        let mut taken = 0;
        let mut displaced_early = false;
        loop {
            let victim = if self.open(sh.sockets) >= self.cap {
                if ranking.as_ref().is_none_or(|r| taken >= r.victims.len()) {
                    ranking = Some(self.rank(sh, cfg));
                    taken = 0;
                }
                let Some(r) = ranking.as_ref() else { return };
                match r.victims.get(taken) {
                    Some(&token) => Some(token),
                    None => return self.pause_full(sh, r.next_at),
                }
            } else {
                None
            };
            match self.listener.accept() {
                Ok((stream, peer)) => {
                    if let Some(token) = victim {
                        taken += 1;
                        if !self.admin {
                            counters.inbound_shed += 1;
                        }
                        close_inbound(sh, token);
                    }
                    self.admit(sh, counters, cfg, stream, peer);
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
                    // EMFILE, ENFILE, ENOBUFS, ENOMEM.
                    counters.accept_errors += 1;
                    // Out of fds although the pool is within its budget: something
                    // outside it holds more than its share, or (at the cap) no fd is
                    // spare for the newcomer before the victim gives its own back. Whom
                    // admission would displace goes first, once per call; if that does
                    // not help, back off as below.
                    let first = match victim {
                        _ if displaced_early => None,
                        Some(token) => Some(token),
                        None => self.rank(sh, cfg).victims.first().copied(),
                    };
                    if let Some(token) = first {
                        displaced_early = true;
                        ranking = None;
                        tracing::warn!("accept failed: {e}; displacing a connection first");
                        if !self.admin {
                            counters.inbound_shed += 1;
                        }
                        close_inbound(sh, token);
                        continue;
                    }
                    // Stop and retry later, never spin.
                    tracing::warn!("accept failed: {e}; retrying in {ACCEPT_RETRY_MS} ms");
                    return self.back_off(sh);
                }
            }
        }
    }

    /// At the cap with nobody to displace: pause until a slot frees, a connection turns
    /// idle, or `next_at`, when the next one becomes a candidate.
    fn pause_full(&mut self, sh: &mut Shell<'_>, next_at: Option<u64>) {
        tracing::debug!(
            open = self.open(sh.sockets),
            admin = self.admin,
            "inbound cap reached, nobody to displace; pausing accept"
        );
        self.state = Accepting::Full;
        if let Some(at) = next_at {
            let at = at.max(sh.now + 1);
            let event = TimerEvent::ShedCheck(self.which());
            self.shed_timer.rearm(sh.timers, at, event);
        }
    }

    /// After EMFILE/ENFILE: pause for [`ACCEPT_RETRY_MS`], or until the count falls to
    /// 90% of what it is now.
    fn back_off(&mut self, sh: &mut Shell<'_>) {
        let open = self.open(sh.sockets);
        self.state = Accepting::BackOff {
            resume_at: open - open / 10,
        };
        self.shed_timer.disarm(sh.timers);
        let at = sh.now + ACCEPT_RETRY_MS;
        let event = TimerEvent::AcceptRetry(self.which());
        self.retry_timer.rearm(sh.timers, at, event);
    }

    /// Its connections ranked for displacement now.
    fn rank(&self, sh: &Shell<'_>, cfg: &AcceptConfig) -> Ranking<Token> {
        let admin = self.admin;
        let view = sh
            .sockets
            .inbound()
            .filter(|(_, c)| c.admin == admin)
            .map(|(t, c)| (t, c.activity()));
        rank(view, sh.now, &cfg.policy)
    }

    /// Puts an accepted connection in the slab with its head deadline armed.
    fn admit(
        &mut self,
        sh: &mut Shell<'_>,
        counters: &mut Counters,
        cfg: &AcceptConfig,
        stream: mio::net::TcpStream,
        peer: std::net::SocketAddr,
    ) {
        let _ = stream.set_nodelay(true);
        let now = sh.now;
        let admin = self.admin;
        let registry = sh.registry;
        let inserted = sh.sockets.insert_with(|token| {
            let mut conn = InboundConn::new(stream, now);
            conn.peer = Some(peer);
            conn.admin = admin;
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
                if !admin {
                    counters.inbound_accepted += 1;
                }
                if let Some(conn) = sh.sockets.inbound_mut(token) {
                    let deadline = now.saturating_add(cfg.header_timeout_ms);
                    conn.timer
                        .rearm(sh.timers, deadline, TimerEvent::Inbound(token));
                    conn.deadline = Deadline::Head;
                }
            }
            Err(e) => tracing::warn!("cannot register an accepted connection: {e}"),
        }
    }

    /// Its `timer` fired: true when it was the one armed last and the pause it ends is
    /// still on, so accepting may resume (call [`Door::on_ready`]).
    pub fn on_timer(&mut self, timer: DoorTimer, handle: TimerHandle) -> bool {
        let resumes = match timer {
            DoorTimer::Retry => {
                self.retry_timer.claim(handle) && matches!(self.state, Accepting::BackOff { .. })
            }
            DoorTimer::Shed => self.shed_timer.claim(handle) && self.state == Accepting::Full,
        };
        if resumes {
            self.state = Accepting::Open;
        }
        resumes
    }

    /// One of its connections closed: true when accepting may resume.
    pub fn on_slot_freed(&mut self, sh: &mut Shell<'_>) -> bool {
        match self.state {
            Accepting::Open => false,
            Accepting::Full => {
                self.shed_timer.disarm(sh.timers);
                self.state = Accepting::Open;
                true
            }
            Accepting::BackOff { resume_at } if self.open(sh.sockets) <= resume_at => {
                self.retry_timer.disarm(sh.timers);
                self.state = Accepting::Open;
                true
            }
            Accepting::BackOff { .. } => false,
        }
    }

    /// One of its connections turned idle (it can be displaced now): true when
    /// accepting may resume.
    pub fn on_turned_idle(&mut self, sh: &mut Shell<'_>) -> bool {
        if self.state == Accepting::Full {
            self.shed_timer.disarm(sh.timers);
            self.state = Accepting::Open;
            return true;
        }
        false
    }
}

/// Closes an inbound connection (dropping it closes the fd); returns whether it came
/// through the admin listener, or `None` for a stale token.
pub fn close_inbound(sh: &mut Shell<'_>, token: Token) -> Option<bool> {
    let Some(Socket::Inbound(mut conn)) = sh.sockets.remove(token) else {
        return None;
    };
    conn.timer.disarm(sh.timers);
    Some(conn.admin)
}
