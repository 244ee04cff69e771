//! The finality monitor's memory, pure: one bounded ring of samples per upstream, taken
//! once per completed poll round (finalized, justified and head slot, the first bytes of
//! the finalized root, the error kind of a failed poll, and the upstream's [`Standing`]),
//! and one ring of the agreed finalized slot per round. `/api/timeline` and the
//! dashboard's chart read it.
//!
//! Bounded: at most [`TIMELINE_LEN`] samples per upstream (an hour at the default 10 s
//! `--poll-ms`), and at most [`MAX_SAMPLES`] in all, so that a very large upstream set
//! gets a shorter window rather than more memory. A sample is a few machine words (no
//! `String`, the root as a 4-byte prefix): see `SAMPLE_BYTES` in the tests and
//! docs/api.md for the figure. A reload keeps the history of the upstreams whose name
//! stays ([`Timeline::align`]).

use super::{Agreed, Standing, UpstreamErrorKind, UpstreamRecord};
use crate::lean::Checkpoint;
use std::collections::VecDeque;

/// Samples kept per upstream (and agreed slots kept): one hour at the default
/// `--poll-ms` of 10 s. At a shorter interval the window is shorter.
pub const TIMELINE_LEN: usize = 360;

/// Samples kept over all upstreams: 64 upstreams get the full [`TIMELINE_LEN`] each; a
/// larger set gets `MAX_SAMPLES / upstreams` each (at least one).
pub const MAX_SAMPLES: usize = 64 * TIMELINE_LEN;

/// A slot or none in 8 bytes (`Option<u64>` takes 16): `u64::MAX` stands for none, so
/// an upstream claiming slot `u64::MAX` is recorded as having claimed none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot(u64);

impl Slot {
    pub const NONE: Slot = Slot(u64::MAX);

    pub fn new(slot: Option<u64>) -> Slot {
        Slot(slot.unwrap_or(u64::MAX))
    }

    pub fn get(self) -> Option<u64> {
        (self.0 != u64::MAX).then_some(self.0)
    }
}

/// One upstream at the end of one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Wall time the round completed.
    pub t_ms: i64,
    pub finalized: Slot,
    pub justified: Slot,
    pub head: Slot,
    /// First 4 bytes of the finalized root it claimed.
    pub root: Option<[u8; 4]>,
    /// Why its poll gave no vote this round (None: it voted).
    pub error: Option<UpstreamErrorKind>,
    /// Its finalized checkpoint against the agreed one after this round.
    pub standing: Standing,
}

impl Sample {
    /// `record` as the round that just ended left it: its slots if its poll gave a vote
    /// (the record keeps the last claims of a failing upstream; a sample does not), else
    /// the kind of its last error.
    pub fn of(record: &UpstreamRecord, agreed: Option<&Agreed>, t_ms: i64) -> Sample {
        if !record.healthy {
            return Sample {
                t_ms,
                finalized: Slot::NONE,
                justified: Slot::NONE,
                head: Slot::NONE,
                root: None,
                error: record.last_error.as_ref().map(|e| e.kind),
                standing: Standing::Unknown,
            };
        }
        let finalized: Option<Checkpoint> = record.finalized;
        Sample {
            t_ms,
            finalized: Slot::new(finalized.map(|c| c.slot)),
            justified: Slot::new(record.last_justified.map(|c| c.slot)),
            head: Slot::new(record.head_slot),
            root: finalized.map(|c| [c.root[0], c.root[1], c.root[2], c.root[3]]),
            error: None,
            standing: Standing::of(finalized, agreed.map(|a| &a.finalized)),
        }
    }
}

/// The agreed finalized slot after one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgreedSample {
    pub t_ms: i64,
    /// The last agreement's finalized slot (kept through rounds without consensus);
    /// none before the first agreement.
    pub finalized: Slot,
    /// Whether this round reached consensus.
    pub consensus: bool,
}

/// One upstream's samples, oldest first.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub samples: VecDeque<Sample>,
}

