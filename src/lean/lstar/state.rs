//! The lstar `State`: its layout (228-byte fixed part, five variable fields), the checks
//! `lean::ssz::validate_state` makes plus the SSZ list limits, and [`StateHasher`], which
//! computes its hash tree root incrementally as the body arrives.

use super::containers::{
    checkpoint_root, header_root, root_of, u32_of, u64_of, validator_root, VALIDATOR_SIZE,
};
use super::merkle::{
    depth_for, merkleize, mix_in_length, u64_chunk, BitlistError, BitlistWriter, ChunkWriter,
    Merkleizer,
};
use super::LayoutError;
use crate::lean::ssz::TEXT_SNIFF_LEN;
use crate::lean::ssz::{looks_like_text, StateSummary, FIXED_PART};
use crate::lean::{Checkpoint, Root};

/// `HISTORICAL_ROOTS_LIMIT`: bound of the history, justified slots and justification
/// roots.
pub const HISTORICAL_ROOTS_LIMIT: u64 = 1 << 18;

/// `VALIDATOR_REGISTRY_LIMIT`: bound of the validator list.
pub const VALIDATOR_REGISTRY_LIMIT: u64 = 1 << 12;

/// Bound of the `justifications_validators` bitlist, in bits: one bit per validator for
/// each tracked root.
pub const JUSTIFICATION_VALIDATORS_LIMIT: u64 = HISTORICAL_ROOTS_LIMIT * VALIDATOR_REGISTRY_LIMIT;

/// Where the five u32 offsets of the variable fields start in the fixed part.
const OFFSETS_AT: usize = 208;

/// The leading bytes kept for the text sniff: [`TEXT_SNIFF_LEN`] and one more, which
/// tells `looks_like_text` that the body goes on beyond its window.
const HEAD_KEEP: usize = TEXT_SNIFF_LEN + 1;

/// Names of the variable fields, in order (used in [`LayoutError::OverLimit`]).
const FIELD_NAMES: [&str; 5] = [
    "historical_block_hashes",
    "justified_slots",
    "validators",
    "justifications_roots",
    "justifications_validators",
];

/// What [`StateHasher`] makes of a valid state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateRoots {
    /// hash_tree_root(State).
    pub state_root: Root,
    /// The root of `latest_block_header` with its `state_root` set to `state_root` when
    /// it is zero (as in a block's post-state), else as it is: the block's root.
    pub block_root: Root,
    /// The summary `lean::ssz::validate_state` gives.
    pub summary: StateSummary,
    /// `latest_block_header.slot`.
    pub header_slot: u64,
    /// Bytes consumed: the whole body.
    pub len: usize,
}

/// Incremental hash tree root of an SSZ lstar `State`, fed the body in arbitrary pieces
/// as they arrive. It keeps the first [`HEAD_KEEP`] bytes (the fixed part and the text
/// sniff), the hasher of the variable field being received (O(tree depth)) and the
/// roots of the fields already done; it never buffers the body.
///
/// Once the fixed part is in, the offsets give the field boundaries; the last field
/// ends where the input ends ([`StateHasher::finish`]). An error is remembered (the
/// hashing stops) and reported by `finish`, with the priority `validate_state` gives
/// it: `TooShort(0)`, `Text`, `TooShort`, `BadOffsets`, then `OverLimit`, `BadSlot`.
#[derive(Clone)]
pub struct StateHasher {
    fed: usize,
    head: [u8; HEAD_KEEP],
    last_byte: u8,
    /// The five offsets, once the fixed part is in.
    offsets: Option<[usize; 5]>,
    /// Last byte of `justified_slots` (at `offsets[2] - 1`), once seen.
    justified_slots_last: Option<u8>,
    /// The variable field receiving bytes (5 once all are done).
    field: usize,
    writer: FieldWriter,
    roots: [Root; 5],
    /// The offsets do not parse: nothing more to hash.
    bad_offsets: bool,
    /// A field over its SSZ limit: nothing more to hash.
    over_limit: Option<&'static str>,
}

