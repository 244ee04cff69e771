//! The one slab of sockets. Every upstream and inbound socket has a slot; its mio token
//! is the slab key plus a generation, so an event or timer for a closed socket whose key
//! was reused is recognised as stale and dropped.

use crate::server::conn::InboundConn;
use crate::upstream::conn::UpstreamConn;
use mio::Token;
use slab::Slab;

// Tokens pack a 32-bit generation above a 32-bit slab key.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("leanpoint's token layout needs a 64-bit usize");

/// Fixed tokens, outside the slab's range.
pub const LISTENER: Token = Token(usize::MAX);
pub const SIGNALS: Token = Token(usize::MAX - 1);
pub const WAKER: Token = Token(usize::MAX - 2);
pub const ADMIN_LISTENER: Token = Token(usize::MAX - 3);

/// A socket of either side.
pub enum Socket {
    Inbound(InboundConn),
    Upstream(UpstreamConn),
}

struct Slot {
    generation: u32,
    socket: Socket,
}

/// All sockets of the process.
#[derive(Default)]
pub struct Sockets {
    slab: Slab<Slot>,
    next_generation: u32,
    /// Inbound connections of the public listener.
    inbound: usize,
    /// Inbound connections of the admin listener.
    admin: usize,
    upstream: usize,
}

/// Token of slab key `key` at `generation`.
pub fn token_of(key: usize, generation: u32) -> Token {
    Token(((generation as usize) << 32) | (key & 0xffff_ffff))
}

fn split(token: Token) -> (usize, u32) {
    (token.0 & 0xffff_ffff, (token.0 >> 32) as u32)
}

impl Sockets {
    /// Reserves a slot; `make` receives the slot's token and builds the socket.
    pub fn insert_with<E>(
        &mut self,
        make: impl FnOnce(Token) -> Result<Socket, E>,
    ) -> Result<Token, E> {
        let entry = self.slab.vacant_entry();
        let generation = self.next_generation;
        let token = token_of(entry.key(), generation);
        let socket = make(token)?;
        match &socket {
            Socket::Inbound(c) if c.admin => self.admin += 1,
            Socket::Inbound(_) => self.inbound += 1,
            Socket::Upstream(_) => self.upstream += 1,
        }
        entry.insert(Slot { generation, socket });
        self.next_generation = self.next_generation.wrapping_add(1);
        Ok(token)
    }

    /// The socket behind `token`, unless the token is stale.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut Socket> {
        let (key, generation) = split(token);
        match self.slab.get_mut(key) {
            Some(slot) if slot.generation == generation => Some(&mut slot.socket),
            _ => None,
        }
    }

    pub fn inbound_mut(&mut self, token: Token) -> Option<&mut InboundConn> {
        match self.get_mut(token) {
            Some(Socket::Inbound(c)) => Some(c),
            _ => None,
        }
    }

    pub fn upstream_mut(&mut self, token: Token) -> Option<&mut UpstreamConn> {
        match self.get_mut(token) {
            Some(Socket::Upstream(c)) => Some(c),
            _ => None,
        }
    }

    /// Whether `handle` is the deadline the socket behind `token` armed last (a stale
    /// token or a superseded handle is not); if so it is marked as fired.
    pub fn claim_deadline(&mut self, token: Token, handle: crate::timer::TimerHandle) -> bool {
        let armed = match self.get_mut(token) {
            Some(Socket::Inbound(c)) => &mut c.timer,
            Some(Socket::Upstream(c)) => &mut c.timer,
            None => return false,
        };
        if *armed != Some(handle) {
            return false;
        }
        *armed = None;
        true
    }

    /// Removes the socket (dropping it closes the fd) and returns it.
    pub fn remove(&mut self, token: Token) -> Option<Socket> {
        let (key, generation) = split(token);
        match self.slab.get(key) {
            Some(slot) if slot.generation == generation => {}
            _ => return None,
        }
        let slot = self.slab.remove(key);
        match &slot.socket {
            Socket::Inbound(c) if c.admin => self.admin -= 1,
            Socket::Inbound(_) => self.inbound -= 1,
            Socket::Upstream(_) => self.upstream -= 1,
        }
        Some(slot.socket)
    }

    /// Open inbound connections of the public listener.
    pub fn inbound_count(&self) -> usize {
        self.inbound
    }

    /// Open connections of the admin listener.
    pub fn admin_count(&self) -> usize {
        self.admin
    }

    /// Open upstream sockets.
    pub fn upstream_count(&self) -> usize {
        self.upstream
    }

    /// Tokens of all inbound connections, admin ones included (for shedding and shutdown).
    pub fn inbound_tokens(&self) -> impl Iterator<Item = (Token, &InboundConn)> + '_ {
        self.slab
            .iter()
            .filter_map(|(key, slot)| match &slot.socket {
                Socket::Inbound(c) => Some((token_of(key, slot.generation), c)),
                Socket::Upstream(_) => None,
            })
    }
}
