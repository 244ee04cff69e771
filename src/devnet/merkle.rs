//! The part of the simulator's SSZ merkleization that `lean::lstar` has no use for: an
//! append-only accumulator for `historical_block_hashes`, so that the state root of
//! each new slot costs a few dozen hashes whatever the length of the history (a full
//! re-hash per slot would make a long start-up history quadratic), and the root of a
//! list of roots. The hashing itself (pairs, zero subtrees, `mix_in_length`, the
//! streaming `Merkleizer`) is `lean::lstar`'s, so the two cannot drift apart.

use crate::lean::lstar::merkle::{merkleize_to, mix_in_length, Merkleizer};
use crate::lean::Root;

/// The root of a `List[Bytes32, 2^depth]` (`depth` at most 31).
pub fn roots_list_root(roots: &[Root], depth: usize) -> Root {
    mix_in_length(&merkleize_to(roots, depth), roots.len() as u64)
}

/// An append-only Merkle tree of `2^depth` leaves (`depth` at most 31): `push` and
/// `root` cost at most `depth` hashes each, whatever the number of leaves.
#[derive(Clone)]
pub struct Accumulator {
    depth: usize,
    tree: Merkleizer,
}

impl std::fmt::Debug for Accumulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accumulator")
            .field("depth", &self.depth)
            .field("len", &self.len())
            .finish()
    }
}

impl Accumulator {
    pub fn new(depth: usize) -> Accumulator {
        Accumulator {
            depth,
            tree: Merkleizer::new(depth),
        }
    }

    /// Leaves pushed.
    pub fn len(&self) -> u64 {
        self.tree.count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `leaf` (ignored once the tree is full).
    pub fn push(&mut self, leaf: Root) {
        if self.depth < 64 && self.len() >= 1u64 << self.depth {
            return;
        }
        self.tree.push(&leaf);
    }

    /// The root of the leaves so far, zero padded (no length mixed in).
    pub fn root(&self) -> Root {
        self.tree.finish()
    }

    /// The root of the list of the leaves so far (length mixed in).
    pub fn list_root(&self) -> Root {
        mix_in_length(&self.root(), self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    fn leaf(i: u64) -> Root {
        Sha256::digest(i.to_le_bytes()).into()
    }

    /// The naive definition: pad to 2^depth leaves, hash pairs up.
    fn naive(chunks: &[Root], depth: usize) -> Root {
        let mut layer = chunks.to_vec();
        layer.resize(1 << depth, [0; 32]);
        while layer.len() > 1 {
            layer = layer
                .chunks(2)
                .map(|p| Sha256::digest([p[0], p[1]].concat()).into())
                .collect();
        }
        layer[0]
    }

    #[test]
    fn accumulator_matches_merkleize_at_every_length() {
        let mut acc = Accumulator::new(5);
        let mut leaves = Vec::new();
        assert_eq!(acc.root(), naive(&[], 5));
        assert!(acc.is_empty());
        for i in 0..32 {
            leaves.push(leaf(i));
            acc.push(leaf(i));
            assert_eq!(acc.root(), naive(&leaves, 5), "after {} leaves", i + 1);
            assert_eq!(acc.list_root(), roots_list_root(&leaves, 5));
        }
        acc.push(leaf(99));
        assert_eq!(acc.len(), 32, "full");
        assert_eq!(acc.root(), naive(&leaves, 5));
        let mut tiny = Accumulator::new(0);
        tiny.push(leaf(7));
        tiny.push(leaf(8));
        assert_eq!(tiny.root(), leaf(7));
        let mut deep = Accumulator::new(18);
        let mut leaves = Vec::new();
        for i in 0..37 {
            deep.push(leaf(i));
            leaves.push(leaf(i));
        }
        assert_eq!(deep.root(), merkleize_to(&leaves, 18));
        assert_eq!(deep.list_root(), roots_list_root(&leaves, 18));
    }
}
