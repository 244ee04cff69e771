//! Incremental decoder for `Transfer-Encoding: chunked` bodies: chunk sizes in hex, chunk
//! extensions ignored, trailers read and discarded, strict CRLF framing, a body cap.

use super::response::ResponseError;

/// Decoder state across calls.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    max_body_bytes: usize,
}

/// Result of one `decode` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkProgress {
    /// Bytes of `input` consumed.
    pub consumed: usize,
    /// True when the final chunk and trailers have been read.
    pub done: bool,
}

impl ChunkedDecoder {
    pub fn new(max_body_bytes: usize) -> Self {
        ChunkedDecoder { max_body_bytes }
    }

    /// Decodes from `input`, appending body bytes to `out`. Bytes not consumed must be
    /// offered again with more input appended (only happens when `done`).
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<ChunkProgress, ResponseError> {
        let _ = (input, out, self.max_body_bytes);
        todo!()
    }
}
