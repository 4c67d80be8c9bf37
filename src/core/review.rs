//! Deciding on a submission and keeping its history, for any kind that
//! implements [`Reviewable`].

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::Actor;
use crate::core::access::Submission;
use crate::domain::review::{ReviewRefusal, decide};
use crate::domain::{ReviewDecision, ReviewStatus, SubjectKind};
use crate::entities::{mediation_report, pledge, submission_event, visit};
use crate::platform::db::Batch;
use crate::platform::error::ApiError;

/// A submission kind with the review columns.
pub trait Reviewable: Submission {
    /// `visit`, `mediation_report`, `pledge`.
    const SUBJECT_KIND: &'static str;
    fn version_column() -> Self::Column;
    fn reviewer_column() -> Self::Column;
    fn decision_column() -> Self::Column;
    fn comment_column() -> Self::Column;
    fn reviewed_at_column() -> Self::Column;
    fn updated_at_column() -> Self::Column;
}

impl Reviewable for visit::Entity {
    const SUBJECT_KIND: &'static str = "visit";
    fn version_column() -> Self::Column {
        visit::Column::Version
    }
    fn reviewer_column() -> Self::Column {
        visit::Column::ReviewerId
    }
    fn decision_column() -> Self::Column {
        visit::Column::ReviewDecision
    }
    fn comment_column() -> Self::Column {
        visit::Column::ReviewComment
    }
    fn reviewed_at_column() -> Self::Column {
        visit::Column::ReviewedAt
    }
    fn updated_at_column() -> Self::Column {
        visit::Column::UpdatedAt
    }
}

impl Reviewable for mediation_report::Entity {
    const SUBJECT_KIND: &'static str = "mediation_report";
    fn version_column() -> Self::Column {
        mediation_report::Column::Version
    }
    fn reviewer_column() -> Self::Column {
        mediation_report::Column::ReviewerId
    }
    fn decision_column() -> Self::Column {
        mediation_report::Column::ReviewDecision
    }
    fn comment_column() -> Self::Column {
        mediation_report::Column::ReviewComment
    }
    fn reviewed_at_column() -> Self::Column {
        mediation_report::Column::ReviewedAt
    }
    fn updated_at_column() -> Self::Column {
        mediation_report::Column::UpdatedAt
    }
}

/// The latest decision on a submission, as every submission shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewView {
    pub reviewer_id: Uuid,
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    pub reviewed_at: DateTime<Utc>,
}

impl ReviewView {
    /// The decision stored in a submission's review columns; `None` while
    /// it is pending (a resubmitted one keeps its old columns until decided).
    pub fn of(
        status: ReviewStatus,
        reviewer_id: Option<Uuid>,
        decision: Option<&str>,
        comment: Option<String>,
        reviewed_at: Option<DateTime<Utc>>,
    ) -> Option<Self> {
        if status == ReviewStatus::Pending {
            return None;
        }
        Some(ReviewView {
            reviewer_id: reviewer_id?,
            decision: decision.and_then(ReviewDecision::parse)?,
            comment,
            reviewed_at: reviewed_at?,
        })
    }
}

impl Reviewable for pledge::Entity {
    const SUBJECT_KIND: &'static str = "pledge";
    fn version_column() -> Self::Column {
        pledge::Column::Version
    }
    fn reviewer_column() -> Self::Column {
        pledge::Column::ReviewerId
    }
    fn decision_column() -> Self::Column {
        pledge::Column::ReviewDecision
    }
    fn comment_column() -> Self::Column {
        pledge::Column::ReviewComment
    }
    fn reviewed_at_column() -> Self::Column {
        pledge::Column::ReviewedAt
    }
    fn updated_at_column() -> Self::Column {
        pledge::Column::UpdatedAt
    }
}

/// What is known of a submission when deciding on it.
pub struct Pending {
    pub id: Uuid,
    pub status: ReviewStatus,
    pub version: i32,
}

/// Applies `decision` by `reviewer` to a submission seen at `seen.version`.
/// The update is conditional on that version and on `pending`, so of two
/// reviewers deciding at once exactly one wins; the other gets 409.
pub async fn record_decision<E: Reviewable>(
    db: &impl ConnectionTrait,
    seen: &Pending,
    decision: ReviewDecision,
    comment: Option<&str>,
    reviewer: &Actor,
) -> Result<ReviewStatus, ApiError> {
    let outcome = decide(seen.status, decision, comment).map_err(|refusal| match refusal {
        ReviewRefusal::NotPending(_) => not_pending(),
        ReviewRefusal::CommentRequired => ReviewRefusal::comment_required().into(),
    })?;
    let now = crate::platform::db::now();
    let updated = E::update_many()
        .col_expr(E::status_column(), Expr::value(outcome.as_str()))
        .col_expr(E::reviewer_column(), Expr::value(reviewer.user_id))
        .col_expr(E::decision_column(), Expr::value(decision.as_str()))
        .col_expr(
            E::comment_column(),
            Expr::value(
                comment
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned),
            ),
        )
        .col_expr(E::reviewed_at_column(), Expr::value(now))
        .col_expr(E::updated_at_column(), Expr::value(now))
        .col_expr(E::version_column(), Expr::col(E::version_column()).add(1))
        .filter(E::id_column().eq(seen.id))
        .filter(E::version_column().eq(seen.version))
        .filter(E::status_column().eq(ReviewStatus::Pending.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(not_pending());
    }
    Ok(outcome)
}

