//! Tests of the simulated chain: timing, and roots that a client recomputes from the
//! bytes (`lean::lstar`) to the same values.

use super::*;
use crate::devnet::state::tests::full_state_root;
use crate::lean::lstar::state_roots;

fn params() -> ChainParams {
    ChainParams {
        genesis_time: 1_700_000_000,
        slot_ms: 300,
        start_slot: 4,
        validators: 4,
    }
}

fn chain(fork: u64) -> ForkChain {
    let p = params();
    ForkChain::new(p, fork, Rc::new(StateConstants::new(&p)))
}

#[test]
fn head_advances_one_slot_per_slot_ms() {
    let p = params();
    assert_eq!(p.head_at(0), 4);
    assert_eq!(p.head_at(299), 4);
    assert_eq!(p.head_at(300), 5);
    assert_eq!(p.head_at(3_000), 14);
    assert_eq!(p.next_slot_at(4), 300);
    assert_eq!(p.next_slot_at(14), 3_300);
    assert_eq!(p.head_at(p.next_slot_at(9)), 10);
}

#[test]
fn a_late_node_sees_each_slot_late_ms_after() {
    let p = params();
    // 200 ms late at 300 ms slots: behind during the first 200 ms of each slot.
    assert_eq!(p.late_head_at(0, 200), 3);
    assert_eq!(p.late_head_at(199, 200), 3);
    assert_eq!(p.late_head_at(200, 200), 4);
    assert_eq!(p.late_head_at(299, 200), 4);
    assert_eq!(p.late_head_at(300, 200), 4);
    assert_eq!(p.late_head_at(499, 200), 4);
    assert_eq!(p.late_head_at(500, 200), 5);
    for t in (0..3_000).step_by(7) {
        let (late, on_time) = (p.late_head_at(t, 200), p.head_at(t));
        let in_window = t % 300 < 200;
        assert_eq!(late + u64::from(in_window), on_time, "at {t} ms");
    }
    // More than a slot late; never below genesis; not late at all.
    assert_eq!(p.late_head_at(0, 700), 1);
    assert_eq!(p.late_head_at(0, 60_000), 0);
    assert_eq!(p.late_head_at(1234, 0), p.head_at(1234));
}

#[test]
fn roots_are_hash_tree_roots_a_client_recomputes() {
    for fork in [CANONICAL, ALTERNATE] {
        let mut c = chain(fork);
        for slot in 0..40u64 {
            let bytes = c.encode_state(slot);
            let state_root = c.state_root(slot);
            let roots = state_roots(&bytes).expect("lstar reads the state");
            assert_eq!(roots.state_root, state_root, "fork {fork} slot {slot}");
            assert_eq!(full_state_root(&bytes), state_root);
            assert_eq!(roots.block_root, c.block_root(slot), "header in the state");
            let parent = match slot {
                0 => [0; 32],
                s => c.block_root(s - 1),
            };
            let expected = header_root(
                slot,
                params().proposer(slot),
                &parent,
                &state_root,
                &empty_body_root(),
            );
            assert_eq!(c.block_root(slot), expected);
            let (header, header_state_root) = c.header(slot);
            assert_eq!(header.parent_root, parent);
            assert_eq!(header_state_root, state_root);
        }
    }
}

#[test]
fn forks_share_genesis_then_differ() {
    let (mut a, mut b) = (chain(CANONICAL), chain(ALTERNATE));
    assert_eq!(a.block_root(0), b.block_root(0));
    for slot in 1..10 {
        assert_ne!(a.block_root(slot), b.block_root(slot), "slot {slot}");
        assert_ne!(a.encode_state(slot), b.encode_state(slot));
    }
    let mut again = chain(CANONICAL);
    assert_eq!(again.block_root(9), a.block_root(9), "deterministic");
    assert_eq!(again.encode_state(9), a.encode_state(9));
}

#[test]
fn checkpoints_trail_the_head_with_true_roots() {
    let mut c = chain(CANONICAL);
    let v = c.view(21);
    assert_eq!(
        (v.head.slot, v.justified.slot, v.finalized.slot),
        (21, 19, 18)
    );
    assert_eq!(v.head.root, c.block_root(21));
    assert_eq!(v.justified.root, c.block_root(19));
    assert_eq!(v.finalized.root, c.block_root(18));
    // The post-state at 18 names the checkpoints of its own time.
    let summary = state_roots(&c.encode_state(18)).unwrap().summary;
    assert_eq!(summary.slot, 18);
    assert_eq!(summary.latest_justified.slot, 16);
    assert_eq!(summary.latest_justified.root, c.block_root(16));
    assert_eq!(summary.latest_finalized.root, c.block_root(15));
    let genesis = chain(ALTERNATE).view(1);
    assert_eq!((genesis.justified.slot, genesis.finalized.slot), (0, 0));
    assert_eq!(genesis.finalized.root, chain(CANONICAL).block_root(0));
    let g = state_roots(&c.encode_state(0)).unwrap().summary;
    assert_eq!(g.latest_finalized.root, [0; 32], "genesis names no block");
}

#[test]
fn a_long_history_is_computed_once_and_stays_true() {
    let mut c = chain(ALTERNATE);
    c.extend_to(5_000);
    assert_eq!(c.roots().len(), 5_001);
    let bytes = c.encode_state(5_000);
    let roots = state_roots(&bytes).unwrap();
    assert_eq!(roots.state_root, c.state_root(5_000));
    assert_eq!(roots.block_root, c.block_root(5_000));
    // Asking again computes nothing new.
    c.extend_to(100);
    assert_eq!(c.roots().len(), 5_001);
}

#[test]
fn proposers_rotate() {
    let p = params();
    assert_eq!(
        (0..6).map(|s| p.proposer(s)).collect::<Vec<_>>(),
        [0, 1, 2, 3, 0, 1]
    );
}

#[test]
fn a_flapping_tag_alternates_between_the_forks() {
    let forks: Vec<u64> = (0..FLAP_SLOTS * 4)
        .step_by(FLAP_SLOTS as usize / 2)
        .map(|head| fork_at(FLAPPING, head))
        .collect();
    assert_eq!(
        forks,
        [CANONICAL, CANONICAL, ALTERNATE, ALTERNATE, CANONICAL, CANONICAL, ALTERNATE, ALTERNATE]
    );
    assert_eq!(fork_at(FLAPPING, FLAP_SLOTS - 1), CANONICAL);
    assert_eq!(fork_at(FLAPPING, FLAP_SLOTS), ALTERNATE);
    for head in [0, 5, 1_000_000] {
        assert_eq!(fork_at(CANONICAL, head), CANONICAL);
        assert_eq!(fork_at(ALTERNATE, head), ALTERNATE);
    }
}
