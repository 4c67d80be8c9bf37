//! Pledge request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::pledge::{
    EvidenceKind, FulfilOutcome, Period, Target, TargetMetric, parse_targets, parse_text,
    parse_year,
};
use crate::domain::text::{self, COMMENT_MAX, SUMMARY_MAX};
use crate::domain::{FieldErrors, PledgeScope, PledgeStatus};
use crate::entities::pledge as entity;

pub use crate::core::review::{ReviewRequest, ReviewView};
pub use crate::domain::MAX_PHOTOS;

/// Most submissions one progress entry cites.
pub const MAX_EVIDENCE: usize = 20;

/// A pledge as the wall lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeSummary {
    pub id: Uuid,
    pub branch_id: Uuid,
    pub scope: PledgeScope,
    /// Who made it: the member (member pledges), or the secretary or admin who
    /// published it (branch pledges).
    pub author_id: Uuid,
    pub author_name: String,
    /// The member whose pledge it is; `null` for branch pledges.
    pub member_id: Option<Uuid>,
    pub year: i32,
    #[schema(example = "践行为民服务承诺")]
    pub title: String,
    pub content: String,
    pub targets: Vec<TargetView>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub status: PledgeStatus,
    /// The latest review decision (member pledges); `null` while pending.
    pub review: Option<ReviewView>,
    /// How it ended; `null` until fulfilled or not.
    pub fulfilment: Option<FulfilmentView>,
    /// 0..100: the mean completion of measurable targets, else the owner's
    /// latest reported percent; `null` when neither exists.
    pub progress_percent: Option<i32>,
    pub rating: RatingSummary,
    pub comment_count: i64,
    /// Bumped by every change.
    pub version: i32,
    pub submitted_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A pledge with its progress (践诺), leader comments and ratings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeView {
    #[serde(flatten)]
    pub pledge: PledgeSummary,
    /// Oldest first.
    pub progress: Vec<ProgressView>,
    /// 领导点评, oldest first.
    pub leader_comments: Vec<CommentView>,
    /// 群众评议, newest first.
    pub ratings: Vec<RatingView>,
}

/// A target with, when measurable, how far it has come.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetView {
    pub description: String,
    pub due_date: Option<NaiveDate>,
    pub metric: Option<TargetMetric>,
    /// Approved submissions counted so far in the pledge's period (measurable targets).
    pub achieved: Option<i64>,
    /// 0..100 (measurable targets).
    pub percent: Option<i32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FulfilmentView {
    pub outcome: FulfilOutcome,
    pub decided_by: Uuid,
    pub note: Option<String>,
    pub decided_at: DateTime<Utc>,
}

/// Average score and number of ratings.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct RatingSummary {
    /// 1..5, one decimal; `null` without ratings.
    pub average: Option<f64>,
    pub count: i64,
}

impl RatingSummary {
    pub fn from_totals(sum: i64, count: i64) -> Self {
        let average = (count > 0).then(|| {
            let mean = sum as f64 / count as f64;
            (mean * 10.0).round() / 10.0
        });
        RatingSummary { average, count }
    }
}

/// One progress entry (践诺记录).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressView {
    pub id: Uuid,
    pub pledge_id: Uuid,
    pub author_id: Uuid,
    pub note: String,
    pub percent: Option<i32>,
    pub photo_ids: Vec<Uuid>,
    pub evidence: Vec<Evidence>,
    pub created_at: DateTime<Utc>,
}

/// A submission cited as evidence of progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    pub kind: EvidenceKind,
    pub id: Uuid,
}

