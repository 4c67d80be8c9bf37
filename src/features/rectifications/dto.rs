//! Rectification request and response bodies.

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::review::HistoryEntry;
use crate::domain::FieldErrors;
use crate::domain::supervision::{RectificationStatus, rectification_overdue};
use crate::domain::text::{self, COMMENT_MAX, DESCRIPTION_MAX, SUMMARY_MAX, TITLE_MAX};
use crate::entities::rectification;

pub use crate::domain::MAX_PHOTOS;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"spot_check_item_id": "0193a6b0-0000-7000-8000-000000000001", "deadline": "2026-12-31T18:00:00+08:00"}))]
pub struct NewRectificationRequest {
    /// A spot-check item found a `discrepancy`: the rectification is
    /// assigned to its branch, and title and description default to the
    /// finding.
    pub spot_check_item_id: Option<Uuid>,
    /// The branch to rectify; required without `spot_check_item_id`.
    pub branch_id: Option<Uuid>,
    /// Required without `spot_check_item_id`.
    #[schema(max_length = 100)]
    pub title: Option<String>,
    /// What is to be put right; required without `spot_check_item_id`.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// When the branch must have reported; in the future.
    pub deadline: DateTime<Utc>,
}

/// A checked creation request; the finding's defaults are filled in later.
#[derive(Debug, Clone)]
pub struct Assignment {
    pub spot_check_item_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub deadline: DateTime<Utc>,
}

impl NewRectificationRequest {
    pub fn parse(self, now: DateTime<Utc>) -> Result<Assignment, FieldErrors> {
        let mut errors = FieldErrors::new();
        let direct = self.spot_check_item_id.is_none();
        let title = errors.take(text::optional("title", self.title.as_deref(), TITLE_MAX));
        let description = errors.take(text::optional(
            "description",
            self.description.as_deref(),
            DESCRIPTION_MAX,
        ));
        if direct {
            if self.branch_id.is_none() {
                errors.add(
                    "branch_id",
                    "required",
                    "请指定整改支部",
                    "branch_id is required",
                );
            }
            if matches!(title, Some(None)) {
                errors.add(
                    "title",
                    "required",
                    "title 不能为空",
                    "title must not be empty",
                );
            }
            if matches!(description, Some(None)) {
                errors.add(
                    "description",
                    "required",
                    "description 不能为空",
                    "description must not be empty",
                );
            }
        }
        // Microseconds, as PostgreSQL keeps them: the sweep compares it as stored.
        let deadline = self.deadline.trunc_subsecs(6);
        errors.take(future_deadline("deadline", deadline, now));
        match (title, description) {
            (Some(title), Some(description)) if errors.is_empty() => Ok(Assignment {
                spot_check_item_id: self.spot_check_item_id,
                branch_id: self.branch_id,
                title,
                description,
                deadline,
            }),
            _ => Err(errors),
        }
    }
}

/// A deadline must lie ahead.
fn future_deadline(
    field: &str,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), FieldErrors> {
    if deadline <= now {
        return Err(FieldErrors::single(
            field,
            "in_past",
            "整改期限须晚于当前时间",
            "the deadline must be in the future",
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"note": "已组织支部党员重新入户走访，补齐走访记录并在支部会上作说明", "photo_ids": []}))]
pub struct ReportRequest {
    /// What the branch did.
    #[schema(max_length = 2000)]
    pub note: String,
    /// Evidence: uploads made by the reporter (`POST /api/v1/uploads`).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub photo_ids: Vec<Uuid>,
}

/// A checked report.
#[derive(Debug, Clone)]
pub struct Report {
    pub note: String,
    pub photo_ids: Vec<Uuid>,
}

impl ReportRequest {
    pub fn parse(self) -> Result<Report, FieldErrors> {
        let mut errors = FieldErrors::new();
        let note = errors.take(text::required("note", &self.note, SUMMARY_MAX));
        if self.photo_ids.len() > MAX_PHOTOS {
            errors.add(
                "photo_ids",
                "too_many",
                format!("photo_ids 最多 {MAX_PHOTOS} 项"),
                format!("at most {MAX_PHOTOS} items in photo_ids"),
            );
        }
        let mut photo_ids = Vec::with_capacity(self.photo_ids.len());
        for id in self.photo_ids {
            if !photo_ids.contains(&id) {
                photo_ids.push(id);
            }
        }
        match note {
            Some(note) if errors.is_empty() => Ok(Report { note, photo_ids }),
            _ => Err(errors),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"comment": "整改到位，予以销号"}))]
pub struct CloseRequest {
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

impl CloseRequest {
    pub fn parse(self) -> Result<Option<String>, FieldErrors> {
        text::optional("comment", self.comment.as_deref(), COMMENT_MAX)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"comment": "未附走访照片，请补充佐证材料", "deadline": "2027-01-15T18:00:00+08:00"}))]
pub struct ReopenRequest {
    /// Why the report falls short.
    #[schema(max_length = 500)]
    pub comment: String,
    /// A new deadline, in the future; absent keeps the old one.
    pub deadline: Option<DateTime<Utc>>,
}

