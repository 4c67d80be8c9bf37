//! Mediation reports and their follow-ups in the database.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Select,
};
use uuid::Uuid;

use super::dto::{FollowUpContent, FollowUpState, ReportContent, ReportFilter};
use crate::core::Actor;
use crate::domain::mediation::{EscalationStatus, MediationOutcome};
use crate::domain::{FieldErrors, ReviewStatus};
use crate::entities::{household, mediation_follow_up, mediation_report};
use crate::platform::error::ApiError;
use crate::platform::http::pagination::{OffsetPage, Page};

pub const SUBJECT_KIND: &str = "mediation_report";

/// A report the caller may read, or 404.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<mediation_report::Model, ApiError> {
    actor
        .find_submission::<mediation_report::Entity>(db, id)
        .await
}

/// Reports within reach, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &ReportFilter,
    page: Page,
    now: DateTime<Utc>,
) -> Result<(Vec<mediation_report::Model>, Option<String>), ApiError> {
    let rows = page
        .apply_newest_first(filtered(actor, filter, now), mediation_report::Column::Id)
        .all(db)
        .await?;
    Ok(page.finish(rows, |r| r.id))
}

/// The caller's reports matching `filter` (no paging), for lists and exports.
pub fn filtered(
    actor: &Actor,
    filter: &ReportFilter,
    now: DateTime<Utc>,
) -> Select<mediation_report::Entity> {
    use mediation_report::Column as C;
    let mut query = actor.scoped_submissions::<mediation_report::Entity>();
    if let Some(status) = filter.status {
        query = query.filter(C::Status.eq(status.as_str()));
    }
    if let Some(category) = filter.category {
        query = query.filter(C::Category.eq(category.as_str()));
    }
    if let Some(outcome) = filter.outcome {
        query = query.filter(C::Outcome.eq(outcome.as_str()));
    }
    if let Some(risk) = filter.risk_level {
        query = query.filter(C::RiskLevel.eq(risk.as_str()));
    }
    match filter.escalated {
        Some(true) => query = query.filter(C::EscalationStatus.is_not_null()),
        Some(false) => query = query.filter(C::EscalationStatus.is_null()),
        None => {}
    }
    if let Some(status) = filter.escalation_status {
        query = query.filter(C::EscalationStatus.eq(status.as_str()));
    }
    if let Some(branch_id) = filter.branch_id {
        query = query.filter(C::BranchId.eq(branch_id));
    }
    if let Some(member_id) = filter.member_id {
        query = query.filter(C::MemberId.eq(member_id));
    }
    if let Some(from) = filter.from {
        query = query.filter(C::OccurredAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(C::OccurredAt.lt(to));
    }
    match filter.follow_up {
        Some(FollowUpState::Due) => query = query.filter(C::FollowUpDueAt.is_not_null()),
        Some(FollowUpState::Overdue) => query = query.filter(C::FollowUpDueAt.lt(now)),
        None => {}
    }
    query
}

/// The households a report names: all must be of the author's branch.
pub async fn check_households(
    db: &impl ConnectionTrait,
    actor: &Actor,
    ids: &[Uuid],
) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let found: Vec<Uuid> = household::Entity::find()
        .select_only()
        .column(household::Column::Id)
        .filter(household::Column::Id.is_in(ids.iter().copied()))
        .filter(household::Column::TownshipId.eq(actor.township_id))
        .filter(household::Column::BranchId.eq(actor.branch_id.unwrap_or_default()))
        .into_tuple()
        .all(db)
        .await?;
    let mut errors = FieldErrors::new();
    for (i, id) in ids.iter().enumerate() {
        if !found.contains(id) {
            errors.add(
                format!("household_ids[{i}]"),
                "not_found",
                "农户不存在或不属于本支部",
                "no such household in your branch",
            );
        }
    }
    Ok(errors.finish(|| ())?)
}

/// What an insert or resubmission writes besides the content.
pub struct Submitted {
    pub branch_id: Uuid,
    pub now: DateTime<Utc>,
    /// The follow-up due time the content implies.
    pub follow_up_due_at: Option<DateTime<Utc>>,
}