/// An edit of a submission that is not `returned` (409).
pub fn not_returned() -> ApiError {
    ApiError::conflict(
        "status",
        "not_returned",
        "只有被退回的记录可以修改",
        "only a returned submission can be edited",
    )
}

/// A decision on a submission that is no longer `pending` (409).
pub fn not_pending() -> ApiError {
    ApiError::conflict(
        "status",
        "not_pending",
        "该记录已审核或已变更，请刷新后再试",
        "this submission is no longer pending",
    )
}

/// An entry to append to a submission's history.
pub struct HistoryEvent<'a> {
    pub subject_kind: &'a str,
    pub subject_id: Uuid,
    /// The submission's version after the event.
    pub version: i32,
    pub action: &'a str,
    pub comment: Option<&'a str>,
    pub snapshot: Option<Value>,
}

/// Appends an entry to a submission's history.
pub async fn record_event(
    db: &impl ConnectionTrait,
    actor: &Actor,
    event: HistoryEvent<'_>,
) -> Result<(), ApiError> {
    let mut batch = Batch::default();
    add_event(&mut batch, actor, event);
    Ok(batch.write(db).await?)
}

/// [`record_event`], as a row of `batch`.
pub fn add_event(batch: &mut Batch, actor: &Actor, event: HistoryEvent<'_>) {
    batch.insert(submission_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        subject_kind: Set(event.subject_kind.to_owned()),
        subject_id: Set(event.subject_id),
        version: Set(event.version),
        action: Set(event.action.to_owned()),
        actor_id: Set(actor.user_id),
        comment: Set(event.comment.map(str::to_owned)),
        snapshot: Set(event.snapshot),
        created_at: Set(crate::platform::db::now()),
    });
}

/// One entry of a submission's history.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    /// The submission's version after this entry.
    pub version: i32,
    /// `submitted`, `resubmitted`, `approved`, `returned`, `rejected`.
    pub action: String,
    pub actor_id: Uuid,
    pub comment: Option<String>,
    /// The submission as it stood after this entry (earlier versions stay readable).
    #[schema(value_type = Option<Object>)]
    pub snapshot: Option<Value>,
    pub at: DateTime<Utc>,
}

/// Everything that happened to a submission, oldest first.
pub async fn history(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    subject_kind: &str,
    subject_id: Uuid,
) -> Result<Vec<HistoryEntry>, ApiError> {
    Ok(submission_event::Entity::find()
        .filter(submission_event::Column::TownshipId.eq(township_id))
        .filter(submission_event::Column::SubjectKind.eq(subject_kind))
        .filter(submission_event::Column::SubjectId.eq(subject_id))
        .order_by_asc(submission_event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| HistoryEntry {
            version: e.version,
            action: e.action,
            actor_id: e.actor_id,
            comment: e.comment,
            snapshot: e.snapshot,
            at: e.created_at,
        })
        .collect())
}

/// A secretary's decision on a submission.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"decision": "return", "comment": "请补充现场照片"}))]
pub struct ReviewRequest {
    pub decision: ReviewDecision,
    /// Required to return or reject.
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

/// How one kind of submission is decided, in the caller's transaction: scope,
/// the conditional update, history, outbox and audit.
pub type Decide =
    for<'a> fn(
        &'a DatabaseTransaction,
        &'a Actor,
        Uuid,
        ReviewDecision,
        Option<&'a str>,
    ) -> Pin<Box<dyn Future<Output = Result<ReviewStatus, ApiError>> + Send + 'a>>;

/// A kind of submission registered for review: each feature declares its
/// own, and the app lists them in [`ReviewKinds`].
#[derive(Clone, Copy)]
pub struct ReviewKind {
    pub kind: SubjectKind,
    pub decide: Decide,
}

/// Every kind the app reviews, for the handlers that take any kind (bulk
/// review) without knowing the features that declare them.
#[derive(Clone, Copy)]
pub struct ReviewKinds(pub &'static [ReviewKind]);

impl ReviewKinds {
    pub fn of(&self, kind: SubjectKind) -> Option<&'static ReviewKind> {
        self.0.iter().find(|k| k.kind == kind)
    }
}
