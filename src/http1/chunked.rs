//! Incremental decoder for `Transfer-Encoding: chunked` bodies: chunk sizes in hex, chunk
//! extensions ignored, trailers read and discarded, strict CRLF framing, a body cap.
//!
//! A byte-at-a-time state machine for the framing (so input may be split anywhere) and a
//! bulk copy for chunk data. Nothing is buffered internally: the size line and trailers
//! are folded into the state as they arrive, each with its own length limit.

use super::response::ResponseError;

/// Longest chunk-size line accepted (hex digits, whitespace and extensions, before CRLF).
pub const MAX_SIZE_LINE_BYTES: usize = 4 * 1024;
/// Largest trailer section accepted (all trailer lines with their CRLFs).
pub const MAX_TRAILER_BYTES: usize = 8 * 1024;
/// Most hex digits in a chunk size (16 fill a `u64`).
const MAX_SIZE_DIGITS: u8 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the hex digits of a chunk size.
    Size,
    /// After the digits: optional whitespace before `;` or CR.
    SizeWs,
    /// Inside chunk extensions, skipped up to CR.
    Ext,
    /// After the size line's CR: LF expected.
    SizeLf,
    /// Copying chunk data.
    Data,
    /// After chunk data: CR expected.
    DataCr,
    /// After chunk data and CR: LF expected.
    DataLf,
    /// At the start of a trailer line or of the final empty line.
    TrailerStart,
    /// Inside a trailer line, skipped up to CR.
    Trailer,
    /// After a trailer line's CR: LF expected.
    TrailerLf,
    /// After the final empty line's CR: LF expected.
    FinalLf,
    /// The body is complete.
    Done,
}

/// Decoder state across calls.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    max_body_bytes: usize,
    state: State,
    /// Size being parsed (in `Size`), then the chunk's size.
    size: u64,
    digits: u8,
    /// Bytes of the current size line so far.
    line_len: usize,
    /// Data bytes left in the current chunk.
    remaining: u64,
    /// Decoded bytes so far.
    total: u64,
    trailer_len: usize,
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
    /// A decoder that refuses bodies longer than `max_body_bytes` (decoded).
    pub fn new(max_body_bytes: usize) -> Self {
        ChunkedDecoder {
            max_body_bytes,
            state: State::Size,
            size: 0,
            digits: 0,
            line_len: 0,
            remaining: 0,
            total: 0,
            trailer_len: 0,
        }
    }

    /// True once the last chunk and the trailer section have been read.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decoded body bytes so far.
    pub fn decoded_len(&self) -> u64 {
        self.total
    }

    /// Decodes from `input`, appending body bytes to `out`. Bytes not consumed must be
    /// offered again with more input appended (only happens when `done`).
    pub fn decode(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<ChunkProgress, ResponseError> {
        let mut i = 0;
        while i < input.len() {
            if self.state == State::Data {
                let rest = input.get(i..).unwrap_or(&[]);
                let n = usize::try_from(self.remaining).map_or(rest.len(), |r| r.min(rest.len()));
                out.extend_from_slice(rest.get(..n).unwrap_or(&[]));
                i += n;
                self.remaining -= n as u64;
                self.total += n as u64;
                if self.remaining == 0 {
                    self.state = State::DataCr;
                }
                continue;
            }
            if self.state == State::Done {
                break;
            }
            let b = input.get(i).copied().unwrap_or(0);
            i += 1;
            self.step(b)?;
            if self.state == State::Done {
                break;
            }
        }
        Ok(ChunkProgress {
            consumed: i,
            done: self.state == State::Done,
        })
    }

    /// Advances the framing state machine by one byte (any state but `Data` and `Done`).
    fn step(&mut self, b: u8) -> Result<(), ResponseError> {
        use State::*;
        match self.state {
            Size | SizeWs | Ext => {
                self.line_len += 1;
                if self.line_len > MAX_SIZE_LINE_BYTES {
                    return Err(ResponseError::BadChunk);
                }
                self.state = self.size_line_byte(b)?;
            }
            SizeLf => {
                expect(b, b'\n')?;
                self.start_chunk()?;
            }
            DataCr => {
                expect(b, b'\r')?;
                self.state = DataLf;
            }
            DataLf => {
                expect(b, b'\n')?;
                self.state = Size;
                self.size = 0;
                self.digits = 0;
                self.line_len = 0;
            }
            TrailerStart | Trailer | TrailerLf => {
                self.trailer_len += 1;
                if self.trailer_len > MAX_TRAILER_BYTES {
                    return Err(ResponseError::BadChunk);
                }
                self.state = match (self.state, b) {
                    (TrailerStart, b'\r') => FinalLf,
                    (Trailer, b'\r') => TrailerLf,
                    (TrailerStart | Trailer, b'\n') => return Err(ResponseError::BadChunk),
                    (TrailerStart | Trailer, _) => Trailer,
                    (_, b'\n') => TrailerStart,
                    _ => return Err(ResponseError::BadChunk),
                };
            }
            FinalLf => {
                expect(b, b'\n')?;
                self.state = Done;
            }
            Data | Done => {}
        }
        Ok(())
    }

    /// One byte of the chunk-size line: `1*HEXDIG [BWS] *( ";" ext ) CR`.
    fn size_line_byte(&mut self, b: u8) -> Result<State, ResponseError> {
        use State::*;
        let have_digits = self.digits > 0;
        Ok(match (self.state, b) {
            (Size, _) if b.is_ascii_hexdigit() => {
                if self.digits >= MAX_SIZE_DIGITS {
                    return Err(ResponseError::BadChunk);
                }
                self.digits += 1;
                // 16 digits at most: cannot overflow a u64.
                self.size = (self.size << 4) | u64::from(hex_value(b));
                Size
            }
            (Size | SizeWs, b' ' | b'\t') if have_digits => SizeWs,
            (Size | SizeWs, b';') if have_digits => Ext,
            (Size | SizeWs | Ext, b'\r') if have_digits => SizeLf,
            (Ext, b'\n') => return Err(ResponseError::BadChunk),
            (Ext, _) => Ext,
            _ => return Err(ResponseError::BadChunk),
        })
    }

    /// The size line is complete: begin the chunk's data, or the trailers after `0`.
    fn start_chunk(&mut self) -> Result<(), ResponseError> {
        if self.size == 0 {
            self.state = State::TrailerStart;
            return Ok(());
        }
        let cap = u64::try_from(self.max_body_bytes).unwrap_or(u64::MAX);
        match self.total.checked_add(self.size) {
            Some(t) if t <= cap => {}
            _ => return Err(ResponseError::BodyTooLarge),
        }
        self.remaining = self.size;
        self.state = State::Data;
        Ok(())
    }
}

fn expect(b: u8, want: u8) -> Result<(), ResponseError> {
    if b == want {
        Ok(())
    } else {
        Err(ResponseError::BadChunk)
    }
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
#[path = "chunked_tests.rs"]
mod tests;
