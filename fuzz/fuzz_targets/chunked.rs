//! `ChunkedDecoder` on arbitrary bytes split at arbitrary points, with a small body cap.
//! Checks: no panic; `consumed` is the whole piece until done; split and whole decoding
//! agree; and both agree with a straightforward non-incremental reference decoder
//! (body, end of the message, or the error) written from the grammar in chunked.rs.
#![no_main]

use leanpoint::http1::chunked::{ChunkedDecoder, MAX_SIZE_LINE_BYTES, MAX_TRAILER_BYTES};
use leanpoint::http1::response::ResponseError;
use libfuzzer_sys::fuzz_target;

#[path = "../common/split.rs"]
mod split;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Done {
        body: Vec<u8>,
        end: usize,
    },
    /// All input consumed, more needed; the body bytes decoded so far.
    Incomplete(Vec<u8>),
    Failed(ResponseError),
}

fn run(max: usize, pieces: &[&[u8]]) -> Outcome {
    let mut decoder = ChunkedDecoder::new(max);
    let mut body = Vec::new();
    let mut offset = 0;
    for piece in pieces {
        match decoder.decode(piece, &mut body) {
            Ok(p) => {
                assert!(p.consumed <= piece.len());
                assert_eq!(p.done, decoder.is_done());
                assert_eq!(decoder.decoded_len(), body.len() as u64);
                assert!(body.len() <= max);
                if p.done {
                    return Outcome::Done {
                        body,
                        end: offset + p.consumed,
                    };
                }
                assert_eq!(p.consumed, piece.len(), "stopped early without being done");
                offset += piece.len();
            }
            Err(e) => return Outcome::Failed(e),
        }
    }
    Outcome::Incomplete(body)
}

/// The grammar, decoded in one pass over the whole input: `1*16HEXDIG *(SP/HTAB)
/// [";" ext] CR LF` (line up to CR at most MAX_SIZE_LINE_BYTES), data, CR LF, ...; after
/// the `0` line, trailer lines without bare LF, then CR LF (trailer bytes up to the final
/// CR at most MAX_TRAILER_BYTES).
fn reference(input: &[u8], max: usize) -> Outcome {
    use ResponseError::{BadChunk, BodyTooLarge};
    let mut body = Vec::new();
    let mut i = 0;
    loop {
        // Size line: find where it stops being valid.
        let line = &input[i..];
        let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        let mut j = digits;
        let mut bad = digits == 0 || digits > 16;
        let mut cr = None;
        if digits > 16 {
            j = 16; // the 17th digit is the bad byte
        } else if digits > 0 {
            j += line[j..]
                .iter()
                .take_while(|&&b| b == b' ' || b == b'\t')
                .count();
            if line.get(j) == Some(&b';') {
                j += 1 + line[j + 1..]
                    .iter()
                    .take_while(|&&b| b != b'\r' && b != b'\n')
                    .count();
            }
            match line.get(j) {
                Some(b'\r') => cr = Some(j),
                Some(_) => bad = true,
                None => {}
            }
        }
        // Bytes of the line the decoder looked at (the bad byte or CR included).
        let seen = if bad || cr.is_some() { j + 1 } else { j };
        let seen = seen.min(line.len());
        if seen > MAX_SIZE_LINE_BYTES {
            return Outcome::Failed(BadChunk);
        }
        if bad && j < line.len() {
            return Outcome::Failed(BadChunk);
        }
        let Some(cr) = cr else {
            return Outcome::Incomplete(body);
        };
        match line.get(cr + 1) {
            None => return Outcome::Incomplete(body),
            Some(b'\n') => {}
            Some(_) => return Outcome::Failed(BadChunk),
        }
        let size = u64::from_str_radix(std::str::from_utf8(&line[..digits]).unwrap(), 16).unwrap();
        i += cr + 2;
        if size == 0 {
            break;
        }
        if (body.len() as u64)
            .checked_add(size)
            .is_none_or(|t| t > max as u64)
        {
            return Outcome::Failed(BodyTooLarge);
        }
        let size = size as usize;
        let data = &input[i..];
        if data.len() < size {
            body.extend_from_slice(data);
            return Outcome::Incomplete(body);
        }
        body.extend_from_slice(&data[..size]);
        i += size;
        for want in [b'\r', b'\n'] {
            match input.get(i) {
                None => return Outcome::Incomplete(body),
                Some(&b) if b == want => i += 1,
                Some(_) => return Outcome::Failed(BadChunk),
            }
        }
    }
    // Trailers.
    let start = i;
    loop {
        // `i` is at the start of a line.
        let counted = |pos: usize| pos + 1 - start > MAX_TRAILER_BYTES;
        match input.get(i) {
            None => return Outcome::Incomplete(body),
            Some(_) if counted(i) => return Outcome::Failed(BadChunk),
            Some(b'\r') => {
                return match input.get(i + 1) {
                    None => Outcome::Incomplete(body),
                    Some(b'\n') => Outcome::Done { body, end: i + 2 },
                    Some(_) => Outcome::Failed(BadChunk),
                }
            }
            Some(b'\n') => return Outcome::Failed(BadChunk),
            Some(_) => {}
        }
        let len = input[i..]
            .iter()
            .take_while(|&&b| b != b'\r' && b != b'\n')
            .count();
        let stop = i + len; // CR, LF or end
        if stop < input.len() && counted(stop) || stop >= input.len() && counted(input.len() - 1) {
            return Outcome::Failed(BadChunk);
        }
        match input.get(stop) {
            None => return Outcome::Incomplete(body),
            Some(b'\n') => return Outcome::Failed(BadChunk),
            _ => {}
        }
        match input.get(stop + 1) {
            None => return Outcome::Incomplete(body),
            Some(_) if counted(stop + 1) => return Outcome::Failed(BadChunk),
            Some(b'\n') => i = stop + 2,
            Some(_) => return Outcome::Failed(BadChunk),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = split::Input::new(data);
    let max = usize::from(input.byte()) * 16;
    let cuts = input.cuts();
    let data = input.data();

    let whole = run(max, &[data]);
    let split = run(max, &split::pieces(data, &cuts));
    assert_eq!(split, whole, "split {cuts:?} vs whole");
    assert_eq!(reference(data, max), whole, "reference vs decoder");
});