/// Inserts a new pending report.
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    content: &ReportContent,
    at: &Submitted,
) -> Result<mediation_report::Model, ApiError> {
    let location = content.location;
    Ok(mediation_report::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        branch_id: Set(at.branch_id),
        member_id: Set(actor.user_id),
        title: Set(content.title.clone()),
        category: Set(content.category.as_str().to_owned()),
        parties: Set(serde_json::json!(content.parties)),
        description: Set(content.description.clone()),
        occurred_at: Set(content.occurred_at),
        received_at: Set(at.now),
        submitted_at: Set(at.now),
        lat: Set(location.map(|l| l.lat)),
        lng: Set(location.map(|l| l.lng)),
        accuracy_m: Set(location.and_then(|l| l.accuracy_m)),
        coord_system: Set(location.map(|l| l.coord_system.as_str().to_owned())),
        household_ids: Set(serde_json::json!(content.household_ids)),
        process: Set(content.process.clone()),
        outcome: Set(content.outcome.as_str().to_owned()),
        agreement: Set(content.agreement.clone()),
        risk_level: Set(content.risk_level.as_str().to_owned()),
        photo_ids: Set(serde_json::json!(content.photo_ids)),
        status: Set(ReviewStatus::Pending.as_str().to_owned()),
        version: Set(1),
        reviewer_id: Set(None),
        review_decision: Set(None),
        review_comment: Set(None),
        reviewed_at: Set(None),
        escalation_status: Set(None),
        escalation_reason: Set(None),
        escalated_by: Set(None),
        escalated_at: Set(None),
        acknowledged_by: Set(None),
        acknowledged_at: Set(None),
        resolved_by: Set(None),
        resolved_at: Set(None),
        escalation_note: Set(None),
        latest_outcome: Set(content.outcome.as_str().to_owned()),
        follow_up_count: Set(0),
        follow_up_due_at: Set(at.follow_up_due_at),
        overdue_notified_for: Set(None),
        created_at: Set(at.now),
        updated_at: Set(at.now),
    }
    .insert(db)
    .await?)
}

