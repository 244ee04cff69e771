//! The body of a response being read: appended to a `Vec`, or, for a discarding sink,
//! only counted (its bytes reach the caller through the reader's tap alone, a hasher
//! say, so a body that is only hashed is never held).

/// Accumulates one body.
#[derive(Default)]
pub struct BodySink {
    bytes: Vec<u8>,
    /// Count the bytes, keep none.
    discard: bool,
    /// Bytes counted while discarding.
    discarded: usize,
}

impl std::fmt::Debug for BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySink")
            .field("stored", &self.bytes.len())
            .field("discard", &self.discard)
            .field("discarded", &self.discarded)
            .finish()
    }
}

impl BodySink {
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
        } else {
            self.bytes.len()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reserves room for `n` bytes (only when storing).
    pub fn reserve(&mut self, n: usize) {
        if !self.discard {
            self.bytes.reserve_exact(n);
        }
    }

    /// The Vec to write into directly (None while discarding).
    pub fn storing(&mut self) -> Option<&mut Vec<u8>> {
        (!self.discard).then_some(&mut self.bytes)
    }

    /// Appends `data` (counts it when discarding).
    pub fn push(&mut self, data: &[u8]) {
        if self.discard {
            self.discarded = self.discarded.saturating_add(data.len());
        } else {
            self.bytes.extend_from_slice(data);
        }
    }

    /// The stored bytes (empty when discarding).
    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_discarding_sink_counts_and_keeps_nothing() {
        let mut sink = BodySink::discarding();
        sink.reserve(1 << 20);
        assert!(sink.storing().is_none());
        sink.push(b"abc");
        sink.push(b"de");
        assert_eq!(sink.len(), 5);
        assert_eq!(sink.bytes.capacity(), 0);
        assert_eq!(sink.finish(), Vec::<u8>::new());
    }

    #[test]
    fn a_storing_sink_keeps_every_byte() {
        let mut sink = BodySink::default();
        sink.push(b"x");
        sink.storing().unwrap().extend_from_slice(b"yz");
        assert_eq!(sink.len(), 3);
        assert_eq!(sink.finish(), b"xyz".to_vec());
    }
}
