use super::*;
use crate::lean::root_hex;

const LIVE: &[u8] = include_bytes!("../../../tests/fixtures/lean-api/live/states_finalized.ssz");

#[test]
fn live_state_root() {
    let r = state_roots(LIVE).unwrap();
    assert_eq!(
        root_hex(&r.state_root),
        "0xc4d21c0ccbf6e382ed1ca852d0b0c33ff88768ba63db133b90b604d5c0f6eb01"
    );
    assert_eq!(
        root_hex(&r.block_root),
        "0x9f657880d54001cdfcd3cab094c0324a6d6d6e95f14a5426acb1098eeed0a8bf"
    );
}
