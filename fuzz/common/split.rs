//! Input layout shared by the fuzz targets: a few parameter bytes, then split points,
//! then the data. Everything is derived from the fuzzer's bytes so that libFuzzer's
//! mutations reach the parameters too; missing bytes read as zero.
#![allow(dead_code)] // each target uses only part of this

/// Reads parameter bytes off the front of the input.
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    /// The next byte (0 once the input is exhausted).
    pub fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    /// Piece lengths: one byte `n` (0..=15 pieces before the tail), then `n` bytes each
    /// giving the length of one piece (0..=255; zero-length pieces are fed too).
    pub fn cuts(&mut self) -> Vec<usize> {
        let n = self.byte() % 16;
        (0..n).map(|_| usize::from(self.byte())).collect()
    }

    /// The rest of the input.
    pub fn data(self) -> &'a [u8] {
        self.rest
    }
}

/// `data` cut into pieces of the given lengths (clamped to what is left), then the tail.
pub fn pieces<'a>(data: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut rest = data;
    for &len in cuts {
        let (piece, tail) = rest.split_at(len.min(rest.len()));
        out.push(piece);
        rest = tail;
    }
    out.push(rest);
    out
}
