//! leanpoint as a handler of the loop: it owns the application state, the socket slab,
//! the inbound server and the upstream engine, and routes each readiness event (by
//! token) and each fired timer (by payload) to the one that owns it, lending each the
//! loop's parts ([`Shell`]) and the application state separately.

use crate::app::AppState;
use crate::reactor::{Cx, Handler};
use crate::reload::Reloader;
use crate::server::accept::DoorTimer;
use crate::server::listener::Server;
use crate::shell::{
    Listener, Shell, Socket, Sockets, TimerEvent, ACCESS_LOG, ADMIN_LISTENER, LISTENER, WAKER,
};
use crate::timer::TimerHandle;
use crate::upstream::Engine;
use mio::{Token, Waker};
use std::sync::Arc;

/// The process on the loop.
pub struct Leanpoint {
    pub app: AppState,
    pub sockets: Sockets,
    pub server: Server,
    pub engine: Engine,
    pub(super) reloader: Option<Reloader>,
    /// Kept alive: the resolver thread wakes the loop through it.
    pub(super) _waker: Arc<Waker>,
}

/// The loop's parts and leanpoint's sockets, as the shells take them.
fn shell<'a>(cx: &'a mut Cx<'_, TimerEvent>, sockets: &'a mut Sockets) -> Shell<'a> {
    Shell {
        registry: cx.registry,
        timers: cx.timers,
        sockets,
        now: cx.now,
        wall_ms: cx.wall_ms,
    }
}

impl Handler for Leanpoint {
    type Timer = TimerEvent;

    fn on_event(&mut self, cx: &mut Cx<'_, TimerEvent>, token: Token) {
        let sh = &mut shell(cx, &mut self.sockets);
        let app = &mut self.app;
        match token {
            LISTENER => self.server.on_accept_ready(sh, app, Listener::Public),
            ADMIN_LISTENER => self.server.on_accept_ready(sh, app, Listener::Admin),
            WAKER => self.engine.on_resolved(sh, app),
            // The access log's full pipe drained: `run_ready` writes the rest.
            ACCESS_LOG => {}
            token => match sh.sockets.get_mut(token) {
                Some(Socket::Inbound(_)) => self.server.on_event(sh, app, token),
                Some(Socket::Upstream(_)) => self.engine.on_event(sh, app, token),
                None => {} // stale: the socket was closed earlier in this batch
            },
        }
    }

    fn on_timer(&mut self, cx: &mut Cx<'_, TimerEvent>, handle: TimerHandle, timer: TimerEvent) {
        let sh = &mut shell(cx, &mut self.sockets);
        let app = &mut self.app;
        match timer {
            TimerEvent::RoundTick => self.engine.on_tick(sh, app, handle),
            TimerEvent::Inbound(token) => self.server.on_deadline(sh, app, token, handle),
            TimerEvent::Upstream(token) => self.engine.on_deadline(sh, app, token, handle),
            TimerEvent::AcceptRetry(which) => {
                let timer = DoorTimer::Retry;
                self.server.on_door_timer(sh, app, which, timer, handle)
            }
            TimerEvent::ShedCheck(which) => {
                let timer = DoorTimer::Shed;
                self.server.on_door_timer(sh, app, which, timer, handle)
            }
        }
    }

    fn has_ready(&self) -> bool {
        self.server.has_ready() || self.engine.has_ready()
    }

    fn run_ready(&mut self, cx: &mut Cx<'_, TimerEvent>) {
        let sh = &mut shell(cx, &mut self.sockets);
        self.server.run_ready(sh, &mut self.app);
        // Once per loop iteration: the lines of every reply queued since the last one.
        self.server.flush_access_log(&self.app);
        self.engine.run_ready(sh, &mut self.app);
    }

    fn on_reload(&mut self, cx: &mut Cx<'_, TimerEvent>) {
        let Some(reloader) = &self.reloader else {
            tracing::info!("SIGHUP received; no upstreams file to reload (legacy --lean-url mode)");
            return;
        };
        if let Some(specs) = reloader.reload(&self.app) {
            let sh = &mut shell(cx, &mut self.sockets);
            self.engine.reload(sh, &mut self.app, specs);
        }
    }

    fn on_stop(&mut self, cx: &mut Cx<'_, TimerEvent>) {
        self.server.flush_access_log(&self.app);
        let sh = &mut shell(cx, &mut self.sockets);
        self.server.close_all(sh);
        self.engine.close_all(sh);
    }
}