/// A leader comment (领导点评).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommentView {
    pub id: Uuid,
    pub pledge_id: Uuid,
    pub author_id: Uuid,
    pub author_name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// One rating (群众评议): who rated, never their phone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingView {
    pub rater_id: Uuid,
    pub rater_name: String,
    pub score: i32,
    pub comment: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The caller's rating after `PUT …/rating`, with the pledge's new summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RatingAnswer {
    pub pledge_id: Uuid,
    pub score: i32,
    pub comment: Option<String>,
    pub updated_at: DateTime<Utc>,
    pub rating: RatingSummary,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "scope": "member",
    "year": 2026,
    "title": "践行为民服务承诺",
    "content": "每月走访包联户不少于3次，帮助解决实际困难",
    "targets": [
        {"description": "全年走访包联户36次", "due_date": "2026-12-31", "metric": {"metric": "visits", "count": 36}},
        {"description": "参加支部主题党日活动"}
    ]
}))]
pub struct NewPledgeRequest {
    pub scope: PledgeScope,
    #[schema(minimum = 2000, maximum = 2100)]
    pub year: i32,
    #[schema(max_length = 100)]
    pub title: String,
    /// The measures (措施).
    #[schema(max_length = 5000)]
    pub content: String,
    #[schema(min_items = 1, max_items = 20)]
    pub targets: Vec<Target>,
    /// For term pledges (任职承诺) spanning years; default 1 January of `year`.
    pub period_start: Option<NaiveDate>,
    /// Default 31 December of `year`.
    pub period_end: Option<NaiveDate>,
    /// Branch pledges by a township admin name their branch; secretaries
    /// pledge for their own (default).
    pub branch_id: Option<Uuid>,
}

/// Changes to a returned pledge; absent fields stay. Editing sends it back to `pending`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PledgePatch {
    pub year: Option<i32>,
    #[schema(max_length = 100)]
    pub title: Option<String>,
    #[schema(max_length = 5000)]
    pub content: Option<String>,
    pub targets: Option<Vec<Target>>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"note": "本月走访包联户4户，帮助王大爷申请临时救助", "percent": 40, "evidence": []}))]
pub struct ProgressRequest {
    #[schema(max_length = 2000)]
    pub note: String,
    /// Self-reported completion, 0..100.
    #[schema(minimum = 0, maximum = 100)]
    pub percent: Option<i32>,
    #[serde(default)]
    #[schema(max_items = 9)]
    pub photo_ids: Vec<Uuid>,
    /// The owner's visits (or mediation reports) this progress rests on.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct FulfilRequest {
    #[serde(default)]
    pub outcome: FulfilOutcome,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"body": "承诺具体，措施扎实，望抓好落实"}))]
pub struct CommentRequest {
    #[schema(max_length = 500)]
    pub body: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"score": 5, "comment": "为群众办了实事"}))]
pub struct RatingRequest {
    #[schema(minimum = 1, maximum = 5)]
    pub score: i32,
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PledgeFilter {
    pub scope: Option<PledgeScope>,
    pub branch_id: Option<Uuid>,
    /// Member pledges of this member.
    pub member_id: Option<Uuid>,
    pub year: Option<i32>,
    pub status: Option<PledgeStatus>,
}

/// The checked content of a pledge (new, or after an edit).
#[derive(Debug, Clone)]
pub struct PledgeContent {
    pub year: i32,
    pub title: String,
    pub content: String,
    pub targets: Vec<Target>,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub period: Period,
}

impl PledgeContent {
    /// Checks every field, naming each bad one.
    pub fn parse(
        year: i32,
        title: &str,
        content: &str,
        targets: Vec<Target>,
        period_start: Option<NaiveDate>,
        period_end: Option<NaiveDate>,
    ) -> Result<PledgeContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let year = errors.take(parse_year(year));
        let texts = errors.take(parse_text(title, content));
        let targets = errors.take(parse_targets(targets));
        let period = year.and_then(|y| errors.take(Period::parse(y, period_start, period_end)));
        match (year, texts, targets, period) {
            (Some(year), Some((title, content)), Some(targets), Some(period))
                if errors.is_empty() =>
            {
                Ok(PledgeContent {
                    year,
                    title,
                    content,
                    targets,
                    period_start,
                    period_end,
                    period,
                })
            }
            _ => Err(errors),
        }
    }
}

impl NewPledgeRequest {
    pub fn content(&self) -> Result<PledgeContent, FieldErrors> {
        PledgeContent::parse(
            self.year,
            &self.title,
            &self.content,
            self.targets.clone(),
            self.period_start,
            self.period_end,
        )
    }
}

impl PledgePatch {
    /// The content after applying this patch to `current`.
    pub fn apply(self, current: &entity::Model) -> Result<PledgeContent, FieldErrors> {
        let targets = match self.targets {
            Some(targets) => targets,
            None => stored_targets(current),
        };
        PledgeContent::parse(
            self.year.unwrap_or(current.year),
            self.title.as_deref().unwrap_or(&current.title),
            self.content.as_deref().unwrap_or(&current.content),
            targets,
            self.period_start.or(current.period_start),
            self.period_end.or(current.period_end),
        )
    }
}

