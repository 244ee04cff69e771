//! The event loop: one `mio::Poll`, the socket slab, the timer wheel, the signalfd and
//! the resolver's waker. It sleeps exactly until the next deadline, dispatches readiness
//! events by token and fired timers by payload, and stops cleanly on SIGTERM/SIGINT.

pub mod core;
pub mod signals;
pub mod sockets;

use self::core::{Core, TimerEvent};
use self::signals::{SignalAction, Signals};
use self::sockets::{Socket, ADMIN_LISTENER, LISTENER, SIGNALS, WAKER};
use crate::server::listener::Server;
use crate::upstream::Engine;
use mio::{Events, Poll, Token, Waker};
use std::io;
use std::sync::Arc;
use std::time::Duration;

/// Called on SIGHUP with the loop's parts; returns nothing, logs what it did.
pub type ReloadHook = Box<dyn FnMut(&mut Core, &mut Engine, &mio::Registry)>;

/// The loop and everything it drives.
pub struct Reactor {
    poll: Poll,
    pub core: Core,
    pub engine: Engine,
    pub server: Server,
    signals: Signals,
    _waker: Arc<Waker>,
    reload: Option<ReloadHook>,
}

impl Reactor {
    pub fn new(
        poll: Poll,
        core: Core,
        engine: Engine,
        server: Server,
        signals: Signals,
        waker: Arc<Waker>,
        reload: Option<ReloadHook>,
    ) -> io::Result<Self> {
        signals.register(poll.registry(), SIGNALS)?;
        Ok(Reactor {
            poll,
            core,
            engine,
            server,
            signals,
            _waker: waker,
            reload,
        })
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            self.core.now = self.core.clock.now_ms();
            let timeout = self
                .core
                .timers
                .next_deadline()
                .map(|d| Duration::from_millis(d.saturating_sub(self.core.now)));
            let timeout = if self.server.has_ready() || self.engine.has_ready() {
                Some(Duration::ZERO)
            } else {
                timeout
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            self.core.now = self.core.clock.now_ms();
            for event in events.iter() {
                match event.token() {
                    LISTENER => self
                        .server
                        .on_accept_ready(&mut self.core, self.poll.registry()),
                    ADMIN_LISTENER => self
                        .server
                        .on_admin_ready(&mut self.core, self.poll.registry()),
                    SIGNALS => match self.signals.drain() {
                        Some(SignalAction::Stop) => {
                            tracing::info!("stopping on signal");
                            self.shutdown();
                            return Ok(());
                        }
                        Some(SignalAction::Reload) => self.on_reload(),
                        None => {}
                    },
                    WAKER => self
                        .engine
                        .on_resolved(&mut self.core, self.poll.registry()),
                    token => self.dispatch(token),
                }
            }
            self.server.run_ready(&mut self.core, self.poll.registry());
            self.server.flush_access_log(&self.core.app);
            self.engine.run_ready(&mut self.core, self.poll.registry());
            while let Some((handle, event)) = self.core.timers.poll(self.core.now) {
                let registry = self.poll.registry();
                match event {
                    TimerEvent::RoundTick => self.engine.on_tick(&mut self.core, registry),
                    TimerEvent::AcceptRetry => {
                        self.server
                            .on_accept_retry(&mut self.core, registry, handle)
                    }
                    TimerEvent::Socket(token) => match self.core.sockets.get_mut(token) {
                        Some(Socket::Inbound(_)) => {
                            self.server
                                .on_deadline(&mut self.core, registry, token, handle)
                        }
                        Some(Socket::Upstream(_)) => {
                            self.engine
                                .on_deadline(&mut self.core, registry, token, handle)
                        }
                        None => {}
                    },
                }
            }
        }
    }

    fn dispatch(&mut self, token: Token) {
        let registry = self.poll.registry();
        match self.core.sockets.get_mut(token) {
            Some(Socket::Inbound(_)) => self.server.on_event(&mut self.core, registry, token),
            Some(Socket::Upstream(_)) => self.engine.on_event(&mut self.core, registry, token),
            None => {} // stale: the socket was closed earlier in this batch
        }
    }

    fn on_reload(&mut self) {
        match self.reload.as_mut() {
            Some(hook) => hook(&mut self.core, &mut self.engine, self.poll.registry()),
            None => tracing::info!(
                "SIGHUP received; no upstreams file to reload (legacy --lean-url mode)"
            ),
        }
    }

    fn shutdown(&mut self) {
        self.server.close_all(&mut self.core);
        self.engine.close_all(&mut self.core);
    }
}