/// Writes an edited returned report back as pending, conditional on the
/// version the author edited (a concurrent edit answers 409). Until a
/// follow-up is recorded, the reported outcome is the latest one.
pub async fn resubmit(
    db: &impl ConnectionTrait,
    current: &mediation_report::Model,
    content: &ReportContent,
    at: &Submitted,
) -> Result<mediation_report::Model, ApiError> {
    use mediation_report::Column as C;
    let location = content.location;
    let mut update = mediation_report::Entity::update_many()
        .col_expr(C::Title, Expr::value(content.title.clone()))
        .col_expr(C::Category, Expr::value(content.category.as_str()))
        .col_expr(C::Parties, Expr::value(serde_json::json!(content.parties)))
        .col_expr(C::Description, Expr::value(content.description.clone()))
        .col_expr(C::OccurredAt, Expr::value(content.occurred_at))
        .col_expr(C::Lat, Expr::value(location.map(|l| l.lat)))
        .col_expr(C::Lng, Expr::value(location.map(|l| l.lng)))
        .col_expr(
            C::AccuracyM,
            Expr::value(location.and_then(|l| l.accuracy_m)),
        )
        .col_expr(
            C::CoordSystem,
            Expr::value(location.map(|l| l.coord_system.as_str().to_owned())),
        )
        .col_expr(
            C::HouseholdIds,
            Expr::value(serde_json::json!(content.household_ids)),
        )
        .col_expr(C::Process, Expr::value(content.process.clone()))
        .col_expr(C::Outcome, Expr::value(content.outcome.as_str()))
        .col_expr(C::Agreement, Expr::value(content.agreement.clone()))
        .col_expr(C::RiskLevel, Expr::value(content.risk_level.as_str()))
        .col_expr(
            C::PhotoIds,
            Expr::value(serde_json::json!(content.photo_ids)),
        )
        .col_expr(C::Status, Expr::value(ReviewStatus::Pending.as_str()))
        .col_expr(C::SubmittedAt, Expr::value(at.now))
        .col_expr(C::UpdatedAt, Expr::value(at.now))
        .col_expr(C::Version, Expr::col(C::Version).add(1));
    if current.follow_up_count == 0 {
        update = update
            .col_expr(C::LatestOutcome, Expr::value(content.outcome.as_str()))
            .col_expr(C::FollowUpDueAt, Expr::value(at.follow_up_due_at));
    }
    let updated = update
        .filter(C::Id.eq(current.id))
        .filter(C::Version.eq(current.version))
        .filter(C::Status.eq(ReviewStatus::Returned.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(crate::core::review::not_returned());
    }
    reload(db, current.id).await
}

/// Marks a report escalated, unless it already is (409).
pub async fn escalate(
    db: &impl ConnectionTrait,
    report: &mediation_report::Model,
    actor: &Actor,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<mediation_report::Model, ApiError> {
    use mediation_report::Column as C;
    let updated = mediation_report::Entity::update_many()
        .col_expr(
            C::EscalationStatus,
            Expr::value(EscalationStatus::Open.as_str()),
        )
        .col_expr(C::EscalationReason, Expr::value(reason))
        .col_expr(C::EscalatedBy, Expr::value(actor.user_id))
        .col_expr(C::EscalatedAt, Expr::value(now))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .filter(C::Id.eq(report.id))
        .filter(C::EscalationStatus.is_null())
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(already_escalated());
    }
    reload(db, report.id).await
}

pub fn already_escalated() -> ApiError {
    ApiError::conflict(
        "escalated",
        "already_escalated",
        "该纠纷已上报乡党委",
        "this report has already been escalated",
    )
}

/// Moves an escalation from `from` to `to`, recording who and when;
/// conditional on `from`, so two admins acting at once cannot both succeed.
pub async fn move_escalation(
    db: &impl ConnectionTrait,
    report: &mediation_report::Model,
    actor: &Actor,
    from: EscalationStatus,
    to: EscalationStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Option<mediation_report::Model>, ApiError> {
    use mediation_report::Column as C;
    let (by, at) = match to {
        EscalationStatus::Resolved => (C::ResolvedBy, C::ResolvedAt),
        _ => (C::AcknowledgedBy, C::AcknowledgedAt),
    };
    let mut update = mediation_report::Entity::update_many()
        .col_expr(C::EscalationStatus, Expr::value(to.as_str()))
        .col_expr(by, Expr::value(actor.user_id))
        .col_expr(at, Expr::value(now))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::col(C::Version).add(1));
    if let Some(note) = note {
        update = update.col_expr(C::EscalationNote, Expr::value(note));
    }
    let updated = update
        .filter(C::Id.eq(report.id))
        .filter(C::EscalationStatus.eq(from.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Ok(None);
    }
    reload(db, report.id).await.map(Some)
}

/// Escalations of the caller's township, open first, then oldest first.
pub async fn escalations(
    db: &impl ConnectionTrait,
    actor: &Actor,
    status: Option<EscalationStatus>,
    branch_id: Option<Uuid>,
    page: OffsetPage,
) -> Result<(Vec<mediation_report::Model>, Option<String>), ApiError> {
    use mediation_report::Column as C;
    // Open < acknowledged < resolved, as the township works through them;
    // the offset cursor keeps this order stable while paging.
    let rank = Expr::case(C::EscalationStatus.eq(EscalationStatus::Open.as_str()), 0)
        .case(
            C::EscalationStatus.eq(EscalationStatus::Acknowledged.as_str()),
            1,
        )
        .finally(2);
    let mut query = actor
        .scoped::<mediation_report::Entity>()
        .filter(C::EscalationStatus.is_not_null());
    if let Some(status) = status {
        query = query.filter(C::EscalationStatus.eq(status.as_str()));
    }
    if let Some(branch_id) = branch_id {
        query = query.filter(C::BranchId.eq(branch_id));
    }
    let rows = page
        .apply(
            query
                .order_by(Expr::expr(rank), sea_orm::Order::Asc)
                .order_by_asc(C::EscalatedAt)
                .order_by_asc(C::Id),
        )
        .all(db)
        .await?;
    Ok(page.finish(rows))
}

/// Records a follow-up and moves the report's latest outcome and next due
/// time along with it.
pub async fn add_follow_up(
    db: &impl ConnectionTrait,
    actor: &Actor,
    report: &mediation_report::Model,
    content: &FollowUpContent,
    next_due: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<(mediation_follow_up::Model, mediation_report::Model), ApiError> {
    use mediation_report::Column as C;
    let follow_up = mediation_follow_up::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(report.township_id),
        branch_id: Set(report.branch_id),
        report_id: Set(report.id),
        author_id: Set(actor.user_id),
        visited_at: Set(content.visited_at),
        note: Set(content.note.clone()),
        outcome: Set(content.outcome.as_str().to_owned()),
        satisfaction: Set(content.satisfaction),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    mediation_report::Entity::update_many()
        .col_expr(C::LatestOutcome, Expr::value(content.outcome.as_str()))
        .col_expr(C::FollowUpCount, Expr::col(C::FollowUpCount).add(1))
        .col_expr(C::FollowUpDueAt, Expr::value(next_due))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .filter(C::Id.eq(report.id))
        .exec(db)
        .await?;
    Ok((follow_up, reload(db, report.id).await?))
}

/// A report's follow-ups, oldest first.
pub async fn follow_ups(
    db: &impl ConnectionTrait,
    report_id: Uuid,
) -> Result<Vec<mediation_follow_up::Model>, ApiError> {
    Ok(mediation_follow_up::Entity::find()
        .filter(mediation_follow_up::Column::ReportId.eq(report_id))
        .order_by_asc(mediation_follow_up::Column::Id)
        .all(db)
        .await?)
}

/// Reports whose follow-up is overdue at `now` and not yet notified for
/// their current due time, across townships (the background sweep).
pub async fn newly_overdue(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<mediation_report::Model>, ApiError> {
    use mediation_report::Column as C;
    Ok(mediation_report::Entity::find()
        .filter(C::FollowUpDueAt.lt(now))
        .filter(
            sea_orm::Condition::any()
                .add(C::OverdueNotifiedFor.is_null())
                .add(Expr::col(C::OverdueNotifiedFor).ne(Expr::col(C::FollowUpDueAt))),
        )
        .order_by_asc(C::FollowUpDueAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Claims the overdue notice of `report` for its current due time; false
/// when another replica (or an earlier sweep) already did.
pub async fn claim_overdue_notice(
    db: &impl ConnectionTrait,
    report: &mediation_report::Model,
) -> Result<bool, ApiError> {
    use mediation_report::Column as C;
    let Some(due) = report.follow_up_due_at else {
        return Ok(false);
    };
    let mut update = mediation_report::Entity::update_many()
        .col_expr(C::OverdueNotifiedFor, Expr::value(due))
        .filter(C::Id.eq(report.id))
        .filter(C::FollowUpDueAt.eq(due));
    update = match report.overdue_notified_for {
        Some(notified) => update.filter(C::OverdueNotifiedFor.eq(notified)),
        None => update.filter(C::OverdueNotifiedFor.is_null()),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Overdue follow-ups within the caller's reach, most overdue first.
pub async fn overdue_in_reach(
    db: &impl ConnectionTrait,
    actor: &Actor,
    now: DateTime<Utc>,
    page: OffsetPage,
) -> Result<(Vec<mediation_report::Model>, Option<String>), ApiError> {
    use mediation_report::Column as C;
    let query = actor
        .scoped_submissions::<mediation_report::Entity>()
        .filter(C::FollowUpDueAt.lt(now))
        .filter(C::Status.ne(ReviewStatus::Rejected.as_str()))
        .order_by_asc(C::FollowUpDueAt)
        .order_by_asc(C::Id);
    let rows = page.apply(query).all(db).await?;
    Ok(page.finish(rows))
}

/// Whether the outcome settles the dispute (no more follow-ups due).
pub fn settles(outcome: MediationOutcome) -> bool {
    outcome == MediationOutcome::Resolved
}

async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<mediation_report::Model, ApiError> {
    mediation_report::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}
