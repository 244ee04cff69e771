//! The one slab of the loop, generic over what it holds. An entry's mio token is its slab
//! key plus a generation, so an event or timer for an entry removed since, whose key was
//! reused, is recognised as stale and dropped. leanpoint keeps its sockets here, the
//! simulator its listeners and connections.

use mio::Token;
use slab::Slab;

// Tokens pack a 32-bit generation above a 32-bit slab key.
#[cfg(not(target_pointer_width = "64"))]
compile_error!("the slab's token layout needs a 64-bit usize");

/// Entries addressed by generation-checked tokens. Tokens of the form
/// `Token(usize::MAX - k)` for small `k` are never handed out (keys stay far below
/// `u32::MAX`), so they are free for fixed sources (listeners, the signalfd, wakers).
pub struct Slots<T> {
    slab: Slab<(u32, T)>,
    generation: u32,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots::with_capacity(0)
    }
}

/// Token of slab key `key` at `generation`.
fn token_of(key: usize, generation: u32) -> Token {
    Token(((generation as usize) << 32) | (key & 0xffff_ffff))
}

fn key_of(token: Token) -> usize {
    token.0 & 0xffff_ffff
}

fn generation_of(token: Token) -> u32 {
    (token.0 >> 32) as u32
}

impl<T> Slots<T> {
    pub fn with_capacity(n: usize) -> Self {
        Slots {
            slab: Slab::with_capacity(n),
            generation: 0,
        }
    }

    /// Stores `value`; returns its token.
    pub fn insert(&mut self, value: T) -> Token {
        let generation = self.generation;
        self.generation = self.generation.wrapping_add(1);
        token_of(self.slab.insert((generation, value)), generation)
    }

    /// Reserves an entry: `make` receives its token (to register a socket under it) and
    /// builds the value; nothing is stored when it fails.
    pub fn insert_with<E>(&mut self, make: impl FnOnce(Token) -> Result<T, E>) -> Result<Token, E> {
        let entry = self.slab.vacant_entry();
        let generation = self.generation;
        let token = token_of(entry.key(), generation);
        let value = make(token)?;
        entry.insert((generation, value));
        self.generation = self.generation.wrapping_add(1);
        Ok(token)
    }

    /// The live entry behind `token` (`None` when removed, or its key reused since).
    pub fn get(&self, token: Token) -> Option<&T> {
        match self.slab.get(key_of(token)) {
            Some((g, value)) if *g == generation_of(token) => Some(value),
            _ => None,
        }
    }

    /// The live entry behind `token`, mutably.
    pub fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        match self.slab.get_mut(key_of(token)) {
            Some((g, value)) if *g == generation_of(token) => Some(value),
            _ => None,
        }
    }

    /// Removes the live entry behind `token`.
    pub fn remove(&mut self, token: Token) -> Option<T> {
        self.get(token)?;
        self.slab.try_remove(key_of(token)).map(|(_, value)| value)
    }

    /// Every live entry with its token.
    pub fn iter(&self) -> impl Iterator<Item = (Token, &T)> + '_ {
        self.slab
            .iter()
            .map(|(key, (generation, value))| (token_of(key, *generation), value))
    }

    pub fn len(&self) -> usize {
        self.slab.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slab.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_tokens_miss_a_reused_key() {
        let mut slots = Slots::with_capacity(4);
        let a = slots.insert("a");
        assert_eq!(slots.get_mut(a), Some(&mut "a"));
        assert_eq!(slots.remove(a), Some("a"));
        let b = slots.insert("b");
        assert_eq!(a.0 & 0xffff_ffff, b.0 & 0xffff_ffff, "key reused");
        assert_eq!(slots.get_mut(a), None);
        assert_eq!(slots.remove(a), None);
        assert_eq!(slots.get(b), Some(&"b"));
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn a_failed_insert_with_stores_nothing_and_spends_no_generation() {
        let mut slots: Slots<&str> = Slots::default();
        let failed: Result<Token, ()> = slots.insert_with(|_| Err(()));
        assert!(failed.is_err());
        assert!(slots.is_empty());
        let a = slots.insert_with(|_| Ok::<_, ()>("a")).unwrap();
        assert_eq!(a, token_of(0, 0));
        let b = slots.insert("b");
        assert_eq!(b, token_of(1, 1));
        let all: Vec<_> = slots.iter().collect();
        assert_eq!(all, vec![(a, &"a"), (b, &"b")]);
    }
}
