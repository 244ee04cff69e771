//! The simulator's one slab of listeners and connections. A token is the slab key plus
//! a generation, so an event or timer for a closed entry whose key was reused since is
//! recognised as stale and dropped.

use mio::Token;
use slab::Slab;

/// Entries addressed by generation-checked tokens.
pub struct Slots<T> {
    slab: Slab<(u32, T)>,
    generation: u32,
}

fn key_of(token: Token) -> usize {
    token.0 & 0xffff_ffff
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
        let key = self.slab.insert((generation, value));
        Token(((generation as usize) << 32) | (key & 0xffff_ffff))
    }

    /// The live entry behind `token` (`None` when removed, or its key reused since).
    pub fn get_mut(&mut self, token: Token) -> Option<&mut T> {
        let generation = (token.0 >> 32) as u32;
        match self.slab.get_mut(key_of(token)) {
            Some((g, value)) if *g == generation => Some(value),
            _ => None,
        }
    }

    /// Removes the live entry behind `token`.
    pub fn remove(&mut self, token: Token) -> Option<T> {
        self.get_mut(token)?;
        self.slab.try_remove(key_of(token)).map(|(_, value)| value)
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
        assert_eq!(slots.get_mut(b), Some(&mut "b"));
        assert_eq!(slots.len(), 1);
    }
}
