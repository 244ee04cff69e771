//! leanpoint's sockets in the loop's one slab: every inbound connection and upstream
//! socket has a slot and a generation-checked token. The slab owns the counts of open
//! sockets by kind, kept by `insert_with` and `remove` only; the gauges read them here.

use crate::reactor::Slots;
use crate::server::conn::InboundConn;
use crate::timer::TimerHandle;
use crate::upstream::conn::UpstreamConn;
use mio::Token;

/// A socket of either side.
pub enum Socket {
    Inbound(InboundConn),
    Upstream(UpstreamConn),
}

/// Open sockets by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketCounts {
    /// Inbound connections of the public listener.
    pub inbound: usize,
    /// Inbound connections of the admin listener.
    pub admin: usize,
    pub upstream: usize,
}

impl SocketCounts {
    fn of(socket: &Socket) -> SocketCounts {
        match socket {
            Socket::Inbound(c) if c.admin => SocketCounts {
                admin: 1,
                ..Default::default()
            },
            Socket::Inbound(_) => SocketCounts {
                inbound: 1,
                ..Default::default()
            },
            Socket::Upstream(_) => SocketCounts {
                upstream: 1,
                ..Default::default()
            },
        }
    }
}

/// All sockets of the process.
#[derive(Default)]
pub struct Sockets {
    slots: Slots<Socket>,
    counts: SocketCounts,
}

impl Sockets {
    /// Reserves a slot; `make` receives the slot's token and builds the socket.
    pub fn insert_with<E>(
        &mut self,
        make: impl FnOnce(Token) -> Result<Socket, E>,
    ) -> Result<Token, E> {
        let token = self.slots.insert_with(make)?;
        if let Some(socket) = self.slots.get(token) {
            let one = SocketCounts::of(socket);
            self.counts.inbound += one.inbound;
            self.counts.admin += one.admin;
            self.counts.upstream += one.upstream;
        }
        Ok(token)
    }

    /// The socket behind `token`, unless the token is stale.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut Socket> {
        self.slots.get_mut(token)
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
    /// token or a superseded handle is not); if so the socket's timer slot is emptied.
    pub fn claim_deadline(&mut self, token: Token, handle: TimerHandle) -> bool {
        match self.get_mut(token) {
            Some(Socket::Inbound(c)) => c.timer.claim(handle),
            Some(Socket::Upstream(c)) => c.timer.claim(handle),
            None => false,
        }
    }

    /// Removes the socket (dropping it closes the fd) and returns it.
    pub fn remove(&mut self, token: Token) -> Option<Socket> {
        let socket = self.slots.remove(token)?;
        let one = SocketCounts::of(&socket);
        self.counts.inbound -= one.inbound;
        self.counts.admin -= one.admin;
        self.counts.upstream -= one.upstream;
        Some(socket)
    }

    /// Open sockets by kind.
    pub fn counts(&self) -> SocketCounts {
        self.counts
    }

    /// Open inbound connections of the public listener.
    pub fn inbound_count(&self) -> usize {
        self.counts.inbound
    }

    /// Open connections of the admin listener.
    pub fn admin_count(&self) -> usize {
        self.counts.admin
    }

    /// Open upstream sockets.
    pub fn upstream_count(&self) -> usize {
        self.counts.upstream
    }

    /// All inbound connections with their tokens, admin ones included (for shedding
    /// and shutdown).
    pub fn inbound(&self) -> impl Iterator<Item = (Token, &InboundConn)> + '_ {
        self.slots
            .iter()
            .filter_map(|(token, socket)| match socket {
                Socket::Inbound(c) => Some((token, c)),
                Socket::Upstream(_) => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mio::net::TcpListener;

    fn inbound_pair(listener: &TcpListener, admin: bool) -> (std::net::TcpStream, Socket) {
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (stream, _) = loop {
            match listener.accept() {
                Ok(pair) => break pair,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                Err(e) => panic!("{e}"),
            }
        };
        let mut conn = InboundConn::new(stream, 0);
        conn.admin = admin;
        (client, Socket::Inbound(conn))
    }

    #[test]
    fn counts_follow_inserts_and_removes_by_kind() {
        let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let mut sockets = Sockets::default();
        let (_c1, public) = inbound_pair(&listener, false);
        let (_c2, admin) = inbound_pair(&listener, true);
        let a = sockets.insert_with(|_| Ok::<_, ()>(public)).unwrap();
        let b = sockets.insert_with(|_| Ok::<_, ()>(admin)).unwrap();
        let failed = sockets.insert_with(|_| Err::<Socket, _>("refused"));
        assert!(failed.is_err());
        assert_eq!(
            sockets.counts(),
            SocketCounts {
                inbound: 1,
                admin: 1,
                upstream: 0
            }
        );
        assert_eq!(sockets.inbound().count(), 2);
        assert!(sockets.remove(a).is_some());
        assert!(sockets.remove(a).is_none(), "a stale token removes nothing");
        assert_eq!(sockets.inbound_count(), 0);
        assert_eq!(sockets.admin_count(), 1);
        assert!(sockets.remove(b).is_some());
        assert_eq!(sockets.counts(), SocketCounts::default());
    }
}
