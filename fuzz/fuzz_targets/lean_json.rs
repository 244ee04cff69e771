//! The lean API JSON parsers on arbitrary bytes: `parse_checkpoint`, `parse_fork_choice`
//! and `parse_root`. Checks: no panic; an accepted fork choice has a head slot only when
//! some node carries the head root; a root that parses prints back (lowercase) to an
//! input that parses to the same root.
#![no_main]

use leanpoint::lean::json::{parse_checkpoint, parse_fork_choice, parse_root};
use leanpoint::lean::root_hex;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cp) = parse_checkpoint(data) {
        assert_eq!(parse_root(&root_hex(&cp.root)), Ok(cp.root));
    }
    if let Ok(fc) = parse_fork_choice(data) {
        if fc.head_slot.is_some() {
            assert!(fc.node_count > 0);
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(root) = parse_root(s) {
            assert_eq!(root_hex(&root), s.to_ascii_lowercase());
        }
        // The error echo cuts on a character boundary whatever the input.
        let _ = parse_root(s).map_err(|e| e.to_string());
    }
});
