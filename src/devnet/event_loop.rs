//! The simulator's loop: one `mio::Poll`, every node's listener and connection in one
//! slab (tokens carry a generation, so a stale event or timer is dropped), one timer
//! wheel (slot ticks, accept retries, connection deadlines, `slow` answers), and the
//! signalfd that stops it.

use super::bodies::BodyCache;
use super::conn::{http_timeout, NodeConn, RawStep, HEAD_TIMEOUT_MS};
use super::flags::DevnetConfig;
use super::node;
use super::profile::{Profile, Rng};
use super::setup::BoundNode;
use super::slots::Slots;
use crate::http1::request::RequestLimits;
use crate::reactor::signals::{SignalAction, Signals};
use crate::server::conn::{Drive, DriveInput};
use crate::timer::{Clock, TimerHandle, TimerWheel};
use mio::net::TcpListener;
use mio::{Events, Interest, Poll, Token};
use std::collections::VecDeque;
use std::io;
use std::time::Duration;

/// Token of the signalfd (outside the slab's range).
const SIGNALS: Token = Token(usize::MAX);
/// Delay before accepting again after EMFILE/ENFILE.
const ACCEPT_RETRY_MS: u64 = 100;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimerEvent {
    /// A new slot: log it and build the canonical view.
    Slot,
    /// Accept again on this listener.
    AcceptRetry(Token),
    /// The connection's deadline passed: close it.
    Deadline(Token),
    /// A `slow` node's answer is due.
    Delayed(Token),
}

enum Entry {
    Listener {
        node: usize,
        listener: TcpListener,
    },
    Conn {
        node: usize,
        conn: NodeConn,
        timer: Option<TimerHandle>,
    },
}

/// A node at run time.
struct Node {
    profile: Profile,
    rng: Rng,
}

/// The simulator's loop and everything it drives.
pub struct DevnetLoop {
    poll: Poll,
    signals: Signals,
    slots: Slots<Entry>,
    /// HTTP connections that yielded at their read budget, to drive again.
    ready: VecDeque<Token>,
    timers: TimerWheel<TimerEvent>,
    clock: Clock,
    now: u64,
    nodes: Vec<Node>,
    cache: BodyCache,
    cfg: DevnetConfig,
    limits: RequestLimits,
    scratch: Vec<u8>,
}

impl DevnetLoop {
    /// Registers the signalfd and every listener; `clock` is the chain's time origin.
    pub fn new(
        cfg: DevnetConfig,
        bound: Vec<BoundNode>,
        signals: Signals,
        cache: BodyCache,
        clock: Clock,
    ) -> io::Result<DevnetLoop> {
        let poll = Poll::new()?;
        signals.register(poll.registry(), SIGNALS)?;
        let now = clock.now_ms();
        let mut lp = DevnetLoop {
            poll,
            signals,
            slots: Slots::with_capacity(bound.len() * 2),
            ready: VecDeque::new(),
            timers: TimerWheel::new(now),
            clock,
            now,
            nodes: Vec::with_capacity(bound.len()),
            cache,
            limits: RequestLimits::default(),
            scratch: vec![0; 64 * 1024],
            cfg,
        };
        for (i, b) in bound.into_iter().enumerate() {
            lp.nodes.push(Node {
                profile: b.profile,
                rng: Rng::new(lp.cfg.seed ^ (i as u64).wrapping_mul(0x9e37_79b9)),
            });
            if let Some(listener) = b.listener {
                let token = lp.slots.insert(Entry::Listener { node: i, listener });
                if let Some(Entry::Listener { listener, .. }) = lp.slots.get_mut(token) {
                    lp.poll
                        .registry()
                        .register(listener, token, Interest::READABLE)?;
                }
            }
        }
        let next = lp.cache.params().next_slot_at(lp.head());
        lp.timers.insert(next, TimerEvent::Slot);
        Ok(lp)
    }

    /// The canonical head now.
    fn head(&self) -> u64 {
        self.cache.params().head_at(self.now)
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            self.now = self.clock.now_ms();
            let timeout = match self.ready.is_empty() {
                false => Some(Duration::ZERO),
                true => self
                    .timers
                    .next_deadline()
                    .map(|d| Duration::from_millis(d.saturating_sub(self.now))),
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            self.now = self.clock.now_ms();
            for event in events.iter() {
                if event.token() == SIGNALS {
                    if self.signals.drain() == Some(SignalAction::Stop) {
                        tracing::info!("stopping on signal");
                        return Ok(());
                    }
                    continue;
                }
                self.on_event(event.token());
            }
            self.run_ready();
            while let Some((_, event)) = self.timers.poll(self.now) {
                self.on_timer(event);
            }
        }
    }

    fn on_event(&mut self, token: Token) {
        match self.slots.get_mut(token) {
            Some(Entry::Listener { .. }) => self.accept(token),
            Some(Entry::Conn { conn, .. }) => match conn {
                NodeConn::Http { delayed: true, .. } => {} // its timer drives it
                NodeConn::Http { .. } => self.on_http(token, false),
                _ => {
                    if conn.on_raw_event(&mut self.scratch) == RawStep::Close {
                        self.close(token);
                    }
                }
            },
            None => {} // stale: closed earlier in this batch
        }
    }

