//! Dispute mediation (矛盾纠纷排查化解): categories, outcomes, risk, when a
//! report goes to the township (上报) and when it is due a follow-up (回访).
//!
//! ```text
//! escalation:  (none) ──escalate──▶ open ──acknowledge──▶ acknowledged ──resolve──▶ resolved
//!                                     └───────────────resolve─────────────────────▶
//! ```

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the dispute is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DisputeCategory {
    /// 邻里纠纷
    Neighbourhood,
    /// 土地纠纷
    Land,
    /// 婚姻家庭纠纷
    MarriageFamily,
    /// 山林权属纠纷
    ForestLand,
    /// 劳资纠纷
    Labour,
    /// 财产纠纷
    Property,
    Other,
}

/// How far the mediation got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MediationOutcome {
    /// 调解成功
    Resolved,
    /// 部分化解
    PartiallyResolved,
    /// 未化解
    Unresolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

/// Where an escalated report stands with the township.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationStatus {
    /// Escalated; nobody at the township has taken it up yet.
    Open,
    /// The township has seen it and is handling it.
    Acknowledged,
    Resolved,
}

/// What the township does with an escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EscalationAction {
    Acknowledge,
    Resolve,
}

macro_rules! names {
    ($ty:ident { $($variant:ident => $code:literal, $label:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }

            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }

            /// The Chinese name, for notifications and exports.
            pub fn label(self) -> &'static str {
                match self { $($ty::$variant => $label),+ }
            }
        }
    };
}

names!(DisputeCategory {
    Neighbourhood => "neighbourhood", "邻里纠纷",
    Land => "land", "土地纠纷",
    MarriageFamily => "marriage_family", "婚姻家庭纠纷",
    ForestLand => "forest_land", "山林权属纠纷",
    Labour => "labour", "劳资纠纷",
    Property => "property", "财产纠纷",
    Other => "other", "其他纠纷",
});

names!(MediationOutcome {
    Resolved => "resolved", "调解成功",
    PartiallyResolved => "partially_resolved", "部分化解",
    Unresolved => "unresolved", "未化解",
});

names!(RiskLevel {
    Low => "low", "低",
    Medium => "medium", "中",
    High => "high", "高",
});

names!(EscalationStatus {
    Open => "open", "待处理",
    Acknowledged => "acknowledged", "处理中",
    Resolved => "resolved", "已办结",
});

/// Whether a report goes to the township as soon as it is submitted: the
/// member could not settle it, or it may turn violent.
pub fn escalates_on_submission(outcome: MediationOutcome, risk: RiskLevel) -> bool {
    outcome == MediationOutcome::Unresolved || risk == RiskLevel::High
}

/// Why an escalation step cannot be taken (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalationRefusal {
    AlreadyEscalated,
    NotEscalated,
    AlreadyAcknowledged,
    AlreadyResolved,
}

/// The escalation status after `action`, from `current` (`None`: never escalated).
pub fn handle_escalation(
    current: Option<EscalationStatus>,
    action: EscalationAction,
) -> Result<EscalationStatus, EscalationRefusal> {
    match (current, action) {
        (None, _) => Err(EscalationRefusal::NotEscalated),
        (Some(EscalationStatus::Resolved), _) => Err(EscalationRefusal::AlreadyResolved),
        (Some(EscalationStatus::Acknowledged), EscalationAction::Acknowledge) => {
            Err(EscalationRefusal::AlreadyAcknowledged)
        }
        (Some(EscalationStatus::Open), EscalationAction::Acknowledge) => {
            Ok(EscalationStatus::Acknowledged)
        }
        (Some(_), EscalationAction::Resolve) => Ok(EscalationStatus::Resolved),
    }
}

/// Days after a report, or after a follow-up that did not settle it, by
/// which someone must go back (回访), unless the township sets another.
pub const DEFAULT_FOLLOW_UP_DAYS: u32 = 7;

/// When the next follow-up is due: `days` after `from` while the dispute is
/// not settled; never once it is.
pub fn follow_up_due(
    outcome: MediationOutcome,
    from: DateTime<Utc>,
    days: u32,
) -> Option<DateTime<Utc>> {
    (outcome != MediationOutcome::Resolved).then(|| from + Duration::days(i64::from(days)))
}

/// Whether a follow-up due at `due` is overdue at `now`.
pub fn follow_up_overdue(due: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    due.is_some_and(|due| due < now)
}

/// A township's mediation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(default)]
pub struct MediationSettings {
    /// Days until an unsettled dispute is due a follow-up (回访), 1–90.
    #[schema(minimum = 1, maximum = 90)]
    pub follow_up_days: u32,
}

impl Default for MediationSettings {
    fn default() -> Self {
        MediationSettings {
            follow_up_days: DEFAULT_FOLLOW_UP_DAYS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unresolved_or_high_risk_reports_escalate_on_submission() {
        use MediationOutcome::*;
        use RiskLevel::*;
        for outcome in MediationOutcome::ALL {
            for risk in RiskLevel::ALL {
                let expected = *outcome == Unresolved || *risk == High;
                assert_eq!(escalates_on_submission(*outcome, *risk), expected);
            }
        }
        assert!(!escalates_on_submission(PartiallyResolved, Medium));
    }

    #[test]
    fn escalation_moves_forward_only() {
        use EscalationAction::*;
        use EscalationStatus::*;
        assert_eq!(handle_escalation(Some(Open), Acknowledge), Ok(Acknowledged));
        assert_eq!(handle_escalation(Some(Open), Resolve), Ok(Resolved));
        assert_eq!(handle_escalation(Some(Acknowledged), Resolve), Ok(Resolved));
        assert_eq!(
            handle_escalation(Some(Acknowledged), Acknowledge),
            Err(EscalationRefusal::AlreadyAcknowledged)
        );
        assert_eq!(
            handle_escalation(Some(Resolved), Resolve),
            Err(EscalationRefusal::AlreadyResolved)
        );
        assert_eq!(
            handle_escalation(None, Acknowledge),
            Err(EscalationRefusal::NotEscalated)
        );
    }

    #[test]
    fn follow_up_is_due_only_while_unsettled() {
        let at = DateTime::from_timestamp(1_764_300_000, 0).unwrap();
        assert_eq!(
            follow_up_due(MediationOutcome::Unresolved, at, 7),
            Some(at + Duration::days(7))
        );
        assert_eq!(
            follow_up_due(MediationOutcome::PartiallyResolved, at, 3),
            Some(at + Duration::days(3))
        );
        assert_eq!(follow_up_due(MediationOutcome::Resolved, at, 7), None);
    }

    #[test]
    fn overdue_is_strictly_after_the_due_time() {
        let due = DateTime::from_timestamp(1_764_300_000, 0).unwrap();
        assert!(!follow_up_overdue(Some(due), due));
        assert!(follow_up_overdue(Some(due), due + Duration::seconds(1)));
        assert!(!follow_up_overdue(None, due + Duration::days(100)));
    }

    #[test]
    fn names_round_trip() {
        for c in DisputeCategory::ALL {
            assert_eq!(DisputeCategory::parse(c.as_str()), Some(*c));
        }
        for s in EscalationStatus::ALL {
            assert_eq!(EscalationStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(MediationOutcome::parse("nope"), None);
    }
}
