//! The upstreams' host names, resolved off the event loop: IP literals are addresses at
//! once; a name is looked up by the one resolver thread, at start-up too (the listener
//! answers from its first millisecond and the upstream reports `name_not_resolved`,
//! "still resolving", meanwhile). Lookups are keyed by (host, port): one lookup per name
//! whatever the number of upstreams that use it, and a name already pending is never
//! queued again (a SIGHUP storm cannot starve resolution). An answer applies to every
//! upstream with that name, whatever index a reload gave it.

use super::resolver::{Lookup, Resolver};
use crate::app::AppState;
use crate::config::HttpUrl;
use mio::Waker;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

type Name = (String, u16);

fn name_of(target: &HttpUrl) -> Name {
    (target.host.clone(), target.port)
}

/// The resolver thread and what it was asked.
pub struct Names {
    resolver: Option<Resolver>,
    waker: Arc<Waker>,
    /// Lookups submitted and not answered yet.
    pending: HashSet<Name>,
    /// Why the last lookup of a name failed.
    errors: HashMap<Name, String>,
}

impl Names {
    pub fn new(waker: Arc<Waker>) -> Self {
        Names {
            resolver: None,
            waker,
            pending: HashSet::new(),
            errors: HashMap::new(),
        }
    }

    /// Gives every upstream without an address one: its IP literal, or a lookup of its
    /// name (unless one is pending).
    pub fn resolve_missing(&mut self, app: &mut AppState) {
        let unresolved = app
            .upstreams
            .iter_mut()
            .filter(|r| r.addr.is_none() && r.spec.is_usable());
        for record in unresolved {
            let target = &record.spec.target;
            match target.host.parse::<IpAddr>() {
                Ok(ip) => record.addr = Some(SocketAddr::new(ip, target.port)),
                Err(_) => {
                    let name = name_of(target);
                    self.submit(name);
                }
            }
        }
    }

    /// Looks a name up again (its address refused or timed out a connect), keeping the
    /// current address until the answer arrives. IP literals are left alone.
    pub fn resolve_again(&mut self, target: &HttpUrl) {
        if target.host.parse::<IpAddr>().is_err() {
            self.submit(name_of(target));
        }
    }

    /// Why `target` has no address: the last lookup's error, or that it is pending.
    pub fn why_unresolved(&self, target: &HttpUrl) -> String {
        self.errors
            .get(&name_of(target))
            .cloned()
            .unwrap_or_else(|| format!("name {} is still resolving", target.host))
    }

    fn submit(&mut self, name: Name) {
        if self.pending.contains(&name) {
            return;
        }
        if self.resolver.is_none() {
            match Resolver::spawn(self.waker.clone()) {
                Ok(r) => self.resolver = Some(r),
                Err(e) => tracing::warn!("cannot start the resolver thread: {e}"),
            }
        }
        if let Some(resolver) = &self.resolver {
            resolver.submit(Lookup {
                host: name.0.clone(),
                port: name.1,
            });
            self.pending.insert(name);
        }
    }

    /// The resolver woke the loop: applies its answers to every upstream with that
    /// name. Returns how many upstreams got their first address.
    pub fn on_answers(&mut self, app: &mut AppState) -> usize {
        let Some(resolver) = &self.resolver else {
            return 0;
        };
        let mut first_addresses = 0;
        for answer in resolver.drain() {
            let name = (answer.lookup.host, answer.lookup.port);
            self.pending.remove(&name);
            let users = app
                .upstreams
                .iter_mut()
                .filter(|r| r.spec.target.host == name.0 && r.spec.target.port == name.1);
            match answer.result {
                Ok(addr) => {
                    self.errors.remove(&name);
                    for record in users {
                        first_addresses += usize::from(record.addr.is_none());
                        tracing::debug!(upstream = %record.spec.name, host = %name.0, %addr, "name resolved again");
                        record.addr = Some(addr);
                    }
                    app.version += 1;
                }
                Err(e) => {
                    if self.errors.get(&name) != Some(&e) {
                        tracing::warn!(host = %name.0, "{e}");
                    }
                    self.errors.insert(name, e);
                }
            }
        }
        first_addresses
    }
}
