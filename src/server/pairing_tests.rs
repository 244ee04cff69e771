//! Tests of the pairing of block and state across a finalization advance.

use super::*;
use crate::lean::Checkpoint;
use crate::server::router::fixtures::bundle;

fn cp(slot: u64, root: u8) -> Checkpoint {
    Checkpoint {
        slot,
        root: [root; 32],
    }
}

fn ip(last: u8) -> Option<IpAddr> {
    Some(IpAddr::from([10, 0, 0, last]))
}

#[test]
fn the_second_half_comes_from_the_bundle_of_the_first_across_an_advance() {
    let mut p = Pairing::default();
    let old = bundle(cp(10, 1));
    let new = bundle(cp(11, 2));
    // Block of the old bundle, then the bundle advances, then the state.
    assert!(Rc::ptr_eq(
        &p.choose(ip(1), Half::Block, 0, &old, None),
        &old
    ));
    assert!(Rc::ptr_eq(
        &p.choose(ip(1), Half::State, 500, &new, Some(&old)),
        &old
    ));
    // The pair is complete: the next sync gets the newest bundle.
    assert!(Rc::ptr_eq(
        &p.choose(ip(1), Half::Block, 600, &new, Some(&old)),
        &new
    ));
    assert!(Rc::ptr_eq(
        &p.choose(ip(1), Half::State, 700, &new, Some(&old)),
        &new
    ));
    assert!(p.is_empty());
}

#[test]
fn other_clients_the_same_half_twice_and_late_halves_get_the_current_bundle() {
    let mut p = Pairing::default();
    let old = bundle(cp(10, 1));
    let new = bundle(cp(11, 2));
    p.choose(ip(1), Half::Block, 0, &old, None);
    // Another client is not paired with it.
    assert!(Rc::ptr_eq(
        &p.choose(ip(2), Half::State, 10, &new, Some(&old)),
        &new
    ));
    // The same half again starts a new pair.
    assert!(Rc::ptr_eq(
        &p.choose(ip(1), Half::Block, 20, &new, Some(&old)),
        &new
    ));
    // State first, then the block after PAIR_MS: the current one.
    p.choose(ip(3), Half::State, 0, &old, None);
    assert!(Rc::ptr_eq(
        &p.choose(ip(3), Half::Block, PAIR_MS + 1, &new, Some(&old)),
        &new
    ));
    // A pin to a bundle no longer held: the current one.
    let newer = bundle(cp(12, 3));
    p.choose(ip(4), Half::Block, 0, &old, None);
    assert!(Rc::ptr_eq(
        &p.choose(ip(4), Half::State, 5, &newer, Some(&new)),
        &newer
    ));
    // Without a client address there is no pairing.
    assert!(Rc::ptr_eq(
        &p.choose(None, Half::State, 5, &newer, Some(&new)),
        &newer
    ));
}

#[test]
fn at_most_max_clients_are_remembered() {
    let mut p = Pairing::default();
    let b = bundle(cp(10, 1));
    for i in 0..(MAX_CLIENTS as u32 + 500) {
        let client = Some(IpAddr::from(i.to_be_bytes()));
        p.choose(client, Half::Block, 1, &b, None);
    }
    assert!(p.len() <= MAX_CLIENTS, "{}", p.len());
    assert!(p.order.len() <= 2 * MAX_CLIENTS + 1);
    // All expire.
    p.choose(ip(1), Half::Block, 1 + PAIR_MS + 1, &b, None);
    assert_eq!(p.len(), 1);
}
