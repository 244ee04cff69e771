//! `ResponseReader` on arbitrary bytes split at arbitrary points, GET and HEAD, small
//! limits. Checks: no panic; feeding in pieces gives the same outcome (response, where
//! it ended, or error) as feeding the whole input at once; `consumed` stays within the
//! piece; bodies respect the limit and are empty for HEAD; a spent reader refuses input.
#![no_main]

use leanpoint::http1::response::{
    ReadProgress, Response, ResponseError, ResponseLimits, ResponseReader,
};
use libfuzzer_sys::fuzz_target;

#[path = "../common/split.rs"]
mod split;

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Complete after `end` bytes of the whole input.
    Complete {
        response: Response,
        end: usize,
    },
    /// All input taken; what `eof` said.
    Eof(Result<Response, ResponseError>),
    Failed(ResponseError),
}

fn run(limits: ResponseLimits, head_request: bool, pieces: &[&[u8]]) -> Outcome {
    let mut reader = ResponseReader::new(limits, head_request);
    let mut offset = 0;
    for piece in pieces {
        match reader.feed(piece) {
            Ok(ReadProgress::Partial) => offset += piece.len(),
            Ok(ReadProgress::Complete { response, consumed }) => {
                assert!(consumed <= piece.len(), "consumed past the input");
                // A spent reader refuses everything.
                assert_eq!(reader.feed(b"x"), Err(ResponseError::BadHead));
                assert_eq!(reader.eof(), Err(ResponseError::ClosedEarly));
                return Outcome::Complete {
                    response,
                    end: offset + consumed,
                };
            }
            Err(e) => {
                assert_eq!(reader.feed(b"x"), Err(ResponseError::BadHead));
                return Outcome::Failed(e);
            }
        }
    }
    let eof = reader.eof();
    // eof is final too.
    assert_eq!(reader.eof(), Err(ResponseError::ClosedEarly));
    Outcome::Eof(eof)
}

fn check_response(r: &Response, limits: &ResponseLimits, head_request: bool) {
    assert!((200..=999).contains(&r.status), "status {}", r.status);
    assert!(r.body.len() <= limits.max_body_bytes, "body over the limit");
    if head_request || r.status == 204 || r.status == 304 {
        assert!(r.body.is_empty(), "body on a bodiless response");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = split::Input::new(data);
    let flags = input.byte();
    let limits = ResponseLimits {
        max_head_bytes: 16 + usize::from(input.byte()) * 8,
        max_headers: usize::from(input.byte() % 33),
        max_body_bytes: usize::from(input.byte()) * 16,
    };
    let head_request = flags & 1 == 1;
    let cuts = input.cuts();
    let data = input.data();

    let pieces = split::pieces(data, &cuts);
    let split = run(limits, head_request, &pieces);
    let whole = run(limits, head_request, &[data]);
    assert_eq!(split, whole, "split {:?} vs whole", cuts);
    match &whole {
        Outcome::Complete { response, end } => {
            assert!(*end <= data.len());
            check_response(response, &limits, head_request);
        }
        Outcome::Eof(Ok(response)) => check_response(response, &limits, head_request),
        Outcome::Eof(Err(_)) | Outcome::Failed(_) => {}
    }
    // A byte at a time is one more split.
    let bytes: Vec<&[u8]> = data.chunks(1).collect();
    if data.len() <= 4096 {
        assert_eq!(run(limits, head_request, &bytes), whole, "byte at a time");
    }
});
