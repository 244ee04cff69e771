//! The response bodies of a simulated node at one (fork, head): the SSZ block and state
//! of the finalized checkpoint, the justified checkpoint and fork-choice JSON, built once
//! per slot per fork and shared by every node (and connection) serving that view
//! through `Rc`. The roots in them are the chain's true roots (`chain::ForkChain`).

use super::chain::{fork_at, ChainParams, ChainView, ForkChain};
use super::state::{tamper, StateConstants};
use crate::lean::lstar::encode_signed_block;
use crate::lean::{root_hex, Checkpoint, Root};
use std::cell::OnceCell;
use std::collections::HashMap;
use std::fmt::Write;
use std::rc::Rc;

/// `/lean/v0/health`.
pub const HEALTH: &[u8] = br#"{"status":"healthy","service":"lean-rpc-api"}"#;

/// Everything a node serves at one view.
#[derive(Debug)]
pub struct NodeBodies {
    pub view: ChainView,
    /// SSZ `SignedBlock` of the finalized slot.
    pub block: Rc<[u8]>,
    /// SSZ post-state of that block.
    pub state: Rc<[u8]>,
    /// `{"slot":N,"root":"0x…"}`.
    pub justified: Rc<[u8]>,
    /// The fork-choice JSON, nodes from the finalized slot to the head.
    pub fork_choice: Rc<[u8]>,
    /// `state` with one byte changed (what a `liar` serves), built on first use.
    tampered: OnceCell<Rc<[u8]>>,
}

impl NodeBodies {
    /// The state with one byte of a validator key changed: layout-valid, same slots and
    /// checkpoints, another hash tree root.
    pub fn tampered_state(&self) -> Rc<[u8]> {
        self.tampered
            .get_or_init(|| Rc::from(tamper(&self.state).into_boxed_slice()))
            .clone()
    }
}

