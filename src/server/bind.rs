//! Binding a listener with a listen backlog of our choosing. `mio::net::TcpListener::bind`
//! always asks for 128, and a full accept queue makes the kernel drop SYNs (clients
//! retry after a second or more): the public backlog is sized to the inbound pool.

use mio::net::TcpListener;
use socket2::{Domain, Protocol, Socket, Type};
use std::io;
use std::net::SocketAddr;

/// The smallest public listen backlog (the kernel caps any value at `somaxconn`).
pub const MIN_BACKLOG: u32 = 511;

/// The listen backlog of the public listener: `requested`, else the inbound pool, at
/// least [`MIN_BACKLOG`]; never more than `i32::MAX`.
pub fn public_backlog(requested: Option<u32>, inbound_pool: usize) -> i32 {
    let derived = u32::try_from(inbound_pool)
        .unwrap_or(u32::MAX)
        .max(MIN_BACKLOG);
    i32::try_from(requested.unwrap_or(derived)).unwrap_or(i32::MAX)
}

/// A non-blocking listener on `addr` (`SO_REUSEADDR`, close-on-exec) with `backlog`.
pub fn listen(addr: SocketAddr, backlog: i32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std and mio do on Unix: a restart can bind while old connections are in TIME_WAIT.
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog)?;
    socket.set_nonblocking(true)?;
    Ok(TcpListener::from_std(socket.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backlog_follows_the_pool_with_a_floor() {
        assert_eq!(public_backlog(None, 8), 511);
        assert_eq!(public_backlog(None, 1024), 1024);
        assert_eq!(public_backlog(Some(64), 1024), 64);
        assert_eq!(public_backlog(None, usize::MAX), i32::MAX);
        assert_eq!(public_backlog(Some(u32::MAX), 8), i32::MAX);
    }

    #[test]
    fn listens_on_an_ephemeral_port() {
        let l = listen("127.0.0.1:0".parse().unwrap(), 600).unwrap();
        let addr = l.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let _c = std::net::TcpStream::connect(addr).unwrap();
    }
}
