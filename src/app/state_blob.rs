//! A state as fetched from an upstream: its bytes held once (shared by every upstream
//! that sent identical bytes and every connection downloading it), its SHA-256 digest,
//! the `ETag` derived from it, and the fields read from it.

use crate::lean::ssz::StateSummary;
use sha2::{Digest, Sha256};

#[derive(Debug)]
pub struct StateBlob {
    pub bytes: Box<[u8]>,
    pub digest: [u8; 32],
    /// Quoted strong ETag: `"0x<digest hex>"`.
    pub etag: String,
    pub summary: StateSummary,
}

impl StateBlob {
    pub fn new(bytes: Vec<u8>, summary: StateSummary) -> Self {
        let digest = digest_of(&bytes);
        Self::with_digest(bytes, summary, digest)
    }

    /// Wraps bytes whose digest is already known.
    pub fn with_digest(bytes: Vec<u8>, summary: StateSummary, digest: [u8; 32]) -> Self {
        let etag = format!("\"{}\"", crate::lean::root_hex(&digest));
        StateBlob {
            bytes: bytes.into_boxed_slice(),
            digest,
            etag,
            summary,
        }
    }
}

impl AsRef<[u8]> for StateBlob {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// SHA-256 of `bytes`.
pub fn digest_of(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}
