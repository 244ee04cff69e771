//! The body of a response being read. Bytes are appended to a `Vec`, except while they
//! equal a reference body the caller already holds (the agreed state, say): then they
//! are only compared and counted, so a body identical to one in memory is never held
//! twice, not even while it downloads. At the first differing byte the matched prefix
//! is copied from the reference and the body is stored from there on. A discarding sink
//! only counts: its bytes go to the reader's tap (a hasher, say) and nowhere else.

use std::rc::Rc;

/// A shared body to compare against.
pub type Reference = Rc<dyn AsRef<[u8]>>;

/// Accumulates one body.
#[derive(Default)]
pub struct BodySink {
    bytes: Vec<u8>,
    reference: Option<Reference>,
    /// Bytes received so far that equal the reference's prefix (while still matching).
    matched: usize,
    /// The announced length (Content-Length), reserved at once if the body diverges.
    expected: usize,
    /// Count the bytes, keep none.
    discard: bool,
    /// Bytes counted while discarding.
    discarded: usize,
}

impl std::fmt::Debug for BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySink")
            .field("stored", &self.bytes.len())
            .field("matching_reference", &self.reference.is_some())
            .field("matched", &self.matched)
            .finish()
    }
}

impl BodySink {
    /// Compares against `reference` while the body matches it.
    pub fn with_reference(reference: Option<Reference>) -> Self {
        BodySink {
            bytes: Vec::new(),
            reference,
            matched: 0,
            expected: 0,
            discard: false,
            discarded: 0,
        }
    }

    /// Counts the body's bytes without keeping any.
    pub fn discarding() -> Self {
        BodySink {
            discard: true,
            ..Self::default()
        }
    }

    /// Body bytes received so far.
    pub fn len(&self) -> usize {
        if self.discard {
            self.discarded
        } else if self.reference.is_some() {
            self.matched
        } else {
            self.bytes.len()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reserves room for `n` bytes (only when storing: a matching body needs none).
    pub fn reserve(&mut self, n: usize) {
        self.expected = n;
        if self.reference.is_none() && !self.discard {
            self.bytes.reserve_exact(n);
        }
    }

    /// The Vec to write into directly, once not comparing (None while comparing).
    pub fn storing(&mut self) -> Option<&mut Vec<u8>> {
        match self.reference {
            None if !self.discard => Some(&mut self.bytes),
            _ => None,
        }
    }

    /// Appends `data`.
    pub fn push(&mut self, data: &[u8]) {
        if self.discard {
            self.discarded = self.discarded.saturating_add(data.len());
            return;
        }
        if let Some(reference) = &self.reference {
            let held = (**reference).as_ref();
            let end = self.matched.saturating_add(data.len());
            if held.get(self.matched..end) == Some(data) {
                self.matched = end;
                return;
            }
            // Diverged: materialise the matched prefix and store from here on.
            self.bytes
                .reserve_exact(self.expected.max(self.matched + data.len()));
            self.bytes
                .extend_from_slice(held.get(..self.matched).unwrap_or_default());
            self.reference = None;
        }
        self.bytes.extend_from_slice(data);
    }

    /// The body: `(bytes, true)` when it equalled the whole reference (bytes then empty:
    /// the caller already holds them), else the stored bytes and `false`.
    pub fn finish(&mut self) -> (Vec<u8>, bool) {
        match self.reference.take() {
            Some(reference) => {
                let held = (*reference).as_ref();
                if self.matched == held.len() {
                    (Vec::new(), true)
                } else {
                    // A strict prefix of the reference: a different (shorter) body.
                    (held.get(..self.matched).unwrap_or_default().to_vec(), false)
                }
            }
            None => (std::mem::take(&mut self.bytes), false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(bytes: &[u8]) -> Option<Reference> {
        Some(Rc::new(bytes.to_vec()))
    }

    #[test]
    fn a_body_equal_to_the_reference_is_not_stored() {
        let mut sink = BodySink::with_reference(reference(b"hello world"));
        for part in [&b"hel"[..], b"lo ", b"world"] {
            sink.push(part);
        }
        assert_eq!(sink.len(), 11);
        assert_eq!(sink.bytes.capacity(), 0, "nothing was stored");
        assert_eq!(sink.finish(), (Vec::new(), true));
    }

    #[test]
    fn divergence_materialises_the_prefix() {
        let mut sink = BodySink::with_reference(reference(b"hello world"));
        sink.push(b"hello ");
        sink.push(b"there");
        assert_eq!(sink.finish(), (b"hello there".to_vec(), false));
    }

    #[test]
    fn longer_and_shorter_bodies_are_not_the_reference() {
        let mut longer = BodySink::with_reference(reference(b"abc"));
        longer.push(b"abcd");
        assert_eq!(longer.finish(), (b"abcd".to_vec(), false));
        let mut longer_later = BodySink::with_reference(reference(b"abc"));
        longer_later.push(b"abc");
        longer_later.push(b"d");
        assert_eq!(longer_later.finish(), (b"abcd".to_vec(), false));
        let mut shorter = BodySink::with_reference(reference(b"abc"));
        shorter.push(b"ab");
        assert_eq!(shorter.finish(), (b"ab".to_vec(), false));
    }

    #[test]
    fn a_discarding_sink_counts_and_keeps_nothing() {
        let mut sink = BodySink::discarding();
        sink.reserve(1 << 20);
        assert!(sink.storing().is_none());
        sink.push(b"abc");
        sink.push(b"de");
        assert_eq!(sink.len(), 5);
        assert_eq!(sink.bytes.capacity(), 0);
        assert_eq!(sink.finish(), (Vec::new(), false));
    }

    #[test]
    fn without_a_reference_bytes_are_stored() {
        let mut sink = BodySink::with_reference(None);
        sink.push(b"x");
        sink.storing().unwrap().extend_from_slice(b"yz");
        assert_eq!(sink.finish(), (b"xyz".to_vec(), false));
    }
}
