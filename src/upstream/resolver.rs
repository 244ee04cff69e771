//! The resolver thread: host names are looked up by one thread, which answers through a
//! channel and wakes the loop with a `mio::Waker`; none of it touches a socket of the
//! loop. (Which names to look up, and when, is `names.rs`.) getaddrinfo's own socket is
//! one of the reserved fds of the budget.

use mio::Waker;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::Arc;
use std::thread;

/// A lookup request: the host and port to resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub host: String,
    pub port: u16,
}

/// A lookup's answer.
#[derive(Debug)]
pub struct Resolved {
    pub lookup: Lookup,
    pub result: Result<SocketAddr, String>,
}

/// Resolves now, blocking (only in the resolver thread).
pub fn resolve_blocking(host: &str, port: u16) -> Result<SocketAddr, String> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, port));
    }
    match (host, port).to_socket_addrs() {
        Ok(mut addrs) => {
            let all: Vec<SocketAddr> = addrs.by_ref().collect();
            all.iter()
                .find(|a| a.is_ipv4())
                .or(all.first())
                .copied()
                .ok_or_else(|| format!("name {host} did not resolve: no addresses"))
        }
        Err(e) => Err(format!("name {host} did not resolve: {e}")),
    }
}

/// The resolver thread's handle.
pub struct Resolver {
    requests: Sender<Lookup>,
    answers: Receiver<Resolved>,
}

impl Resolver {
    /// Spawns the thread; `waker` wakes the loop when an answer is ready.
    pub fn spawn(waker: Arc<Waker>) -> std::io::Result<Self> {
        let (req_tx, req_rx) = channel::<Lookup>();
        let (ans_tx, ans_rx) = channel::<Resolved>();
        thread::Builder::new()
            .name("leanpoint-resolver".into())
            .spawn(move || {
                while let Ok(lookup) = req_rx.recv() {
                    let result = resolve_blocking(&lookup.host, lookup.port);
                    if ans_tx.send(Resolved { lookup, result }).is_err() {
                        break;
                    }
                    let _ = waker.wake();
                }
            })?;
        Ok(Resolver {
            requests: req_tx,
            answers: ans_rx,
        })
    }

    /// Asks for a lookup (never blocks).
    pub fn submit(&self, lookup: Lookup) {
        let _ = self.requests.send(lookup);
    }

    /// Answers ready now.
    pub fn drain(&self) -> Vec<Resolved> {
        self.answers.try_iter().collect()
    }
}
