//! Where one upstream stands against the agreed checkpoint: agreeing, lagging behind it,
//! on a minority checkpoint (same slot, another root), ahead of it, or unknown. The
//! dashboard, `/api/timeline` and the per-upstream metrics all classify with this.

use super::{Agreed, UpstreamRecord};
use crate::lean::Checkpoint;

/// An upstream's finalized checkpoint compared with the agreed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// No agreed checkpoint yet, or the upstream has claimed none.
    Unknown,
    /// It claims the agreed checkpoint.
    Agreeing,
    /// It claims an older finalized slot, `slots` behind the agreed one.
    Lagging { slots: u64 },
    /// It claims the agreed slot with another root: a minority checkpoint.
    Minority,
    /// It claims a later finalized slot (finality advanced there first), `slots` ahead.
    Ahead { slots: u64 },
}

impl Standing {
    /// Classifies the finalized checkpoint `claimed` against `agreed`.
    pub fn of(claimed: Option<Checkpoint>, agreed: Option<&Checkpoint>) -> Standing {
        let (Some(claimed), Some(agreed)) = (claimed, agreed) else {
            return Standing::Unknown;
        };
        match claimed.slot.cmp(&agreed.slot) {
            std::cmp::Ordering::Less => Standing::Lagging {
                slots: agreed.slot - claimed.slot,
            },
            std::cmp::Ordering::Greater => Standing::Ahead {
                slots: claimed.slot - agreed.slot,
            },
            std::cmp::Ordering::Equal if claimed.root == agreed.root => Standing::Agreeing,
            std::cmp::Ordering::Equal => Standing::Minority,
        }
    }

    /// Where `record` stands against `agreed`: unknown unless its last poll gave a vote
    /// (the checkpoint an upstream that is down claimed last is not where it stands).
    pub fn of_record(record: &UpstreamRecord, agreed: Option<&Agreed>) -> Standing {
        if !record.healthy {
            return Standing::Unknown;
        }
        Standing::of(record.finalized, agreed.map(|a| &a.finalized))
    }

    /// Short lower-case name, as in JSON (`agreeing`, `lagging`, `minority`, `ahead`,
    /// `unknown`).
    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Unknown => "unknown",
            Standing::Agreeing => "agreeing",
            Standing::Lagging { .. } => "lagging",
            Standing::Minority => "minority",
            Standing::Ahead { .. } => "ahead",
        }
    }

    /// Slots behind the agreed checkpoint (0 unless lagging).
    pub fn lag_slots(self) -> u64 {
        match self {
            Standing::Lagging { slots } => slots,
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp(slot: u64, root: u8) -> Checkpoint {
        Checkpoint {
            slot,
            root: [root; 32],
        }
    }

    #[test]
    fn classifies_against_the_agreed_checkpoint() {
        let agreed = cp(10, 1);
        assert_eq!(
            Standing::of(Some(cp(10, 1)), Some(&agreed)),
            Standing::Agreeing
        );
        assert_eq!(
            Standing::of(Some(cp(10, 2)), Some(&agreed)),
            Standing::Minority
        );
        assert_eq!(
            Standing::of(Some(cp(7, 1)), Some(&agreed)),
            Standing::Lagging { slots: 3 }
        );
        assert_eq!(
            Standing::of(Some(cp(12, 9)), Some(&agreed)),
            Standing::Ahead { slots: 2 }
        );
        assert_eq!(Standing::of(None, Some(&agreed)), Standing::Unknown);
        assert_eq!(Standing::of(Some(cp(10, 1)), None), Standing::Unknown);
        assert_eq!(Standing::Lagging { slots: 3 }.lag_slots(), 3);
        assert_eq!(Standing::Minority.lag_slots(), 0);
        assert_eq!(Standing::Minority.as_str(), "minority");
    }

    #[test]
    fn an_upstream_that_is_down_stands_nowhere() {
        let spec = crate::server::router::fixtures::spec("a", 1);
        let mut record = UpstreamRecord::new(spec);
        record.finalized = Some(cp(10, 2));
        let agreed = Agreed {
            finalized: cp(10, 1),
            justified: cp(11, 1),
            first_agreed_ms: 0,
            members: vec![],
            responders: 1,
        };
        record.healthy = true;
        assert_eq!(
            Standing::of_record(&record, Some(&agreed)),
            Standing::Minority
        );
        record.healthy = false;
        assert_eq!(
            Standing::of_record(&record, Some(&agreed)),
            Standing::Unknown
        );
    }
}
