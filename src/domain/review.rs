//! The review workflow (审核) every submission goes through: visits, mediation
//! reports and member pledges.
//!
//! ```text
//! pending ──approve──▶ approved
//!    │  ╲──reject───▶ rejected
//!    └─return─▶ returned ──author edits──▶ pending
//! ```

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Pending,
    Approved,
    Returned,
    Rejected,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approve,
    /// Back to the author to correct and resubmit.
    Return,
    Reject,
}

/// The kinds of submission secretaries review, as `subject_kind` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    Visit,
    MediationReport,
    Pledge,
}

impl SubjectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Visit => "visit",
            SubjectKind::MediationReport => "mediation_report",
            SubjectKind::Pledge => "pledge",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "visit" => Some(SubjectKind::Visit),
            "mediation_report" => Some(SubjectKind::MediationReport),
            "pledge" => Some(SubjectKind::Pledge),
            _ => None,
        }
    }
}

/// Why a decision cannot be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewRefusal {
    /// Only pending submissions are decided (409).
    NotPending(ReviewStatus),
    /// Returning or rejecting needs a reason (422).
    CommentRequired,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Pending => "pending",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Returned => "returned",
            ReviewStatus::Rejected => "rejected",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "pending" => Some(ReviewStatus::Pending),
            "approved" => Some(ReviewStatus::Approved),
            "returned" => Some(ReviewStatus::Returned),
            "rejected" => Some(ReviewStatus::Rejected),
            _ => None,
        }
    }

    /// Whether the author may edit it (and so resubmit).
    pub fn editable(self) -> bool {
        self == ReviewStatus::Returned
    }
}

impl ReviewDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Approve => "approve",
            ReviewDecision::Return => "return",
            ReviewDecision::Reject => "reject",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "approve" => Some(ReviewDecision::Approve),
            "return" => Some(ReviewDecision::Return),
            "reject" => Some(ReviewDecision::Reject),
            _ => None,
        }
    }

    /// The status a pending submission moves to.
    pub fn outcome(self) -> ReviewStatus {
        match self {
            ReviewDecision::Approve => ReviewStatus::Approved,
            ReviewDecision::Return => ReviewStatus::Returned,
            ReviewDecision::Reject => ReviewStatus::Rejected,
        }
    }

    /// The event recorded in the submission's history.
    pub fn event(self) -> &'static str {
        match self {
            ReviewDecision::Approve => "approved",
            ReviewDecision::Return => "returned",
            ReviewDecision::Reject => "rejected",
        }
    }
}

/// Decides `decision` on a submission in `current`: the new status, or why not.
pub fn decide(
    current: ReviewStatus,
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<ReviewStatus, ReviewRefusal> {
    if current != ReviewStatus::Pending {
        return Err(ReviewRefusal::NotPending(current));
    }
    let has_comment = comment.is_some_and(|c| !c.trim().is_empty());
    if decision != ReviewDecision::Approve && !has_comment {
        return Err(ReviewRefusal::CommentRequired);
    }
    Ok(decision.outcome())
}

impl ReviewRefusal {
    pub fn comment_required() -> FieldErrors {
        FieldErrors::single(
            "comment",
            "required",
            "退回或不通过时必须填写意见",
            "a comment is required to return or reject",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ReviewDecision::*;
    use ReviewStatus::*;

    #[test]
    fn pending_moves_to_each_outcome() {
        assert_eq!(decide(Pending, Approve, None), Ok(Approved));
        assert_eq!(decide(Pending, Return, Some("补充照片")), Ok(Returned));
        assert_eq!(decide(Pending, Reject, Some("重复提交")), Ok(Rejected));
    }

    #[test]
    fn returning_or_rejecting_needs_a_comment() {
        assert_eq!(
            decide(Pending, Return, None),
            Err(ReviewRefusal::CommentRequired)
        );
        assert_eq!(
            decide(Pending, Reject, Some("  ")),
            Err(ReviewRefusal::CommentRequired)
        );
    }

    #[test]
    fn only_pending_submissions_are_decided() {
        for status in [Approved, Returned, Rejected] {
            for decision in [Approve, Return, Reject] {
                assert_eq!(
                    decide(status, decision, Some("x")),
                    Err(ReviewRefusal::NotPending(status))
                );
            }
        }
    }

    #[test]
    fn only_returned_submissions_are_editable() {
        assert!(Returned.editable());
        assert!(![Pending, Approved, Rejected].iter().any(|s| s.editable()));
    }
}
