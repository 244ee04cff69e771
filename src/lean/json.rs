//! JSON bodies of the lean API, tolerant of key order and extra keys: the justified
//! checkpoint `{"slot","root"}` and the fork-choice summary.
//!
//! Bodies are parsed into a `serde_json::Value` (no derive) and only the fields
//! leanpoint needs are read. Slots are JSON integers; a decimal string (`"19"`, the
//! beacon-API habit) is accepted too. Roots are `0x` and 64 hex digits, either case.

use super::{Checkpoint, Root};
use serde_json::{Map, Value};
use thiserror::Error;

/// Longest part of a bad root echoed back in [`JsonError::Root`].
const ROOT_ECHO_MAX: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JsonError {
    #[error("invalid JSON: {0}")]
    Syntax(String),
    #[error("missing or mistyped field `{0}`")]
    Field(&'static str),
    #[error("bad root `{0}`")]
    Root(String),
}

/// What leanpoint reads of a fork-choice body (the raw body is kept for serving).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkChoiceSummary {
    pub head_root: [u8; 32],
    /// Slot of the node whose root equals `head`, if listed.
    pub head_slot: Option<u64>,
    pub justified: Checkpoint,
    pub finalized: Checkpoint,
    pub node_count: usize,
    pub validator_count: Option<u64>,
}

/// Parses `{"slot":N,"root":"0x…"}` (either key order, extra keys ignored).
pub fn parse_checkpoint(body: &[u8]) -> Result<Checkpoint, JsonError> {
    let value = parse_value(body)?;
    let obj = value.as_object().ok_or(JsonError::Field("checkpoint"))?;
    checkpoint_of(obj)
}

/// Parses a fork-choice body.
///
/// `head`, `justified` and `finalized` are required. `nodes` may be missing or `null`
/// (no nodes); entries that are not `{"root","slot"}` objects are counted but cannot
/// give the head slot. `validator_count` that is missing, `null` or not a
/// non-negative integer is `None`. `safe_target` and other keys are ignored.
pub fn parse_fork_choice(body: &[u8]) -> Result<ForkChoiceSummary, JsonError> {
    let value = parse_value(body)?;
    let obj = value.as_object().ok_or(JsonError::Field("fork_choice"))?;
    let head_root = match obj.get("head") {
        Some(Value::String(s)) => parse_root(s)?,
        _ => return Err(JsonError::Field("head")),
    };
    let justified = nested_checkpoint(obj, "justified")?;
    let finalized = nested_checkpoint(obj, "finalized")?;
    let nodes: &[Value] = match obj.get("nodes") {
        None | Some(Value::Null) => &[],
        Some(Value::Array(nodes)) => nodes,
        Some(_) => return Err(JsonError::Field("nodes")),
    };
    let head_slot = nodes.iter().find_map(|node| {
        let node = node.as_object()?;
        let root = parse_root(node.get("root")?.as_str()?).ok()?;
        if root != head_root {
            return None;
        }
        slot_of(node.get("slot")?)
    });
    Ok(ForkChoiceSummary {
        head_root,
        head_slot,
        justified,
        finalized,
        node_count: nodes.len(),
        validator_count: obj.get("validator_count").and_then(Value::as_u64),
    })
}

/// Parses lowercase or uppercase `0x` hex of exactly 32 bytes.
pub fn parse_root(s: &str) -> Result<[u8; 32], JsonError> {
    let bad = || JsonError::Root(echo(s));
    let hex = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .ok_or_else(bad)?;
    if hex.len() != 64 {
        return Err(bad());
    }
    let mut root: Root = [0; 32];
    for (byte, pair) in root.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let (hi, lo) = match pair {
            [hi, lo] => (nibble(*hi), nibble(*lo)),
            _ => (None, None),
        };
        *byte = (hi.ok_or_else(bad)? << 4) | lo.ok_or_else(bad)?;
    }
    Ok(root)
}

fn parse_value(body: &[u8]) -> Result<Value, JsonError> {
    serde_json::from_slice(body).map_err(|e| JsonError::Syntax(e.to_string()))
}

fn nested_checkpoint(obj: &Map<String, Value>, key: &'static str) -> Result<Checkpoint, JsonError> {
    let inner = obj
        .get(key)
        .and_then(Value::as_object)
        .ok_or(JsonError::Field(key))?;
    checkpoint_of(inner)
}

fn checkpoint_of(obj: &Map<String, Value>) -> Result<Checkpoint, JsonError> {
    let slot = obj
        .get("slot")
        .and_then(slot_of)
        .ok_or(JsonError::Field("slot"))?;
    let root = match obj.get("root") {
        Some(Value::String(s)) => parse_root(s)?,
        _ => return Err(JsonError::Field("root")),
    };
    Ok(Checkpoint { slot, root })
}

/// A slot: a non-negative JSON integer, or a string of decimal digits.
fn slot_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
            s.parse().ok()
        }
        _ => None,
    }
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// At most [`ROOT_ECHO_MAX`] bytes of `s`, cut on a character boundary.
fn echo(s: &str) -> String {
    let mut end = s.len().min(ROOT_ECHO_MAX);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = s.get(..end).unwrap_or_default().to_owned();
    if end < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