/// The targets as stored (written by this module, so they read back).
pub fn stored_targets(p: &entity::Model) -> Vec<Target> {
    serde_json::from_value(p.targets.clone()).unwrap_or_default()
}

/// A checked progress entry.
#[derive(Debug, Clone)]
pub struct ProgressContent {
    pub note: String,
    pub percent: Option<i32>,
    pub photo_ids: Vec<Uuid>,
    pub evidence: Vec<Evidence>,
}

impl ProgressRequest {
    pub fn parse(self) -> Result<ProgressContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let note = errors.take(text::required("note", &self.note, SUMMARY_MAX));
        if let Some(percent) = self.percent
            && !(0..=100).contains(&percent)
        {
            errors.add(
                "percent",
                "out_of_range",
                "完成百分比应在 0 到 100 之间",
                "percent must be between 0 and 100",
            );
        }
        if self.photo_ids.len() > MAX_PHOTOS {
            errors.add(
                "photo_ids",
                "too_many",
                format!("照片最多 {MAX_PHOTOS} 张"),
                format!("at most {MAX_PHOTOS} photos"),
            );
        }
        if self.evidence.len() > MAX_EVIDENCE {
            errors.add(
                "evidence",
                "too_many",
                format!("佐证最多 {MAX_EVIDENCE} 项"),
                format!("at most {MAX_EVIDENCE} pieces of evidence"),
            );
        }
        let mut photo_ids: Vec<Uuid> = Vec::with_capacity(self.photo_ids.len());
        for id in self.photo_ids {
            if !photo_ids.contains(&id) {
                photo_ids.push(id);
            }
        }
        let mut evidence: Vec<Evidence> = Vec::with_capacity(self.evidence.len());
        for item in self.evidence {
            if !evidence.contains(&item) {
                evidence.push(item);
            }
        }
        match note {
            Some(note) if errors.is_empty() => Ok(ProgressContent {
                note,
                percent: self.percent,
                photo_ids,
                evidence,
            }),
            _ => Err(errors),
        }
    }
}

impl RatingRequest {
    /// The score (1..5) and the trimmed comment.
    pub fn parse(self) -> Result<(i32, Option<String>), FieldErrors> {
        let mut errors = FieldErrors::new();
        if !(1..=5).contains(&self.score) {
            errors.add(
                "score",
                "out_of_range",
                "评分应为 1 到 5",
                "score must be 1 to 5",
            );
        }
        let comment = errors.take(text::optional(
            "comment",
            self.comment.as_deref(),
            COMMENT_MAX,
        ));
        match comment {
            Some(comment) if errors.is_empty() => Ok((self.score, comment)),
            _ => Err(errors),
        }
    }
}

/// The latest review of a pledge, if decided.
pub fn review_of(p: &entity::Model, status: PledgeStatus) -> Option<ReviewView> {
    if status == PledgeStatus::Pending {
        return None;
    }
    ReviewView::of(
        crate::domain::ReviewStatus::Approved,
        p.reviewer_id,
        p.review_decision.as_deref(),
        p.review_comment.clone(),
        p.reviewed_at,
    )
}

/// How a pledge ended, if it has.
pub fn fulfilment_of(p: &entity::Model, status: PledgeStatus) -> Option<FulfilmentView> {
    let outcome = match status {
        PledgeStatus::Fulfilled => FulfilOutcome::Fulfilled,
        PledgeStatus::NotFulfilled => FulfilOutcome::NotFulfilled,
        _ => return None,
    };
    Some(FulfilmentView {
        outcome,
        decided_by: p.fulfilled_by?,
        note: p.fulfilment_note.clone(),
        decided_at: p.fulfilled_at?,
    })
}

/// The stored scope and status, read back.
pub fn scope_and_status(p: &entity::Model) -> (PledgeScope, PledgeStatus) {
    (
        PledgeScope::parse(&p.scope).unwrap_or(PledgeScope::Member),
        PledgeStatus::parse(&p.status).unwrap_or(PledgeStatus::Pending),
    )
}