impl std::fmt::Debug for StateHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateHasher")
            .field("fed", &self.fed)
            .field("offsets", &self.offsets)
            .field("field", &self.field)
            .field("bad_offsets", &self.bad_offsets)
            .field("over_limit", &self.over_limit)
            .finish_non_exhaustive()
    }
}

impl Default for StateHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl StateHasher {
    pub fn new() -> Self {
        StateHasher {
            fed: 0,
            head: [0; HEAD_KEEP],
            last_byte: 0,
            offsets: None,
            justified_slots_last: None,
            field: 0,
            writer: FieldWriter::for_field(0),
            roots: [[0; 32]; 5],
            bad_offsets: false,
            over_limit: None,
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> usize {
        self.fed
    }

    /// Feeds the next piece of the body (any length, empty included). Never panics.
    pub fn update(&mut self, bytes: &[u8]) {
        let start = self.fed;
        for (kept, &b) in self.head.iter_mut().skip(start).zip(bytes) {
            *kept = b;
        }
        self.fed = start.saturating_add(bytes.len());
        if let Some(&b) = bytes.last() {
            self.last_byte = b;
        }
        let mut pos = start;
        let mut rest = bytes;
        if pos < FIXED_PART {
            let (_, after) = rest.split_at((FIXED_PART - pos).min(rest.len()));
            pos += rest.len() - after.len();
            rest = after;
            if pos == FIXED_PART {
                self.read_offsets();
            }
        }
        let Some(offsets) = self.offsets else {
            return;
        };
        // The last byte of `justified_slots` decides `BadOffsets` even when the hashing
        // has stopped for another reason.
        let end = offsets[2];
        if end > pos && end - pos <= rest.len() {
            self.justified_slots_last = rest.get(end - pos - 1).copied();
        }
        if !self.stopped() {
            self.route(pos, rest, &offsets);
        }
    }

    /// Ends the body and returns its roots, or the first error in the order of
    /// `validate_state` (then list limits before slots).
    pub fn finish(mut self) -> Result<StateRoots, LayoutError> {
        self.check_complete()?;
        let fed = self.fed;
        let fixed = &self.head[..FIXED_PART];
        let summary = StateSummary {
            genesis_time: u64_of(&fixed[0..]),
            slot: u64_of(&fixed[8..]),
            latest_justified: Checkpoint {
                root: root_of(&fixed[128..]),
                slot: u64_of(&fixed[160..]),
            },
            latest_finalized: Checkpoint {
                root: root_of(&fixed[168..]),
                slot: u64_of(&fixed[200..]),
            },
        };
        let header_slot = u64_of(&fixed[16..]);
        check_slots(&summary, header_slot)?;

        let proposer = u64_of(&fixed[24..]);
        let parent = root_of(&fixed[32..]);
        let header_state_root = root_of(&fixed[64..]);
        let body_root = root_of(&fixed[96..]);
        let header = header_root(
            header_slot,
            proposer,
            &parent,
            &header_state_root,
            &body_root,
        );
        let [history, justified_slots, validators, justification_roots, justification_bits] =
            self.roots;
        let state_root = merkleize(&[
            u64_chunk(summary.genesis_time),
            u64_chunk(summary.slot),
            header,
            checkpoint_root(
                &summary.latest_justified.root,
                summary.latest_justified.slot,
            ),
            checkpoint_root(
                &summary.latest_finalized.root,
                summary.latest_finalized.slot,
            ),
            history,
            justified_slots,
            validators,
            justification_roots,
            justification_bits,
        ]);
        let block_root = if header_state_root == [0; 32] {
            header_root(header_slot, proposer, &parent, &state_root, &body_root)
        } else {
            header
        };
        Ok(StateRoots {
            state_root,
            block_root,
            summary,
            header_slot,
            len: fed,
        })
    }

    /// Closes the last fields and checks the layout: the first error in the order of
    /// `validate_state` (then list limits before slots).
    fn check_complete(&mut self) -> Result<(), LayoutError> {
        let fed = self.fed;
        if fed == 0 {
            return Err(LayoutError::TooShort(0));
        }
        if looks_like_text(self.head.get(..fed.min(HEAD_KEEP)).unwrap_or(&self.head)) {
            return Err(LayoutError::Text);
        }
        if fed < FIXED_PART {
            return Err(LayoutError::TooShort(fed));
        }
        let Some(offsets) = self.offsets else {
            return Err(LayoutError::BadOffsets);
        };
        let last = offsets[4];
        if self.bad_offsets
            || last >= fed
            || self.last_byte == 0
            || self.justified_slots_last.is_none_or(|b| b == 0)
        {
            return Err(LayoutError::BadOffsets);
        }
        if let Some(name) = self.over_limit {
            return Err(LayoutError::OverLimit(name));
        }
        while self.field < 5 {
            self.close_field();
        }
        if self.bad_offsets {
            return Err(LayoutError::BadOffsets);
        }
        if let Some(name) = self.over_limit {
            return Err(LayoutError::OverLimit(name));
        }
        Ok(())
    }

    /// Whether an error already decided the outcome (the rest is only counted).
    fn stopped(&self) -> bool {
        self.bad_offsets || self.over_limit.is_some()
    }

    /// Reads the offsets once the fixed part is in and checks what they alone decide.
    fn read_offsets(&mut self) {
        let mut o = [0usize; 5];
        for (i, x) in o.iter_mut().enumerate() {
            *x = u32_of(self.head.get(OFFSETS_AT + 4 * i..).unwrap_or(&[]));
        }
        self.offsets = Some(o);
        let [history, justified_slots, validators, roots, bits] = o;
        let ordered = history == FIXED_PART
            && history <= justified_slots
            && justified_slots <= validators
            && validators <= roots
            && roots <= bits;
        if !ordered
            || (justified_slots - history) % 32 != 0
            || (roots - validators) % VALIDATOR_SIZE != 0
            || (bits - roots) % 32 != 0
            || validators == justified_slots
        {
            self.bad_offsets = true;
            return;
        }
        let over = [
            (justified_slots - history) / 32 > HISTORICAL_ROOTS_LIMIT as usize,
            (validators - justified_slots) as u64
                > BitlistWriter::max_bytes(HISTORICAL_ROOTS_LIMIT),
            (roots - validators) / VALIDATOR_SIZE > VALIDATOR_REGISTRY_LIMIT as usize,
            (bits - roots) / 32 > HISTORICAL_ROOTS_LIMIT as usize,
        ];
        self.over_limit = over
            .iter()
            .zip(FIELD_NAMES)
            .find_map(|(&o, name)| o.then_some(name));
    }

    /// Hands `rest` (which starts at body position `pos`) to the fields it covers,
    /// closing each field whose end it reaches.
    fn route(&mut self, mut pos: usize, mut rest: &[u8], offsets: &[usize; 5]) {
        while self.field < 5 {
            let end = offsets.get(self.field + 1).copied().unwrap_or(usize::MAX);
            if pos >= end {
                self.close_field();
            } else if rest.is_empty() {
                return;
            } else {
                let (now, later) = rest.split_at((end - pos).min(rest.len()));
                if let Err(e) = self.writer.write(now) {
                    self.note(e);
                }
                pos += now.len();
                rest = later;
            }
            if self.stopped() {
                return;
            }
        }
    }

    /// Finishes the current field and starts the next.
    fn close_field(&mut self) {
        let writer = std::mem::replace(&mut self.writer, FieldWriter::for_field(self.field + 1));
        match writer.finish() {
            Ok(root) => {
                if let Some(r) = self.roots.get_mut(self.field) {
                    *r = root;
                }
            }
            Err(e) => self.note(e),
        }
        self.field += 1;
    }

    fn note(&mut self, e: BitlistError) {
        match e {
            BitlistError::NoDelimiter => self.bad_offsets = true,
            BitlistError::OverLimit => {
                let name = FIELD_NAMES.get(self.field).copied().unwrap_or("state");
                self.over_limit.get_or_insert(name);
            }
        }
    }
}

/// [`StateHasher`] over a whole body: `new`, one `update`, `finish`.
pub fn state_roots(bytes: &[u8]) -> Result<StateRoots, LayoutError> {
    let mut h = StateHasher::new();
    h.update(bytes);
    h.finish()
}

/// The rules of `validate_state`: a slot below 2^40, and the header, justified and
/// finalized slots not above it.
fn check_slots(summary: &StateSummary, header_slot: u64) -> Result<(), LayoutError> {
    match crate::lean::ssz::implausible_slot(summary, header_slot) {
        Some(slot) => Err(LayoutError::BadSlot(slot)),
        None => Ok(()),
    }
}

/// The hasher of one variable field of the state.
#[derive(Clone)]
enum FieldWriter {
    /// `List[Bytes32, 2^18]`: the history or the justification roots.
    Roots(ChunkWriter),
    /// A bitlist: the justified slots or the justification validators.
    Bits(BitlistWriter),
    /// `List[Validator, 2^12]`.
    Validators(ValidatorWriter),
    /// After the last field.
    Done,
}

impl FieldWriter {
    fn for_field(i: usize) -> Self {
        match i {
            0 | 3 => FieldWriter::Roots(ChunkWriter::new(depth_for(HISTORICAL_ROOTS_LIMIT))),
            1 => FieldWriter::Bits(BitlistWriter::new(HISTORICAL_ROOTS_LIMIT)),
            2 => FieldWriter::Validators(ValidatorWriter::new()),
            4 => FieldWriter::Bits(BitlistWriter::new(JUSTIFICATION_VALIDATORS_LIMIT)),
            _ => FieldWriter::Done,
        }
    }

    fn write(&mut self, data: &[u8]) -> Result<(), BitlistError> {
        match self {
            FieldWriter::Roots(w) => w.write(data),
            FieldWriter::Bits(w) => return w.write(data),
            FieldWriter::Validators(w) => w.write(data),
            FieldWriter::Done => {}
        }
        Ok(())
    }

    /// The field's root. The sizes of the lists were checked against the offsets
    /// (whole elements, within the limit) before any byte reached them.
    fn finish(self) -> Result<Root, BitlistError> {
        match self {
            FieldWriter::Roots(w) => Ok(mix_in_length(&w.finish(), w.bytes() / 32)),
            FieldWriter::Bits(w) => w.finish().map(|(root, _)| root),
            FieldWriter::Validators(w) => Ok(w.finish()),
            FieldWriter::Done => Ok([0; 32]),
        }
    }
}

/// Streams `List[Validator, 2^12]`: each whole 112-byte record becomes a leaf.
#[derive(Clone)]
struct ValidatorWriter {
    tree: Merkleizer,
    partial: [u8; VALIDATOR_SIZE],
    partial_len: usize,
}

impl ValidatorWriter {
    fn new() -> Self {
        ValidatorWriter {
            tree: Merkleizer::new(depth_for(VALIDATOR_REGISTRY_LIMIT)),
            partial: [0; VALIDATOR_SIZE],
            partial_len: 0,
        }
    }

    fn write(&mut self, mut data: &[u8]) {
        if self.partial_len > 0 {
            let n = (VALIDATOR_SIZE - self.partial_len).min(data.len());
            let (head, rest) = data.split_at(n);
            for (d, &s) in self.partial.iter_mut().skip(self.partial_len).zip(head) {
                *d = s;
            }
            self.partial_len += n;
            data = rest;
            if self.partial_len < VALIDATOR_SIZE {
                return;
            }
            self.tree.push(&validator_root(&self.partial));
            self.partial_len = 0;
        }
        while let Some((v, rest)) = data.split_first_chunk::<VALIDATOR_SIZE>() {
            self.tree.push(&validator_root(v));
            data = rest;
        }
        for (d, &s) in self.partial.iter_mut().zip(data) {
            *d = s;
        }
        self.partial_len = data.len();
    }

    fn finish(&self) -> Root {
        mix_in_length(&self.tree.finish(), self.tree.count())
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
