//! The simulator as a handler of the same loop leanpoint runs on (`reactor`): every
//! node's listener and connection in the one generation-checked slab (`reactor::Slots`),
//! timers for slot ticks, accept retries, connection deadlines and `slow` answers.

use super::bodies::BodyCache;
use super::conn::{http_timeout, NodeConn, RawStep, HEAD_TIMEOUT_MS};
use super::flags::DevnetConfig;
use super::node;
use super::profile::{Profile, Rng};
use super::setup::BoundNode;
use crate::http1::request::RequestLimits;
use crate::reactor::{Cx, Handler, Slots};
use crate::server::conn::{Drive, DriveInput};
use crate::timer::{TimerHandle, TimerSlot};
use mio::net::TcpListener;
use mio::{Interest, Token};
use std::collections::VecDeque;
use std::io;

/// Delay before accepting again after EMFILE/ENFILE.
const ACCEPT_RETRY_MS: u64 = 100;

/// What a timer does when it fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerEvent {
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
        retry: TimerSlot,
    },
    Conn {
        node: usize,
        conn: NodeConn,
        timer: TimerSlot,
    },
}

/// A node at run time.
struct Node {
    profile: Profile,
    rng: Rng,
}

/// The simulator: its nodes, their sockets and the chain's bodies.
pub struct Devnet {
    slots: Slots<Entry>,
    /// HTTP connections that yielded at their read budget, to drive again.
    ready: VecDeque<Token>,
    nodes: Vec<Node>,
    cache: BodyCache,
    cfg: DevnetConfig,
    limits: RequestLimits,
    scratch: Vec<u8>,
}

type DevCx<'a, 'b> = &'a mut Cx<'b, TimerEvent>;

impl Devnet {
    /// Registers every listener and arms the first slot tick.
    pub fn new(
        cx: DevCx<'_, '_>,
        cfg: DevnetConfig,
        bound: Vec<BoundNode>,
        cache: BodyCache,
    ) -> io::Result<Devnet> {
        let mut dn = Devnet {
            slots: Slots::with_capacity(bound.len() * 2),
            ready: VecDeque::new(),
            nodes: Vec::with_capacity(bound.len()),
            cache,
            limits: RequestLimits::default(),
            scratch: vec![0; 64 * 1024],
            cfg,
        };
        for (i, b) in bound.into_iter().enumerate() {
            dn.nodes.push(Node {
                profile: b.profile,
                rng: Rng::new(dn.cfg.seed ^ (i as u64).wrapping_mul(0x9e37_79b9)),
            });
            if let Some(mut listener) = b.listener {
                let registry = cx.registry;
                dn.slots.insert_with(|token| {
                    registry.register(&mut listener, token, Interest::READABLE)?;
                    Ok::<_, io::Error>(Entry::Listener {
                        node: i,
                        listener,
                        retry: TimerSlot::default(),
                    })
                })?;
            }
        }
        let next = dn.cache.params().next_slot_at(dn.head(cx.now));
        cx.timers.insert(next, TimerEvent::Slot);
        Ok(dn)
    }

    /// The canonical head at monotonic `now`.
    fn head(&self, now: u64) -> u64 {
        self.cache.params().head_at(now)
    }
}

impl Handler for Devnet {
    type Timer = TimerEvent;

    fn on_event(&mut self, cx: DevCx<'_, '_>, token: Token) {
        match self.slots.get_mut(token) {
            Some(Entry::Listener { .. }) => self.accept(cx, token),
            Some(Entry::Conn { conn, .. }) => match conn {
                NodeConn::Http { delayed: true, .. } => {} // its timer drives it
                NodeConn::Http { .. } => self.on_http(cx, token, false),
                _ => {
                    if conn.on_raw_event(&mut self.scratch) == RawStep::Close {
                        self.close(cx, token);
                    }
                }
            },
            None => {} // stale: closed earlier in this batch
        }
    }

    fn on_timer(&mut self, cx: DevCx<'_, '_>, handle: TimerHandle, event: TimerEvent) {
        match event {
            TimerEvent::Slot => {
                let head = self.head(cx.now);
                let view = self.cache.get(super::chain::CANONICAL, head).view;
                tracing::info!(
                    head = head,
                    justified = view.justified.slot,
                    finalized = view.finalized.slot,
                    "slot"
                );
                let next = self.cache.params().next_slot_at(head);
                cx.timers.insert(next, TimerEvent::Slot);
            }
            TimerEvent::AcceptRetry(token) => {
                if let Some(Entry::Listener { retry, .. }) = self.slots.get_mut(token) {
                    if retry.claim(handle) {
                        self.accept(cx, token);
                    }
                }
            }
            TimerEvent::Deadline(token) => {
                if let Some(Entry::Conn { timer, .. }) = self.slots.get_mut(token) {
                    if timer.claim(handle) {
                        self.close(cx, token);
                    }
                }
            }
            TimerEvent::Delayed(token) => {
                if let Some(Entry::Conn { timer, conn, .. }) = self.slots.get_mut(token) {
                    if !timer.claim(handle) {
                        return;
                    }
                    if let NodeConn::Http { delayed, .. } = conn {
                        *delayed = false;
                    }
                    self.on_http(cx, token, true);
                }
            }
        }
    }

    fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// Drives once each connection that yielded at its read budget.
    fn run_ready(&mut self, cx: DevCx<'_, '_>) {
        for _ in 0..self.ready.len() {
            let Some(token) = self.ready.pop_front() else {
                break;
            };
            if let Some(Entry::Conn {
                conn: NodeConn::Http { delayed: false, .. },
                ..
            }) = self.slots.get_mut(token)
            {
                self.on_http(cx, token, false);
            }
        }
    }
}

impl Devnet {
    fn accept(&mut self, cx: DevCx<'_, '_>, token: Token) {
        loop {
            let Some(Entry::Listener { node, listener, .. }) = self.slots.get_mut(token) else {
                return;
            };
            let node = *node;
            match listener.accept() {
                Ok((stream, _)) => self.admit(cx, node, stream),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if is_fd_exhaustion(&e) => {
                    tracing::warn!(error = %e, "out of file descriptors; accepting again shortly");
                    if let Some(Entry::Listener { retry, .. }) = self.slots.get_mut(token) {
                        let at = cx.now + ACCEPT_RETRY_MS;
                        retry.rearm(cx.timers, at, TimerEvent::AcceptRetry(token));
                    }
                    return;
                }
                Err(_) => {} // aborted before accept: try the next one
            }
        }
    }

    /// Registers an accepted connection of `node`.
    fn admit(&mut self, cx: DevCx<'_, '_>, node: usize, stream: mio::net::TcpStream) {
        let Some(n) = self.nodes.get_mut(node) else {
            return;
        };
        let conn = NodeConn::accept(
            n.profile,
            stream,
            cx.now,
            &mut n.rng,
            self.cfg.flaky_percent,
        );
        let (interest, deadline) = match conn {
            NodeConn::Http { .. } => (Interest::READABLE | Interest::WRITABLE, true),
            // Held until the client closes.
            NodeConn::Silent(_) => (Interest::READABLE, false),
            _ => (Interest::READABLE, true),
        };
        let registry = cx.registry;
        let inserted = self.slots.insert_with(|token| {
            let mut conn = conn;
            registry.register(conn.stream_mut(), token, interest)?;
            Ok::<_, io::Error>(Entry::Conn {
                node,
                conn,
                timer: TimerSlot::default(),
            })
        });
        match inserted {
            Err(e) => tracing::warn!(error = %e, "cannot register a connection"),
            Ok(token) if deadline => {
                let at = cx.now + HEAD_TIMEOUT_MS;
                self.arm(cx, token, at, TimerEvent::Deadline(token));
            }
            Ok(_) => {}
        }
    }

    /// Drives an HTTP connection. A `slow` node's idle connection first waits its delay
    /// (unless `due`, when that delay just passed).
    fn on_http(&mut self, cx: DevCx<'_, '_>, token: Token, due: bool) {
        let Some(Entry::Conn { node, .. }) = self.slots.get_mut(token) else {
            return;
        };
        let Some(profile) = self.nodes.get(*node).map(|n| n.profile) else {
            return;
        };
        let head = profile.head(
            self.cache.params(),
            cx.now,
            self.cfg.lag_slots,
            self.cfg.late_ms,
        );
        let bodies = self.cache.get(profile.fork(), head);
        let now = cx.now;
        let Some(Entry::Conn { conn, .. }) = self.slots.get_mut(token) else {
            return;
        };
        let NodeConn::Http { conn, delayed } = conn else {
            return;
        };
        if profile == Profile::Slow && !due && conn.is_idle() && !conn.lingering() {
            *delayed = true;
            let at = now + self.cfg.slow_ms;
            self.arm(cx, token, at, TimerEvent::Delayed(token));
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
            Drive::Close => self.close(cx, token),
            Drive::Keep(kind, since) => {
                let at = since + http_timeout(kind);
                if conn.wants_more() {
                    self.ready.push_back(token);
                }
                self.arm(cx, token, at, TimerEvent::Deadline(token));
            }
        }
    }

    /// Re-arms the connection's one timer.
    fn arm(&mut self, cx: DevCx<'_, '_>, token: Token, at: u64, event: TimerEvent) {
        if let Some(Entry::Conn { timer, .. }) = self.slots.get_mut(token) {
            timer.rearm(cx.timers, at, event);
        }
    }

    fn close(&mut self, cx: DevCx<'_, '_>, token: Token) {
        let Some(mut entry) = self.slots.remove(token) else {
            return;
        };
        if let Entry::Conn { conn, timer, .. } = &mut entry {
            timer.disarm(cx.timers);
            let _ = cx.registry.deregister(conn.stream_mut());
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