    fn on_timer(&mut self, event: TimerEvent) {
        match event {
            TimerEvent::Slot => {
                let head = self.head();
                let view = self.cache.get(super::chain::CANONICAL, head).view;
                tracing::info!(
                    head = head,
                    justified = view.justified.slot,
                    finalized = view.finalized.slot,
                    "slot"
                );
                let next = self.cache.params().next_slot_at(head);
                self.timers.insert(next, TimerEvent::Slot);
            }
            TimerEvent::AcceptRetry(token) => self.accept(token),
            TimerEvent::Deadline(token) => {
                if let Some(Entry::Conn { timer, .. }) = self.slots.get_mut(token) {
                    *timer = None;
                    self.close(token);
                }
            }
            TimerEvent::Delayed(token) => {
                if let Some(Entry::Conn { timer, conn, .. }) = self.slots.get_mut(token) {
                    *timer = None;
                    if let NodeConn::Http { delayed, .. } = conn {
                        *delayed = false;
                    }
                    self.on_http(token, true);
                }
            }
        }
    }

    fn accept(&mut self, token: Token) {
        loop {
            let Some(Entry::Listener { node, listener }) = self.slots.get_mut(token) else {
                return;
            };
            let node = *node;
            match listener.accept() {
                Ok((stream, _)) => self.admit(node, stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_fd_exhaustion(&e) => {
                    tracing::warn!(error = %e, "out of file descriptors; accepting again shortly");
                    self.timers
                        .insert(self.now + ACCEPT_RETRY_MS, TimerEvent::AcceptRetry(token));
                    return;
                }
                Err(_) => {} // aborted before accept: try the next one
            }
        }
    }

    /// Registers an accepted connection of `node`.
    fn admit(&mut self, node: usize, stream: mio::net::TcpStream) {
        let Some(n) = self.nodes.get_mut(node) else {
            return;
        };
        let conn = NodeConn::accept(
            n.profile,
            stream,
            self.now,
            &mut n.rng,
            self.cfg.flaky_percent,
        );
        let (interest, deadline) = match conn {
            NodeConn::Http { .. } => (Interest::READABLE | Interest::WRITABLE, true),
            // Held until the client closes.
            NodeConn::Silent(_) => (Interest::READABLE, false),
            _ => (Interest::READABLE, true),
        };
        let token = self.slots.insert(Entry::Conn {
            node,
            conn,
            timer: None,
        });
        let registered = match self.slots.get_mut(token) {
            Some(Entry::Conn { conn, .. }) => {
                self.poll
                    .registry()
                    .register(conn.stream_mut(), token, interest)
            }
            _ => Ok(()),
        };
        if let Err(e) = registered {
            tracing::warn!(error = %e, "cannot register a connection");
            let _ = self.slots.remove(token);
        } else if deadline {
            self.arm(
                token,
                self.now + HEAD_TIMEOUT_MS,
                TimerEvent::Deadline(token),
            );
        }
    }

    /// Drives an HTTP connection. A `slow` node's idle connection first waits its delay
    /// (unless `due`, when that delay just passed).
    fn on_http(&mut self, token: Token, due: bool) {
        let Some(Entry::Conn { node, .. }) = self.slots.get_mut(token) else {
            return;
        };
        let Some(profile) = self.nodes.get(*node).map(|n| n.profile) else {
            return;
        };
        let head = profile.head(
            self.cache.params(),
            self.now,
            self.cfg.lag_slots,
            self.cfg.late_ms,
        );
        let bodies = self.cache.get(profile.fork(), head);
        let now = self.now;
        let Some(Entry::Conn { conn, .. }) = self.slots.get_mut(token) else {
            return;
        };
        let NodeConn::Http { conn, delayed } = conn else {
            return;
        };
        if profile == Profile::Slow && !due && conn.is_idle() && !conn.lingering() {
            *delayed = true;
            let at = now + self.cfg.slow_ms;
            self.arm(token, at, TimerEvent::Delayed(token));
            return;
        }
        let drive = conn.drive(DriveInput {
            now,
            limits: &self.limits,
            handler: &mut |input| node::answer(&bodies, profile, input),
            date: None,
            scratch: &mut self.scratch,
            observe: None,
        });
        match drive {
            Drive::Close => self.close(token),
            Drive::Keep(kind, since) => {
                let at = since + http_timeout(conn, kind);
                if conn.wants_more() {
                    self.ready.push_back(token);
                }
                self.arm(token, at, TimerEvent::Deadline(token));
            }
        }
    }

    /// Drives once each connection that yielded at its read budget.
    fn run_ready(&mut self) {
        for _ in 0..self.ready.len() {
            let Some(token) = self.ready.pop_front() else {
                break;
            };
            if let Some(Entry::Conn {
                conn: NodeConn::Http { delayed: false, .. },
                ..
            }) = self.slots.get_mut(token)
            {
                self.on_http(token, false);
            }
        }
    }

    /// Re-arms the connection's one timer.
    fn arm(&mut self, token: Token, at: u64, event: TimerEvent) {
        if let Some(Entry::Conn { timer, .. }) = self.slots.get_mut(token) {
            if let Some(old) = timer.take() {
                self.timers.cancel(old);
            }
            *timer = Some(self.timers.insert(at, event));
        }
    }

    fn close(&mut self, token: Token) {
        let Some(mut entry) = self.slots.remove(token) else {
            return;
        };
        if let Entry::Conn { conn, timer, .. } = &mut entry {
            if let Some(t) = timer.take() {
                self.timers.cancel(t);
            }
            let _ = self.poll.registry().deregister(conn.stream_mut());
        }
    }
}

fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == nix::libc::EMFILE || code == nix::libc::ENFILE
            || code == nix::libc::ENOBUFS || code == nix::libc::ENOMEM
    )
}
