//! leanSpec's API conformance vectors (src/lean/testdata/), decoded for the unit tests of
//! `lean::ssz` and `lean::lstar`.

/// Decodes the `0x` hex `expectedBody` of a leanSpec API vector.
pub(crate) fn spec_state(json: &str) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    let (_, case) = v.as_object().unwrap().iter().next().unwrap();
    let hex = case["expectedBody"].as_str().unwrap();
    let hex = hex.strip_prefix("0x").unwrap().as_bytes();
    hex.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// The 4-validator genesis state (678 bytes).
pub(crate) fn genesis_4v() -> Vec<u8> {
    spec_state(include_str!("testdata/test_finalized_state_4v.json"))
}

/// The state of the slot-3 anchor vector.
pub(crate) fn state_at_slot_3() -> Vec<u8> {
    spec_state(include_str!("testdata/test_finalized_state_at_slot_3.json"))
}
