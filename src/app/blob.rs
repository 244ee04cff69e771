//! Bytes served as one body (the verified block or state): held once, shared by every
//! connection that downloads them, with the quoted `ETag` derived from a digest that
//! names every byte: the state's hash tree root (SSZ is canonical, so the root commits
//! to the bytes), or the SHA-256 of a signed block (its block root does not cover the
//! proof).

use crate::lean::{root_hex, Root};

#[derive(Debug)]
pub struct Blob {
    pub bytes: Box<[u8]>,
    /// The digest that names these bytes.
    pub digest: Root,
    /// Quoted strong ETag: `"0x<digest hex>"`.
    pub etag: String,
}

impl Blob {
    pub fn new(bytes: Vec<u8>, digest: Root) -> Self {
        Blob {
            bytes: bytes.into_boxed_slice(),
            digest,
            etag: format!("\"{}\"", root_hex(&digest)),
        }
    }
}

impl AsRef<[u8]> for Blob {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}
