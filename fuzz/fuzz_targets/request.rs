//! `parse_request` on arbitrary bytes with small limits. Checks: no panic; a complete
//! head has `head_len` within the input and the limit; the result does not change when
//! bytes are appended or when the input is cut right after the head; an incomplete
//! head is only reported below the limit; pipelined heads parse one after the other.
#![no_main]

use leanpoint::http1::request::{parse_request, RequestLimits};
use libfuzzer_sys::fuzz_target;

#[path = "../common/split.rs"]
mod split;

fuzz_target!(|data: &[u8]| {
    let mut input = split::Input::new(data);
    let limits = RequestLimits {
        max_head_bytes: 8 + usize::from(input.byte()) * 8,
        max_headers: usize::from(input.byte() % 80),
    };
    let extra_len = usize::from(input.byte());
    let data = input.data();
    // What gets appended: a slice of the input itself (likely to look like HTTP).
    let extra = &data[..extra_len.min(data.len())];

    let mut pos = 0;
    // Pipelined requests, each parsed from where the previous head ended.
    for _ in 0..16 {
        let buf = &data[pos..];
        let result = parse_request(buf, &limits);
        let mut longer = buf.to_vec();
        longer.extend_from_slice(extra);
        longer.extend_from_slice(b"GET / HTTP/1.1\r\n\r\n");
        match result {
            Ok(Some(req)) => {
                assert!(req.head_len > 0 && req.head_len <= buf.len());
                assert!(req.head_len <= limits.max_head_bytes);
                assert!(req.minor_version <= 1);
                assert_eq!(parse_request(&longer, &limits), Ok(Some(req.clone())));
                assert_eq!(
                    parse_request(&buf[..req.head_len], &limits),
                    Ok(Some(req.clone()))
                );
                pos += req.head_len;
            }
            Ok(None) => {
                assert!(buf.len() < limits.max_head_bytes);
                break;
            }
            Err(e) => {
                assert!(matches!(e.status(), 400 | 413 | 431));
                break;
            }
        }
    }
});
