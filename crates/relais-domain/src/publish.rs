//! The life of one target = (post, channel), per DESIGN §2. Every state change in relais goes
//! through `TargetState::can_go`, so an impossible jump (published → scheduled…) is refused in
//! one place.

use chrono::{NaiveDateTime, TimeZone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Draft,
    InReview,
    Approved,
    Scheduled,
    Publishing,
    Published,
    Failed,
    Unconfirmed,
    Frozen,
    Cancelled,
}

use TargetState::*;

impl TargetState {
    pub const ALL: [TargetState; 10] = [
        Draft,
        InReview,
        Approved,
        Scheduled,
        Publishing,
        Published,
        Failed,
        Unconfirmed,
        Frozen,
        Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Draft => "draft",
            InReview => "in_review",
            Approved => "approved",
            Scheduled => "scheduled",
            Publishing => "publishing",
            Published => "published",
            Failed => "failed",
            Unconfirmed => "unconfirmed",
            Frozen => "frozen",
            Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<TargetState> {
        TargetState::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Whether relais may move a target from `self` to `to`.
    pub fn can_go(self, to: TargetState) -> bool {
        match (self, to) {
            // Editing: drafts go to review or straight to the schedule (when no approval is needed).
            (Draft, InReview | Scheduled | Cancelled) => true,
            (InReview, Draft | Approved | Cancelled) => true,
            (Approved, Scheduled | Draft | Cancelled) => true,
            // Publishing: only a scheduled target is claimed; the outcome is one of three.
            (Scheduled, Publishing | Draft | Frozen | Cancelled) => true,
            (Publishing, Published | Failed | Unconfirmed | Scheduled) => true,
            // Unknown outcome: reconciliation decides; a human may also settle it.
            (Unconfirmed, Published | Scheduled | Failed) => true,
            // A failed target can be fixed and tried again, or dropped.
            (Failed, Draft | Scheduled | Cancelled) => true,
            // A crisis freeze holds scheduled targets; unfreezing sends them on or back to draft.
            (Frozen, Scheduled | Publishing | Draft | Cancelled) => true,
            _ => false,
        }
    }

    /// Published and cancelled targets never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Published | Cancelled)
    }
}

/// A wall-clock time in a zone that does not exist (spring forward) or exists twice (fall back).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalTime {
    Exact(i64),
    /// Inside a DST gap: the user must pick another time (e.g. 02:30 on the last Sunday of March
    /// in Paris). `after` is the first valid instant after the gap.
    Gap {
        after: i64,
    },
    /// Twice on the clock: `earliest` (summer time) and `latest` (winter time).
    Ambiguous {
        earliest: i64,
        latest: i64,
    },
}

/// The UTC instant of a wall-clock time in an IANA zone, never using the process time zone.
pub fn resolve_local(tz: chrono_tz::Tz, local: NaiveDateTime) -> LocalTime {
    use chrono::LocalResult;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => LocalTime::Exact(t.timestamp_millis()),
        LocalResult::Ambiguous(a, b) => {
            let (x, y) = (a.timestamp_millis(), b.timestamp_millis());
            LocalTime::Ambiguous {
                earliest: x.min(y),
                latest: x.max(y),
            }
        }
        LocalResult::None => {
            // Walk forward minute by minute to the end of the gap (gaps are at most a few hours).
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe += chrono::Duration::minutes(1);
                if let LocalResult::Single(t) = tz.from_local_datetime(&probe) {
                    return LocalTime::Gap {
                        after: t.timestamp_millis(),
                    };
                }
            }
            LocalTime::Gap { after: 0 }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(Scheduled.can_go(Publishing));
        assert!(Publishing.can_go(Unconfirmed));
        assert!(!Published.can_go(Scheduled), "never publish twice");
        assert!(
            !Publishing.can_go(Publishing),
            "a claimed target cannot be claimed again"
        );
        assert!(!Draft.can_go(Published));
        assert!(!InReview.can_go(Scheduled), "review must approve first");
        assert!(Frozen.can_go(Scheduled) && Scheduled.can_go(Frozen));
        for s in TargetState::ALL {
            assert_eq!(TargetState::parse(s.as_str()), Some(s));
            if s.is_final() {
                assert!(
                    TargetState::ALL.iter().all(|t| !s.can_go(*t)),
                    "{s:?} is final"
                );
            }
        }
    }

    #[test]
    fn dst_gap_and_overlap_in_paris() {
        let tz: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        // 2026-03-29 02:30 does not exist in Paris (02:00 → 03:00).
        match resolve_local(tz, at("2026-03-29 02:30")) {
            LocalTime::Gap { after } => assert_eq!(after, 1_774_746_000_000), // 03:00 CEST = 01:00 UTC
            other => panic!("{other:?}"),
        }
        // 2026-10-25 02:30 exists twice.
        match resolve_local(tz, at("2026-10-25 02:30")) {
            LocalTime::Ambiguous { earliest, latest } => assert_eq!(latest - earliest, 3_600_000),
            other => panic!("{other:?}"),
        }
        // A plain winter time: 09:30 Paris = 08:30 UTC.
        assert_eq!(
            resolve_local(tz, at("2026-11-24 09:30")),
            LocalTime::Exact(1_795_509_000_000)
        );
    }
}
