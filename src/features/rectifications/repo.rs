//! Rectifications in the database.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::dto::{RectificationFilter, Report};
use crate::core::{Action, Actor};
use crate::domain::supervision::RectificationStatus;
use crate::entities::rectification;
use crate::platform::error::ApiError;
use crate::platform::http::pagination::Page;

pub const SUBJECT_KIND: &str = "rectification";

/// The statuses in which the branch owes a report.
const AWAITING: [RectificationStatus; 2] =
    [RectificationStatus::Open, RectificationStatus::Reopened];

/// A rectification the caller may read: 404 out of reach, 403 for members.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<rectification::Model, ApiError> {
    let found = actor.find_in_reach::<rectification::Entity>(db, id).await?;
    actor.may(Action::ReadRectification, Some(found.branch_id))?;
    Ok(found)
}

/// As [`find_readable`], but one the caller may not read does not exist
/// (for what is attached to it, e.g. the evidence photos).
pub async fn find_visible(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<rectification::Model, ApiError> {
    find_readable(db, actor, id).await.map_err(|err| match err {
        ApiError::Forbidden => ApiError::NotFound,
        other => other,
    })
}

/// Rectifications within reach, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &RectificationFilter,
    page: Page,
    now: DateTime<Utc>,
) -> Result<(Vec<rectification::Model>, Option<String>), ApiError> {
    use rectification::Column as C;
    let mut query = actor.scoped::<rectification::Entity>();
    if let Some(branch_id) = filter.branch_id {
        query = query.filter(C::BranchId.eq(branch_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(C::Status.eq(status.as_str()));
    }
    let overdue = Condition::all()
        .add(C::Status.is_in(AWAITING.map(RectificationStatus::as_str)))
        .add(C::Deadline.lt(now));
    match filter.overdue {
        Some(true) => query = query.filter(overdue),
        Some(false) => query = query.filter(overdue.not()),
        None => {}
    }
    let rows = page.apply_newest_first(query, C::Id).all(db).await?;
    Ok(page.finish(rows, |r| r.id))
}

/// What a new rectification is.
pub struct NewRectification<'a> {
    pub branch_id: Uuid,
    pub spot_check_item_id: Option<Uuid>,
    pub title: &'a str,
    pub description: &'a str,
    pub deadline: DateTime<Utc>,
}

/// Inserts an open rectification. A second one of the same finding breaks
/// the unique index (the caller checks first; the index settles races).
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewRectification<'_>,
    now: DateTime<Utc>,
) -> Result<rectification::Model, ApiError> {
    rectification::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        branch_id: Set(new.branch_id),
        spot_check_item_id: Set(new.spot_check_item_id),
        title: Set(new.title.to_owned()),
        description: Set(new.description.to_owned()),
        deadline: Set(new.deadline),
        status: Set(RectificationStatus::Open.as_str().to_owned()),
        version: Set(1),
        report_note: Set(None),
        report_photo_ids: Set(serde_json::json!([])),
        reported_by: Set(None),
        reported_at: Set(None),
        closed_by: Set(None),
        closed_at: Set(None),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
        overdue_notified_for: Set(None),
    }
    .insert(db)
    .await
    .map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            already_rectified()
        } else {
            err.into()
        }
    })
}

pub fn already_rectified() -> ApiError {
    ApiError::conflict(
        "spot_check_item_id",
        "already_rectified",
        "该核查问题已交办整改",
        "a rectification has already been made of this finding",
    )
}

/// The rectification made of a spot-check finding, if any.
pub async fn of_finding(
    db: &impl ConnectionTrait,
    item_id: Uuid,
) -> Result<Option<rectification::Model>, ApiError> {
    Ok(rectification::Entity::find()
        .filter(rectification::Column::SpotCheckItemId.eq(item_id))
        .one(db)
        .await?)
}

/// Records the branch's report, conditional on the status and version
/// seen (of two reports at once, one wins; the other is told 409).
pub async fn report(
    db: &impl ConnectionTrait,
    actor: &Actor,
    seen: &rectification::Model,
    report: &Report,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use rectification::Column as C;
    let updated = rectification::Entity::update_many()
        .col_expr(
            C::Status,
            Expr::value(RectificationStatus::Reported.as_str()),
        )
        .col_expr(C::ReportNote, Expr::value(report.note.clone()))
        .col_expr(
            C::ReportPhotoIds,
            Expr::value(serde_json::json!(report.photo_ids)),
        )
        .col_expr(C::ReportedBy, Expr::value(actor.user_id))
        .col_expr(C::ReportedAt, Expr::value(now))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .filter(C::Id.eq(seen.id))
        .filter(C::Version.eq(seen.version))
        .filter(C::Status.is_in(AWAITING.map(RectificationStatus::as_str)))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The township's decision on a report: `closed`, or `reopened` (with an
/// optional new deadline). Conditional on the version seen.
pub async fn decide(
    db: &impl ConnectionTrait,
    actor: &Actor,
    seen: &rectification::Model,
    to: RectificationStatus,
    new_deadline: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use rectification::Column as C;
    let mut update = rectification::Entity::update_many()
        .col_expr(C::Status, Expr::value(to.as_str()))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .col_expr(C::Version, Expr::col(C::Version).add(1));
    if to == RectificationStatus::Closed {
        update = update
            .col_expr(C::ClosedBy, Expr::value(actor.user_id))
            .col_expr(C::ClosedAt, Expr::value(now));
    }
    if let Some(deadline) = new_deadline {
        update = update.col_expr(C::Deadline, Expr::value(deadline));
    }
    let updated = update
        .filter(C::Id.eq(seen.id))
        .filter(C::Version.eq(seen.version))
        .filter(C::Status.eq(RectificationStatus::Reported.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// One rectification, read again after a change.
pub async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<rectification::Model, ApiError> {
    rectification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Rectifications past their deadline with no report owed to them yet
/// notified for that deadline, across townships (the background sweep).
pub async fn newly_overdue(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<rectification::Model>, ApiError> {
    use rectification::Column as C;
    Ok(rectification::Entity::find()
        .filter(C::Status.is_in(AWAITING.map(RectificationStatus::as_str)))
        .filter(C::Deadline.lt(now))
        .filter(
            Condition::any()
                .add(C::OverdueNotifiedFor.is_null())
                .add(Expr::col(C::OverdueNotifiedFor).ne(Expr::col(C::Deadline))),
        )
        .order_by_asc(C::Deadline)
        .order_by_asc(C::Id)
        .limit(limit)
        .all(db)
        .await?)
}

/// Claims the overdue notice of `seen` for its current deadline; false when
/// another replica (or an earlier sweep) already did, or the branch has
/// reported since.
pub async fn claim_overdue_notice(
    db: &impl ConnectionTrait,
    seen: &rectification::Model,
) -> Result<bool, ApiError> {
    use rectification::Column as C;
    let mut update = rectification::Entity::update_many()
        .col_expr(C::OverdueNotifiedFor, Expr::value(seen.deadline))
        .filter(C::Id.eq(seen.id))
        .filter(C::Deadline.eq(seen.deadline))
        .filter(C::Status.is_in(AWAITING.map(RectificationStatus::as_str)));
    update = match seen.overdue_notified_for {
        Some(notified) => update.filter(C::OverdueNotifiedFor.eq(notified)),
        None => update.filter(C::OverdueNotifiedFor.is_null()),
    };
    Ok(update.exec(db).await?.rows_affected == 1)
}
