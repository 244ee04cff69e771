//! Keeping a client's block and state a pair across a finalization advance, pure.
//!
//! A lean client checkpoint-syncs with two requests (leanSpec: the block, then the
//! state) and requires `block.state_root == hash_tree_root(state)`. If the bundle served
//! changes between the two, the pair it gets does not match and it aborts. So the block a
//! client (by IP) was served last is remembered for [`PAIR_MS`]: when it asks for the
//! state within that time, it gets the same bundle's, provided that bundle is still held
//! (the current one, or the previous one, kept a while after an advance). Once the pair
//! is complete the client is forgotten, so its next sync gets the newest bundle. Only
//! blocks pin: a client that fetches the state alone (ream) never holds back a
//! block-then-state client behind the same address. At most [`MAX_CLIENTS`] clients are
//! remembered (the oldest forgotten).

use crate::app::Bundle;
use crate::lean::Root;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::rc::Rc;

/// How long a client's first half waits for its second (the previous bundle is kept as
/// long after an advance).
pub const PAIR_MS: i64 = crate::app::PREVIOUS_BUNDLE_MS;

/// Most clients remembered at once.
pub const MAX_CLIENTS: usize = 4096;

/// Which half of the bundle a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    Block,
    State,
}

#[derive(Debug, Clone, Copy)]
struct Pin {
    root: Root,
    at_ms: i64,
}

/// The halves served last, by client.
#[derive(Debug, Default)]
pub struct Pairing {
    pins: HashMap<IpAddr, Pin>,
    /// Clients in the order they were pinned (may hold stale entries; checked on pop).
    order: VecDeque<(IpAddr, i64)>,
}

impl Pairing {
    /// The bundle to serve `client` the `half` of at `now_ms`: for a state, the bundle of
    /// the block it was served within `PAIR_MS` if that bundle is `current` or
    /// `previous`; else `current` (a block is remembered as the first half of a pair).
    pub fn choose(
        &mut self,
        client: Option<IpAddr>,
        half: Half,
        now_ms: i64,
        current: &Rc<Bundle>,
        previous: Option<&Rc<Bundle>>,
    ) -> Rc<Bundle> {
        let Some(client) = client else {
            return Rc::clone(current);
        };
        if half == Half::State {
            let pin = self.pins.remove(&client);
            let fresh = pin.filter(|p| now_ms.saturating_sub(p.at_ms) <= PAIR_MS);
            let held = fresh.and_then(|p| {
                [Some(current), previous]
                    .into_iter()
                    .flatten()
                    .find(|b| b.block_root == p.root)
            });
            return Rc::clone(held.unwrap_or(current));
        }
        self.pins.insert(
            client,
            Pin {
                root: current.block_root,
                at_ms: now_ms,
            },
        );
        self.order.push_back((client, now_ms));
        self.trim(now_ms);
        Rc::clone(current)
    }

    /// Forgets expired pins, and the oldest beyond `MAX_CLIENTS`.
    fn trim(&mut self, now_ms: i64) {
        while let Some(&(client, at)) = self.order.front() {
            let expired = now_ms.saturating_sub(at) > PAIR_MS;
            if !expired && self.pins.len() <= MAX_CLIENTS && self.order.len() <= 2 * MAX_CLIENTS {
                break;
            }
            self.order.pop_front();
            if self.pins.get(&client).is_some_and(|p| p.at_ms == at) {
                self.pins.remove(&client);
            }
        }
    }

    /// Clients remembered.
    pub fn len(&self) -> usize {
        self.pins.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pins.is_empty()
    }
}

#[cfg(test)]
#[path = "pairing_tests.rs"]
mod tests;
