//! The event loop, knowing no application: one `mio::Poll`, one timer wheel, the clock
//! and the signalfd. It sleeps exactly until the next deadline (not at all while the
//! handler has work waiting), hands every readiness event and every fired timer to its
//! [`Handler`], and stops on SIGTERM/SIGINT. leanpoint (`runtime::Leanpoint`) and the
//! devnet simulator (`devnet::Devnet`) are two handlers of this one loop; both keep
//! their sockets in one generation-checked [`Slots`] slab.

pub mod signals;
pub mod slots;

pub use signals::{SignalAction, Signals};
pub use slots::Slots;

use crate::timer::{Clock, TimerHandle, TimerWheel};
use mio::{Events, Poll, Registry, Token};
use std::io;
use std::time::Duration;

/// The signalfd's token (outside every slab's range).
pub const SIGNALS: Token = Token(usize::MAX);

/// What a handler is given with every callback: where to register sockets, the timer
/// wheel, and the time of this wake-up (monotonic ms for deadlines, wall ms for what is
/// shown). Deadlines and timestamps below the handler come from here; the other clock
/// reads only time work for display (a request's routing, a static folder's load).
pub struct Cx<'a, T> {
    pub registry: &'a Registry,
    pub timers: &'a mut TimerWheel<T>,
    /// Monotonic ms at this wake-up.
    pub now: u64,
    /// Wall-clock ms since the Unix epoch at this wake-up.
    pub wall_ms: i64,
}

/// An application driven by the loop.
pub trait Handler {
    /// What a timer carries: the handler tells its timers apart by it.
    type Timer;

    /// A readiness event for `token` (possibly spurious, possibly stale).
    fn on_event(&mut self, cx: &mut Cx<'_, Self::Timer>, token: Token);

    /// The timer armed as `handle` with `timer` fired.
    fn on_timer(&mut self, cx: &mut Cx<'_, Self::Timer>, handle: TimerHandle, timer: Self::Timer);

    /// Whether work waits that must not wait for the next event (the loop then does
    /// not sleep); [`Handler::run_ready`] does it.
    fn has_ready(&self) -> bool {
        false
    }

    /// Does the work [`Handler::has_ready`] reported, once per loop iteration.
    fn run_ready(&mut self, _cx: &mut Cx<'_, Self::Timer>) {}

    /// SIGHUP.
    fn on_reload(&mut self, _cx: &mut Cx<'_, Self::Timer>) {
        tracing::info!("SIGHUP received; nothing to reload");
    }

    /// SIGTERM or SIGINT: the loop returns after this.
    fn on_stop(&mut self, _cx: &mut Cx<'_, Self::Timer>) {}
}

/// The loop and the handler it drives.
pub struct Reactor<H: Handler> {
    poll: Poll,
    timers: TimerWheel<H::Timer>,
    clock: Clock,
    signals: Signals,
    pub handler: H,
}

impl<H: Handler> Reactor<H> {
    /// Registers the signalfd and builds the handler with a context of the loop (to
    /// register its listeners and arm its first timers). `clock` is the time origin.
    pub fn new(
        poll: Poll,
        clock: Clock,
        signals: Signals,
        build: impl FnOnce(&mut Cx<'_, H::Timer>) -> io::Result<H>,
    ) -> io::Result<Self> {
        signals.register(poll.registry(), SIGNALS)?;
        let now = clock.now_ms();
        let mut timers = TimerWheel::new(now);
        let handler = build(&mut Cx {
            registry: poll.registry(),
            timers: &mut timers,
            now,
            wall_ms: Clock::wall_ms(),
        })?;
        Ok(Reactor {
            poll,
            timers,
            clock,
            signals,
            handler,
        })
    }

    /// Runs until SIGTERM or SIGINT.
    pub fn run(&mut self) -> io::Result<()> {
        let mut events = Events::with_capacity(1024);
        loop {
            let now = self.clock.now_ms();
            let timeout = if self.handler.has_ready() {
                Some(Duration::ZERO)
            } else {
                self.timers
                    .next_deadline()
                    .map(|d| Duration::from_millis(d.saturating_sub(now)))
            };
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            let mut cx = Cx {
                registry: self.poll.registry(),
                timers: &mut self.timers,
                now: self.clock.now_ms(),
                wall_ms: Clock::wall_ms(),
            };
            for event in events.iter() {
                if event.token() != SIGNALS {
                    self.handler.on_event(&mut cx, event.token());
                    continue;
                }
                match self.signals.drain() {
                    Some(SignalAction::Stop) => {
                        tracing::info!("stopping on signal");
                        self.handler.on_stop(&mut cx);
                        return Ok(());
                    }
                    Some(SignalAction::Reload) => self.handler.on_reload(&mut cx),
                    None => {}
                }
            }
            self.handler.run_ready(&mut cx);
            while let Some((handle, timer)) = cx.timers.poll(cx.now) {
                self.handler.on_timer(&mut cx, handle, timer);
            }
        }
    }
}
