//! Timer entries and the doubly linked lists threaded through the wheel's slab by key.
//!
//! No pointers and no `unsafe`: `prev`/`next` are slab keys, `NIL` ends a list. Every
//! entry records which list holds it (`Place`) so it can be unlinked in O(1).

use slab::Slab;

/// The "no entry" link.
pub(super) const NIL: usize = usize::MAX;

/// Which list an entry is linked into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Due: the deadline is at or before the wheel's current time.
    Pending,
    /// Beyond the range of the top level (differs from the current time above bit 36).
    Overflow,
    /// Slot `slot` of level `level`.
    Slot { level: u8, slot: u8 },
}

/// One armed timer.
pub(super) struct Entry<T> {
    pub(super) deadline: u64,
    pub(super) generation: u64,
    pub(super) value: T,
    pub(super) place: Place,
    pub(super) prev: usize,
    pub(super) next: usize,
}

/// Head and tail of one list (FIFO: pushed at the tail, walked from the head).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct List {
    pub(super) head: usize,
    pub(super) tail: usize,
}

impl List {
    pub(super) const EMPTY: List = List {
        head: NIL,
        tail: NIL,
    };

    pub(super) fn is_empty(&self) -> bool {
        self.head == NIL
    }

    /// Appends `key` (which must not be linked anywhere) at the tail.
    pub(super) fn push_back<T>(&mut self, slab: &mut Slab<Entry<T>>, key: usize) {
        let old_tail = self.tail;
        if let Some(e) = slab.get_mut(key) {
            e.prev = old_tail;
            e.next = NIL;
        }
        match slab.get_mut(old_tail) {
            Some(t) => t.next = key,
            None => self.head = key,
        }
        self.tail = key;
    }

    /// Removes `key` (which must be linked in this list).
    pub(super) fn unlink<T>(&mut self, slab: &mut Slab<Entry<T>>, key: usize) {
        let (prev, next) = match slab.get_mut(key) {
            Some(e) => {
                let links = (e.prev, e.next);
                e.prev = NIL;
                e.next = NIL;
                links
            }
            None => return,
        };
        match slab.get_mut(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match slab.get_mut(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    /// Detaches the whole chain and returns its head; walk it with `next` (read each
    /// entry's `next` before relinking it elsewhere).
    pub(super) fn take(&mut self) -> usize {
        let head = self.head;
        *self = List::EMPTY;
        head
    }
}

/// The `next` link of `key`, or `NIL`.
pub(super) fn next_of<T>(slab: &Slab<Entry<T>>, key: usize) -> usize {
    slab.get(key).map_or(NIL, |e| e.next)
}

/// Iterates the keys of a list (or a detached chain) starting at `head`.
pub(super) fn keys<T>(slab: &Slab<Entry<T>>, head: usize) -> impl Iterator<Item = usize> + '_ {
    std::iter::successors((head != NIL).then_some(head), move |&k| {
        let n = next_of(slab, k);
        (n != NIL).then_some(n)
    })
}