impl Series {
    fn new(name: &str) -> Series {
        Series {
            name: name.to_string(),
            samples: VecDeque::new(),
        }
    }

    /// The latest sample, if any.
    pub fn last(&self) -> Option<&Sample> {
        self.samples.back()
    }

    /// Where it stood after the last round (unknown before any).
    pub fn standing(&self) -> Standing {
        self.last().map_or(Standing::Unknown, |s| s.standing)
    }
}

/// Every upstream's series (in the order of `AppState::upstreams`) and the agreed slots.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub series: Vec<Series>,
    pub agreed: VecDeque<AgreedSample>,
    /// Bumped whenever the timeline changes (a round sampled, the set realigned): a
    /// rendered body is reused until it moves.
    pub revision: u64,
}

impl Timeline {
    /// An empty timeline for upstreams named `names`.
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Timeline {
        let mut timeline = Timeline::default();
        timeline.align(names);
        timeline
    }

    /// Samples kept per upstream for `upstreams` upstreams.
    pub fn capacity(upstreams: usize) -> usize {
        (MAX_SAMPLES / upstreams.max(1)).clamp(1, TIMELINE_LEN)
    }

    /// Matches the series to the upstream set `names` (after a reload): an upstream whose
    /// name was there keeps its series (the first one of that name), others start
    /// empty, series of names gone are dropped; rings are trimmed to the new capacity.
    /// Nothing moves when the names are already those, in that order.
    pub fn align<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        let names: Vec<&str> = names.into_iter().collect();
        let same = names.len() == self.series.len()
            && names.iter().zip(&self.series).all(|(n, s)| *n == s.name);
        if same {
            return;
        }
        self.revision += 1;
        let mut old: Vec<Option<Series>> = std::mem::take(&mut self.series)
            .into_iter()
            .map(Some)
            .collect();
        for name in &names {
            let kept = old
                .iter_mut()
                .find(|s| s.as_ref().is_some_and(|s| s.name == *name))
                .and_then(Option::take);
            self.series.push(kept.unwrap_or_else(|| Series::new(name)));
        }
        let cap = Timeline::capacity(self.series.len());
        for series in &mut self.series {
            while series.samples.len() > cap {
                series.samples.pop_front();
            }
            series.samples.shrink_to(cap);
        }
    }

    /// Samples every upstream and the agreed slot at the end of a round completed at
    /// wall time `t_ms` (`consensus`: whether it agreed).
    pub fn record_round(
        &mut self,
        upstreams: &[UpstreamRecord],
        agreed: Option<&Agreed>,
        consensus: bool,
        t_ms: i64,
    ) {
        self.align(upstreams.iter().map(|u| u.spec.name.as_str()));
        let cap = Timeline::capacity(upstreams.len());
        for (series, record) in self.series.iter_mut().zip(upstreams) {
            push_bounded(&mut series.samples, Sample::of(record, agreed, t_ms), cap);
        }
        let sample = AgreedSample {
            t_ms,
            finalized: Slot::new(agreed.map(|a| a.finalized.slot)),
            consensus,
        };
        push_bounded(&mut self.agreed, sample, TIMELINE_LEN);
        self.revision += 1;
    }

    /// The series of the upstream named `name`.
    pub fn series_of(&self, name: &str) -> Option<&Series> {
        self.series.iter().find(|s| s.name == name)
    }
}

/// Appends `item`, dropping the oldest first when `ring` holds `cap`; the ring is
/// allocated at its full capacity on first use, so it does not grow past it.
fn push_bounded<T>(ring: &mut VecDeque<T>, item: T, cap: usize) {
    if ring.capacity() < cap {
        ring.reserve_exact(cap.saturating_sub(ring.len()));
    }
    while ring.len() >= cap {
        ring.pop_front();
    }
    ring.push_back(item);
}

#[cfg(test)]
#[path = "timeline_tests.rs"]
mod tests;