impl ReopenRequest {
    pub fn parse(self, now: DateTime<Utc>) -> Result<(String, Option<DateTime<Utc>>), FieldErrors> {
        let mut errors = FieldErrors::new();
        let comment = errors.take(text::required("comment", &self.comment, COMMENT_MAX));
        let deadline = self.deadline.map(|d| d.trunc_subsecs(6));
        if let Some(deadline) = deadline {
            errors.take(future_deadline("deadline", deadline, now));
        }
        match comment {
            Some(comment) if errors.is_empty() => Ok((comment, deadline)),
            _ => Err(errors),
        }
    }
}

/// The branch's latest report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub note: String,
    pub photo_ids: Vec<Uuid>,
    pub reported_by: Uuid,
    pub reported_at: DateTime<Utc>,
}

/// A rectification (整改事项).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RectificationView {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub branch_name: String,
    /// The spot-check finding it came from.
    pub spot_check_item_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub deadline: DateTime<Utc>,
    pub status: RectificationStatus,
    /// Open or reopened past the deadline.
    pub overdue: bool,
    /// `null` until the branch reports.
    pub report: Option<ReportView>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change.
    pub version: i32,
}

impl RectificationView {
    /// The rectification as of `now` (whether it is overdue).
    pub fn at(r: rectification::Model, branch_name: String, now: DateTime<Utc>) -> Self {
        let status = RectificationStatus::parse(&r.status).unwrap_or(RectificationStatus::Open);
        let report = match (r.report_note, r.reported_by, r.reported_at) {
            (Some(note), Some(reported_by), Some(reported_at)) => Some(ReportView {
                note,
                photo_ids: serde_json::from_value(r.report_photo_ids).unwrap_or_default(),
                reported_by,
                reported_at,
            }),
            _ => None,
        };
        RectificationView {
            id: r.id,
            branch_id: r.branch_id,
            branch_name,
            spot_check_item_id: r.spot_check_item_id,
            title: r.title,
            description: r.description,
            deadline: r.deadline,
            status,
            overdue: rectification_overdue(status, r.deadline, now),
            report,
            closed_by: r.closed_by,
            closed_at: r.closed_at,
            created_by: r.created_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

/// A rectification with every step taken on it.
#[derive(Debug, Serialize, ToSchema)]
pub struct RectificationDetail {
    #[serde(flatten)]
    pub rectification: RectificationView,
    /// Oldest first: `created`, `reported` (the note, and the photos in the
    /// snapshot), `reopened` (the comment, and any new deadline), `closed`.
    pub history: Vec<HistoryEntry>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RectificationFilter {
    /// A branch within reach (secretaries always get their own).
    pub branch_id: Option<Uuid>,
    pub status: Option<RectificationStatus>,
    /// `true`: open or reopened past the deadline; `false`: the others.
    pub overdue: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(errors: FieldErrors) -> Vec<String> {
        errors.into_vec().into_iter().map(|e| e.field).collect()
    }

    fn request() -> NewRectificationRequest {
        NewRectificationRequest {
            spot_check_item_id: None,
            branch_id: Some(Uuid::now_v7()),
            title: Some("走访记录不实".into()),
            description: Some("核查发现两户未走访".into()),
            deadline: crate::platform::db::now() + chrono::Duration::days(14),
        }
    }

    #[test]
    fn a_direct_assignment_names_each_missing_field() {
        let now = crate::platform::db::now();
        let bare = NewRectificationRequest {
            spot_check_item_id: None,
            branch_id: None,
            title: Some("  ".into()),
            description: None,
            deadline: now - chrono::Duration::minutes(1),
        };
        assert_eq!(
            fields(bare.parse(now).unwrap_err()),
            ["branch_id", "title", "description", "deadline"]
        );
        assert!(request().parse(now).is_ok());
    }

    #[test]
    fn a_finding_brings_its_own_branch_title_and_description() {
        let from_finding = NewRectificationRequest {
            spot_check_item_id: Some(Uuid::now_v7()),
            branch_id: None,
            title: None,
            description: None,
            deadline: crate::platform::db::now() + chrono::Duration::days(7),
        };
        let parsed = from_finding.parse(crate::platform::db::now()).unwrap();
        assert_eq!(parsed.title, None);
    }

    #[test]
    fn a_reopening_needs_a_comment_and_any_new_deadline_ahead() {
        let now = crate::platform::db::now();
        let bad = ReopenRequest {
            comment: String::new(),
            deadline: Some(now - chrono::Duration::days(1)),
        };
        assert_eq!(fields(bad.parse(now).unwrap_err()), ["comment", "deadline"]);
        let good = ReopenRequest {
            comment: "照片不清".into(),
            deadline: None,
        };
        assert_eq!(good.parse(now).unwrap(), ("照片不清".into(), None));
    }

    #[test]
    fn a_report_needs_a_note_and_at_most_nine_photos() {
        let bad = ReportRequest {
            note: " ".into(),
            photo_ids: (0..10).map(|_| Uuid::now_v7()).collect(),
        };
        assert_eq!(fields(bad.parse().unwrap_err()), ["note", "photo_ids"]);
        let id = Uuid::now_v7();
        let good = ReportRequest {
            note: "已整改".into(),
            photo_ids: vec![id, id],
        };
        assert_eq!(good.parse().unwrap().photo_ids, [id]);
    }
}