/// `{"slot":N,"root":"0x…"}`.
pub fn checkpoint_json(c: &Checkpoint) -> String {
    format!(r#"{{"slot":{},"root":"{}"}}"#, c.slot, root_hex(&c.root))
}

/// The fork-choice body of `view`, in the key order clients use. `roots` are the block
/// roots of the view's fork from slot 0, at least up to its head.
pub fn fork_choice_json(params: &ChainParams, view: &ChainView, roots: &[Root]) -> String {
    let (first, head) = (view.finalized.slot, view.head.slot);
    let root = |slot: u64| {
        usize::try_from(slot)
            .ok()
            .and_then(|s| roots.get(s))
            .copied()
            .unwrap_or([0; 32])
    };
    let mut out = String::with_capacity(256 + 300 * (head - first + 1) as usize);
    out.push_str(r#"{"nodes":["#);
    for slot in first..=head {
        if slot > first {
            out.push(',');
        }
        let parent = match slot.checked_sub(1) {
            Some(p) => root(p),
            None => [0; 32],
        };
        // Votes sit on the blocks between the finalized one and the head.
        let weight = if slot > first && slot < head {
            params.validators
        } else {
            0
        };
        let _ = write!(
            out,
            r#"{{"root":"{}","slot":{},"parent_root":"{}","proposer_index":{},"weight":{}}}"#,
            root_hex(&root(slot)),
            slot,
            root_hex(&parent),
            params.proposer(slot),
            weight
        );
    }
    let safe_target = root(head.saturating_sub(1));
    let _ = write!(
        out,
        r#"],"head":"{}","justified":{},"finalized":{},"safe_target":"{}","validator_count":{}}}"#,
        root_hex(&view.head.root),
        checkpoint_json(&view.justified),
        checkpoint_json(&view.finalized),
        root_hex(&safe_target),
        params.validators
    );
    out
}

/// The forks' chains, and the bodies built so far by (fork, head), pruned as the chain
/// advances (the chains' roots are kept).
pub struct BodyCache {
    params: ChainParams,
    /// Views older than the newest head by more than this are dropped.
    keep_slots: u64,
    constants: Rc<StateConstants>,
    chains: HashMap<u64, ForkChain>,
    built: HashMap<(u64, u64), Rc<NodeBodies>>,
    newest: u64,
}

impl BodyCache {
    pub fn new(params: ChainParams, keep_slots: u64) -> BodyCache {
        BodyCache {
            params,
            keep_slots,
            constants: Rc::new(StateConstants::new(&params)),
            chains: HashMap::new(),
            built: HashMap::new(),
            newest: 0,
        }
    }

    pub fn params(&self) -> &ChainParams {
        &self.params
    }

    /// The chain of `fork`, created on first use.
    pub fn chain(&mut self, fork: u64) -> &mut ForkChain {
        let (params, constants) = (self.params, &self.constants);
        self.chains
            .entry(fork)
            .or_insert_with(|| ForkChain::new(params, fork, constants.clone()))
    }

    /// The bodies of `fork` at head `head`, built on first use (for the `flapping` tag,
    /// of the fork it serves at that head: `chain::fork_at`).
    pub fn get(&mut self, fork: u64, head: u64) -> Rc<NodeBodies> {
        let fork = fork_at(fork, head);
        if let Some(b) = self.built.get(&(fork, head)) {
            return b.clone();
        }
        if head > self.newest {
            self.newest = head;
            self.prune();
        }
        let params = self.params;
        let chain = self.chain(fork);
        let view = chain.view(head);
        let slot = view.finalized.slot;
        let (header, state_root) = chain.header(slot);
        let block = encode_signed_block(
            slot,
            header.proposer_index,
            &header.parent_root,
            &state_root,
        );
        let state = chain.encode_state(slot);
        let fork_choice = fork_choice_json(&params, &view, chain.roots());
        let bodies = Rc::new(NodeBodies {
            view,
            block: Rc::from(block.into_boxed_slice()),
            state: Rc::from(state.into_boxed_slice()),
            justified: Rc::from(checkpoint_json(&view.justified).into_bytes()),
            fork_choice: Rc::from(fork_choice.into_bytes()),
            tampered: OnceCell::new(),
        });
        self.built.insert((fork, head), bodies.clone());
        bodies
    }

    /// Views held.
    pub fn len(&self) -> usize {
        self.built.len()
    }

    pub fn is_empty(&self) -> bool {
        self.built.is_empty()
    }

    fn prune(&mut self) {
        let oldest = self.newest.saturating_sub(self.keep_slots);
        self.built.retain(|&(_, head), _| head >= oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devnet::chain::{ALTERNATE, CANONICAL};
    use crate::lean::json::{parse_checkpoint, parse_fork_choice};
    use crate::lean::lstar::{signed_block_roots, state_roots};
    use crate::lean::ssz::validate_state;

    fn params() -> ChainParams {
        ChainParams {
            genesis_time: 1_700_000_000,
            slot_ms: 4_000,
            start_slot: 0,
            validators: 4,
        }
    }

    #[test]
    fn leanpoint_accepts_every_body() {
        let mut cache = BodyCache::new(params(), 8);
        for head in [0u64, 1, 2, 3, 4, 21, 500] {
            let b = cache.get(CANONICAL, head);
            let state = validate_state(&b.state).unwrap();
            let justified = parse_checkpoint(&b.justified).unwrap();
            let fc = parse_fork_choice(&b.fork_choice).unwrap();
            let finalized = head.saturating_sub(3);
            let chain = cache.chain(CANONICAL);
            assert_eq!(state.slot, finalized);
            assert_eq!(justified.slot, head.saturating_sub(2));
            assert_eq!(justified.root, chain.block_root(justified.slot));
            assert_eq!(fc.head_slot, Some(head));
            assert_eq!(fc.head_root, chain.block_root(head));
            assert_eq!(fc.justified, justified);
            assert_eq!(fc.finalized.slot, finalized);
            assert_eq!(fc.finalized.root, chain.block_root(finalized));
            assert_eq!(fc.node_count as u64, head - finalized + 1);
            assert_eq!(fc.validator_count, Some(4));
        }
    }

    #[test]
    fn block_and_state_are_a_verifiable_pair() {
        let mut cache = BodyCache::new(params(), 8);
        for fork in [CANONICAL, ALTERNATE] {
            for head in [0u64, 1, 3, 4, 5, 21, 200] {
                let b = cache.get(fork, head);
                let block = signed_block_roots(&b.block).expect("lstar reads the block");
                let state = state_roots(&b.state).expect("lstar reads the state");
                let fc = parse_fork_choice(&b.fork_choice).unwrap();
                assert_eq!(block.state_root, state.state_root, "{fork}/{head}");
                assert_eq!(block.block_root, fc.finalized.root, "{fork}/{head}");
                assert_eq!(state.block_root, fc.finalized.root, "{fork}/{head}");
                assert_eq!(block.slot, fc.finalized.slot);
                assert_eq!(block.proposer_index, params().proposer(block.slot));
                assert_eq!(block.body_root, crate::lean::lstar::empty_body_root());
                let lie = state_roots(&b.tampered_state()).expect("still layout-valid");
                assert_ne!(lie.state_root, block.state_root);
                assert_eq!(lie.summary, state.summary);
                assert!(Rc::ptr_eq(&b.tampered_state(), &b.tampered_state()));
            }
        }
    }

    #[test]
    fn fork_choice_has_the_client_shape() {
        let mut cache = BodyCache::new(params(), 8);
        let chain = cache.chain(CANONICAL);
        let view = chain.view(21);
        let body = fork_choice_json(&params(), &view, chain.roots());
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let nodes = v["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[0]["slot"], 18);
        assert_eq!(nodes[0]["parent_root"], root_hex(&chain.block_root(17)));
        assert_eq!(nodes[1]["parent_root"], nodes[0]["root"]);
        assert_eq!(nodes[3]["root"], v["head"]);
        assert_eq!(nodes[2]["root"], v["safe_target"]);
        let weights: Vec<u64> = nodes
            .iter()
            .map(|n| n["weight"].as_u64().unwrap())
            .collect();
        assert_eq!(weights, [0, 4, 4, 0]);
        assert_eq!(nodes[1]["proposer_index"], 3);
        assert_eq!(v["justified"]["slot"], 19);
        assert_eq!(v["justified"]["root"], nodes[1]["root"]);
        assert_eq!(v["finalized"]["root"], nodes[0]["root"]);
        assert_eq!(v["finalized"]["root"], root_hex(&chain.block_root(18)));
        assert!(body.starts_with(r#"{"nodes":[{"root":"0x"#));
    }

    #[test]
    fn views_are_shared_and_byte_identical() {
        let mut cache = BodyCache::new(params(), 8);
        let a = cache.get(CANONICAL, 10);
        let b = cache.get(CANONICAL, 10);
        assert!(Rc::ptr_eq(&a, &b), "built once");
        let mut other = BodyCache::new(params(), 8);
        let again = other.get(CANONICAL, 10);
        assert_eq!(again.state, a.state, "deterministic");
        assert_eq!(again.block, a.block);
        assert_eq!(again.fork_choice, a.fork_choice);
        let forked = cache.get(ALTERNATE, 10);
        assert_ne!(forked.state, a.state);
        assert_ne!(forked.block, a.block);
        assert_ne!(forked.justified, a.justified);
        assert_eq!(
            validate_state(&forked.state).unwrap().slot,
            validate_state(&a.state).unwrap().slot
        );
    }

    #[test]
    fn a_flapping_node_serves_each_fork_in_turn() {
        use crate::devnet::chain::{FLAPPING, FLAP_SLOTS};
        let mut cache = BodyCache::new(params(), 64);
        for head in 0..4 * FLAP_SLOTS {
            let flap = cache.get(FLAPPING, head);
            let expected = if (head / FLAP_SLOTS).is_multiple_of(2) {
                CANONICAL
            } else {
                ALTERNATE
            };
            assert_eq!(flap.view.fork, expected, "head {head}");
            assert!(Rc::ptr_eq(&flap, &cache.get(expected, head)), "shared");
        }
        // On the alternate fork: the canonical finalized slot, another root (from slot 1).
        let head = FLAP_SLOTS + 3;
        let (flap, canonical) = (cache.get(FLAPPING, head), cache.get(CANONICAL, head));
        assert_eq!(flap.view.finalized.slot, canonical.view.finalized.slot);
        assert_ne!(flap.view.finalized.root, canonical.view.finalized.root);
        let back = cache.get(FLAPPING, 2 * FLAP_SLOTS);
        assert_eq!(back.view, cache.get(CANONICAL, 2 * FLAP_SLOTS).view);
    }

    #[test]
    fn old_views_are_pruned() {
        let mut cache = BodyCache::new(params(), 3);
        for head in 0..=10 {
            cache.get(CANONICAL, head);
            cache.get(ALTERNATE, head);
        }
        // Heads 7..=10 of both forks.
        assert_eq!(cache.len(), 8);
        let lagging = cache.get(CANONICAL, 7);
        assert_eq!(lagging.view.head.slot, 7);
        assert_eq!(cache.len(), 8, "still held, not rebuilt");
        // A pruned view comes back identical.
        let old = cache.get(CANONICAL, 2);
        assert_eq!(
            old.view.finalized.root,
            cache.chain(CANONICAL).block_root(0)
        );
    }

    #[test]
    fn state_grows_with_the_chain() {
        let mut cache = BodyCache::new(params(), 8);
        let small = cache.get(CANONICAL, 13).state.len();
        let large = cache.get(CANONICAL, 14).state.len();
        assert_eq!(large - small, 32);
    }
}
