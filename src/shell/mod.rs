//! What leanpoint's socket shells share on the loop: the slab of sockets (`sockets`),
//! the timer payloads, the fixed tokens, and [`Shell`], the borrowed context every
//! inbound and upstream handler receives (registry, timers, sockets, the time of the
//! wake-up). The application state travels beside it as `&mut AppState`, never inside.

pub mod sockets;

pub use sockets::{Socket, Sockets};

use crate::timer::TimerWheel;
use mio::{Registry, Token};

/// The public listener's token (outside the slab's range).
pub const LISTENER: Token = Token(usize::MAX - 1);
/// The resolver's waker.
pub const WAKER: Token = Token(usize::MAX - 2);
/// The admin listener's token.
pub const ADMIN_LISTENER: Token = Token(usize::MAX - 3);
/// The access log's pipe or socket (stderr), watched for writability.
pub const ACCESS_LOG: Token = Token(usize::MAX - 4);

/// Which listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    Public,
    Admin,
}

/// What a timer does when it fires. Each timer has a payload of its own, so a firing is
/// never taken for another timer's; each stored handle is claimed by generation
/// (`TimerSlot::claim`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerEvent {
    /// Start the next poll round.
    RoundTick,
    /// The deadline of the inbound connection behind this token.
    Inbound(Token),
    /// The deadline of the upstream socket behind this token.
    Upstream(Token),
    /// The EMFILE/ENFILE back-off of this listener ended.
    AcceptRetry(Listener),
    /// At this listener's cap, a connection became a candidate for displacement.
    ShedCheck(Listener),
}

/// The loop's parts a socket shell works with.
pub struct Shell<'a> {
    pub registry: &'a Registry,
    pub timers: &'a mut TimerWheel<TimerEvent>,
    pub sockets: &'a mut Sockets,
    /// Monotonic ms at this wake-up.
    pub now: u64,
    /// Wall-clock ms since the Unix epoch at this wake-up.
    pub wall_ms: i64,
}
