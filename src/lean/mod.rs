//! The lean node API, free of I/O: SSZ `State` validation and the JSON bodies
//! (justified checkpoint, fork choice).

pub mod json;
pub mod lstar;
pub mod ssz;
#[cfg(test)]
mod test_vectors;

/// A 32-byte root.
pub type Root = [u8; 32];

/// A (slot, root) checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Checkpoint {
    pub slot: u64,
    pub root: Root,
}

/// Lowercase `0x` hex of a root.
pub fn root_hex(root: &Root) -> String {
    let mut s = String::with_capacity(66);
    s.push_str("0x");
    for b in root {
        s.push(char::from(b"0123456789abcdef"[(b >> 4) as usize]));
        s.push(char::from(b"0123456789abcdef"[(b & 15) as usize]));
    }
    s
}
