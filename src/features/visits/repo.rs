//! Visits in the database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, IntoActiveModel,
    PaginatorTrait, QueryFilter, QuerySelect, QueryTrait,
};
use uuid::Uuid;

use super::dto::{VisitContent, VisitFilter};
use crate::core::Actor;
use crate::domain::visit::FlagInputs;
use crate::domain::{FieldErrors, Location, QualityThresholds, ReviewStatus, VisitFlag};
use crate::entities::{household, upload, upload_attachment, visit};
use crate::platform::db::Batch;
use crate::platform::error::ApiError;
use crate::platform::http::pagination::Page;

pub const SUBJECT_KIND: &str = "visit";

/// A visit the caller may read, or 404.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<visit::Model, ApiError> {
    actor.find_submission::<visit::Entity>(db, id).await
}

/// Visits within reach, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &VisitFilter,
    page: Page,
) -> Result<(Vec<visit::Model>, Option<String>), ApiError> {
    let query = filtered(actor, filter)?;
    let rows = page
        .apply_newest_first(query, visit::Column::Id)
        .all(db)
        .await?;
    Ok(page.finish(rows, |v| v.id))
}

/// The caller's visits matching `filter` (no paging), for exports.
pub fn filtered(
    actor: &Actor,
    filter: &VisitFilter,
) -> Result<sea_orm::Select<visit::Entity>, ApiError> {
    let mut query = actor.scoped_submissions::<visit::Entity>();
    if let Some(member_id) = filter.member_id {
        query = query.filter(visit::Column::MemberId.eq(member_id));
    }
    if let Some(household_id) = filter.household_id {
        query = query.filter(visit::Column::HouseholdId.eq(household_id));
    }
    if let Some(branch_id) = filter.branch_id {
        query = query.filter(visit::Column::BranchId.eq(branch_id));
    }
    if let Some(status) = filter.status {
        query = query.filter(visit::Column::Status.eq(status.as_str()));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(visit::Column::Kind.eq(kind.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(visit::Column::VisitedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(visit::Column::VisitedAt.lt(to));
    }
    if let Some(flag) = filter.flag {
        let quoted = serde_json::to_string(&flag).map_err(anyhow::Error::from)?;
        query = query.filter(
            Expr::col(visit::Column::Flags)
                .cast_as(Alias::new("text"))
                .like(crate::platform::db::containing(&quoted)),
        );
    }
    Ok(query)
}

/// What a check-in reads before it writes, in one statement.
pub struct Surroundings {
    pub household: household::Model,
    /// The member's other visits in the burst window, counted up to the threshold.
    pub nearby_visits_by_member: u32,
    /// Whether the caller's `probe` found a row.
    pub probed: bool,
}

/// The household a member checks in at, which must be of their own branch,
/// and how many of the member's other visits fall within the burst window
/// around `visited_at` (counted up to the threshold: only whether it is
/// reached matters, so a member with thousands of visits costs no more than
/// one with five); and whether `probe`, a query of the caller's (a retry's
/// idempotency key), finds a row. One statement, as a check-in pays for each
/// round trip.
pub async fn surroundings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    content: &VisitContent,
    edited: Option<Uuid>,
    thresholds: &QualityThresholds,
    probe: Option<SelectStatement>,
) -> Result<Surroundings, ApiError> {
    let window = thresholds.burst_window();
    let mut nearby = visit::Entity::find()
        .select_only()
        .expr(Expr::val(1))
        .filter(visit::Column::MemberId.eq(actor.user_id))
        .filter(visit::Column::VisitedAt.gte(content.visited_at - window))
        .filter(visit::Column::VisitedAt.lte(content.visited_at + window));
    if let Some(id) = edited {
        nearby = nearby.filter(visit::Column::Id.ne(id));
    }
    let nearby = nearby.limit(u64::from(thresholds.burst_count)).into_query();
    let counted = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from_subquery(nearby, Alias::new("nearby"))
        .to_owned();
    let probed = match probe {
        Some(probe) => Expr::exists(probe),
        None => Expr::val(false),
    };
    let query = household::Entity::find_by_id(content.household_id)
        .filter(household::Column::TownshipId.eq(actor.township_id))
        .filter(household::Column::BranchId.eq(actor.branch_id.unwrap_or_default()))
        .expr_as(
            Expr::SubQuery(None, Box::new(counted.into())),
            "nearby_visits",
        )
        .expr_as(probed, "probed")
        .build(db.get_database_backend());
    let Some(row) = db.query_one_raw(query).await? else {
        return Err(FieldErrors::single(
            "household_id",
            "not_found",
            "农户不存在或不属于本支部",
            "no such household in your branch",
        )
        .into());
    };
    let nearby: i64 = row.try_get("", "nearby_visits")?;
    Ok(Surroundings {
        household: household::Model::from_query_result(&row, "")?,
        nearby_visits_by_member: u32::try_from(nearby).unwrap_or(u32::MAX),
        probed: row.try_get("", "probed")?,
    })
}

/// A check-in being assessed.
pub struct CheckIn<'a> {
    /// `None` for a new visit; an edited one is not its own neighbour.
    pub visit_id: Option<Uuid>,
    pub household: &'a household::Model,
    pub content: &'a VisitContent,
    pub photos: &'a [upload::Model],
    pub received_at: DateTime<Utc>,
    /// The member's other visits in the burst window, from [`surroundings`].
    pub nearby_visits_by_member: u32,
}

/// Distance and quality flags of a check-in, from the township's thresholds.
pub async fn assess(
    db: &impl ConnectionTrait,
    thresholds: &QualityThresholds,
    check_in: &CheckIn<'_>,
) -> Result<(Option<f64>, Vec<VisitFlag>), ApiError> {
    let content = check_in.content;
    let distance_m =
        household_location(check_in.household).map(|at| at.distance_m(content.location));
    let photo_seen_elsewhere = photo_seen_elsewhere(db, check_in.photos, check_in.visit_id).await?;
    let flags = thresholds.flags(&FlagInputs {
        distance_m,
        accuracy_m: content.location.accuracy_m,
        visited_at: content.visited_at,
        received_at: check_in.received_at,
        nearby_visits_by_member: check_in.nearby_visits_by_member,
        photo_seen_elsewhere,
    });
    Ok((distance_m, flags))
}

fn household_location(h: &household::Model) -> Option<Location> {
    Some(Location {
        lat: h.lat?,
        lng: h.lng?,
        accuracy_m: None,
        coord_system: h
            .coord_system
            .as_deref()
            .and_then(crate::domain::CoordSystem::parse)
            .unwrap_or_default(),
    })
}

/// Whether bytes equal to one of `photos` are attached to another visit.
async fn photo_seen_elsewhere(
    db: &impl ConnectionTrait,
    photos: &[upload::Model],
    this_visit: Option<Uuid>,
) -> Result<bool, ApiError> {
    if photos.is_empty() {
        return Ok(false);
    }
    let same_bytes: Vec<Uuid> = upload::Entity::find()
        .select_only()
        .column(upload::Column::Id)
        .filter(upload::Column::Sha256.is_in(photos.iter().map(|p| p.sha256.clone())))
        .into_tuple()
        .all(db)
        .await?;
    let mut elsewhere = upload_attachment::Entity::find()
        .filter(upload_attachment::Column::SubjectKind.eq(SUBJECT_KIND))
        .filter(upload_attachment::Column::UploadId.is_in(same_bytes));
    if let Some(id) = this_visit {
        elsewhere = elsewhere.filter(upload_attachment::Column::SubjectId.ne(id));
    }
    Ok(elsewhere.count(db).await? > 0)
}

/// A new pending visit, added to `batch` (the caller writes it with its
/// history entry, outbox event and audit row).
pub fn insert(
    batch: &mut Batch,
    actor: &Actor,
    branch_id: Uuid,
    content: &VisitContent,
    distance_m: Option<f64>,
    flags: &[VisitFlag],
    now: DateTime<Utc>,
) -> visit::Model {
    let created = visit::Model {
        id: Uuid::now_v7(),
        township_id: actor.township_id,
        branch_id,
        household_id: content.household_id,
        member_id: actor.user_id,
        kind: content.kind.as_str().to_owned(),
        visited_at: content.visited_at,
        received_at: now,
        submitted_at: now,
        lat: content.location.lat,
        lng: content.location.lng,
        accuracy_m: content.location.accuracy_m,
        coord_system: content.location.coord_system.as_str().to_owned(),
        distance_m,
        summary: content.summary.clone(),
        needs: serde_json::json!(content.needs),
        follow_up: content.follow_up,
        photo_ids: serde_json::json!(content.photo_ids),
        flags: serde_json::json!(flags),
        status: ReviewStatus::Pending.as_str().to_owned(),
        version: 1,
        reviewer_id: None,
        review_decision: None,
        review_comment: None,
        reviewed_at: None,
        created_at: now,
        updated_at: now,
    };
    batch.insert(created.clone().into_active_model().reset_all());
    created
}

/// Writes an edited returned visit back as pending, conditional on the
/// version the author edited (a concurrent edit answers 409).
pub async fn resubmit(
    db: &impl ConnectionTrait,
    current: &visit::Model,
    content: &VisitContent,
    distance_m: Option<f64>,
    flags: &[VisitFlag],
    now: DateTime<Utc>,
) -> Result<visit::Model, ApiError> {
    let updated = visit::Entity::update_many()
        .col_expr(
            visit::Column::HouseholdId,
            Expr::value(content.household_id),
        )
        .col_expr(visit::Column::Kind, Expr::value(content.kind.as_str()))
        .col_expr(visit::Column::VisitedAt, Expr::value(content.visited_at))
        .col_expr(visit::Column::Lat, Expr::value(content.location.lat))
        .col_expr(visit::Column::Lng, Expr::value(content.location.lng))
        .col_expr(
            visit::Column::AccuracyM,
            Expr::value(content.location.accuracy_m),
        )
        .col_expr(
            visit::Column::CoordSystem,
            Expr::value(content.location.coord_system.as_str()),
        )
        .col_expr(visit::Column::DistanceM, Expr::value(distance_m))
        .col_expr(visit::Column::Summary, Expr::value(content.summary.clone()))
        .col_expr(
            visit::Column::Needs,
            Expr::value(serde_json::json!(content.needs)),
        )
        .col_expr(visit::Column::FollowUp, Expr::value(content.follow_up))
        .col_expr(
            visit::Column::PhotoIds,
            Expr::value(serde_json::json!(content.photo_ids)),
        )
        .col_expr(visit::Column::Flags, Expr::value(serde_json::json!(flags)))
        .col_expr(
            visit::Column::Status,
            Expr::value(ReviewStatus::Pending.as_str()),
        )
        .col_expr(visit::Column::SubmittedAt, Expr::value(now))
        .col_expr(visit::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            visit::Column::Version,
            Expr::col(visit::Column::Version).add(1),
        )
        .filter(visit::Column::Id.eq(current.id))
        .filter(visit::Column::Version.eq(current.version))
        .filter(visit::Column::Status.eq(ReviewStatus::Returned.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(crate::core::review::not_returned());
    }
    visit::Entity::find_by_id(current.id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

#[derive(Debug, FromQueryResult)]
struct LastVisit {
    household_id: Uuid,
    last: Option<DateTime<Utc>>,
}

/// The latest non-rejected `visited_at` of each of `household_ids`, in one query.
pub async fn last_visited(
    db: &impl ConnectionTrait,
    household_ids: &[Uuid],
) -> Result<HashMap<Uuid, DateTime<Utc>>, ApiError> {
    if household_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = visit::Entity::find()
        .select_only()
        .column(visit::Column::HouseholdId)
        .column_as(visit::Column::VisitedAt.max(), "last")
        .filter(visit::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .filter(visit::Column::Status.ne(ReviewStatus::Rejected.as_str()))
        .group_by(visit::Column::HouseholdId)
        .into_model::<LastVisit>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| Some((r.household_id, r.last?)))
        .collect())
}
