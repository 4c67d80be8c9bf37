//! `/api/v1/reviews`: the secretary's queue across submission kinds, oldest
//! first, and bulk decisions.

use std::collections::HashMap;

use actix_web::{HttpRequest, ResponseError, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::Actor;
use crate::core::access::Submission;
use crate::core::review::ReviewKind;
use crate::core::state::AppState;
use crate::domain::{FieldErrors, ReviewDecision, ReviewStatus, Role, SubjectKind, VisitKind};
use crate::entities::{household, mediation_report, pledge, visit};
use crate::platform::error::{ApiError, ErrorBody, ErrorContent};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::middleware::prefers_english;
use crate::platform::http::pagination::{List, PageParams};

/// Most items in one bulk decision.
pub const BULK_MAX: usize = 100;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(review_queue).service(bulk_review);
}

/// One submission waiting in (or decided from) the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    /// `visit`, `mediation_report` or `pledge`.
    pub subject_kind: &'static str,
    pub subject_id: Uuid,
    pub branch_id: Uuid,
    /// The author's user id.
    pub submitted_by: Uuid,
    pub submitted_by_name: String,
    pub submitted_at: DateTime<Utc>,
    #[schema(example = "走访记录：张大山户（结对帮扶）")]
    pub title: String,
    pub status: ReviewStatus,
    /// Quality flags the reviewer should look at.
    pub flags: Vec<crate::domain::VisitFlag>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// Default `pending`.
    pub status: Option<ReviewStatus>,
    pub branch_id: Option<Uuid>,
}

/// The review queue: submissions of the caller's reach that the caller may
/// decide (never their own), oldest first.
#[utoipa::path(
    tag = "reviews",
    params(QueueFilter, PageParams),
    responses(
        (status = 200, body = List<QueueItem>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members review nothing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/reviews")]
pub async fn review_queue(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<QueueFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<QueueItem>>, ApiError> {
    if actor.role == Role::Member {
        return Err(ApiError::Forbidden);
    }
    let limit = page.0.limit()?;
    let after = match page.0.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => {
            Some(decode_cursor(cursor).ok_or_else(|| ApiError::BadRequest("cursor".into()))?)
        }
        None => None,
    };
    let status = filter.0.status.unwrap_or(ReviewStatus::Pending);
    let wanted = Wanted {
        status,
        branch_id: filter.0.branch_id,
        after,
        limit,
    };
    let mut items = visit_items(&state.db, &actor, &wanted).await?;
    items.extend(report_items(&state.db, &actor, &wanted).await?);
    items.extend(pledge_items(&state.db, &actor, &wanted).await?);
    items.sort_by_key(|item| (item.submitted_at, item.subject_id));
    let more = items.len() as u64 > limit;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items
            .last()
            .map(|item| encode_cursor(item.submitted_at, item.subject_id))
    } else {
        None
    };
    let names =
        crate::core::directory::user_names(&state.db, items.iter().map(|item| item.submitted_by))
            .await?;
    for item in &mut items {
        item.submitted_by_name = names.get(&item.submitted_by).cloned().unwrap_or_default();
    }
    Ok(web::Json(List { items, next_cursor }))
}

/// What one page of the queue asks of each submission kind.
struct Wanted {
    status: ReviewStatus,
    branch_id: Option<Uuid>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
}

/// A kind's part of the queue: in reach, in `wanted.status`, never the
/// caller's own, after the cursor, oldest first, one more than a page (the
/// kinds are merged and cut afterwards).
fn queue_query<E: Submission>(
    actor: &Actor,
    wanted: &Wanted,
    submitted_at: E::Column,
    branch: E::Column,
) -> sea_orm::Select<E> {
    let mut query = actor
        .scoped::<E>()
        .filter(E::status_column().eq(wanted.status.as_str()))
        .filter(E::author_column().ne(actor.user_id));
    if let Some(branch_id) = wanted.branch_id {
        query = query.filter(branch.eq(branch_id));
    }
    if let Some((at, id)) = wanted.after {
        query = query.filter(
            Condition::any().add(submitted_at.gt(at)).add(
                Condition::all()
                    .add(submitted_at.eq(at))
                    .add(E::id_column().gt(id)),
            ),
        );
    }
    query
        .order_by_asc(submitted_at)
        .order_by_asc(E::id_column())
        .limit(wanted.limit + 1)
}

async fn visit_items(
    db: &DatabaseConnection,
    actor: &Actor,
    wanted: &Wanted,
) -> Result<Vec<QueueItem>, ApiError> {
    let rows = queue_query::<visit::Entity>(
        actor,
        wanted,
        visit::Column::SubmittedAt,
        visit::Column::BranchId,
    )
    .all(db)
    .await?;
    let heads: HashMap<Uuid, String> = household::Entity::find()
        .filter(household::Column::Id.is_in(rows.iter().map(|v| v.household_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h.head_name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|v| {
            let kind = VisitKind::parse(&v.kind).unwrap_or(VisitKind::Other);
            let head = heads.get(&v.household_id).map_or("?", String::as_str);
            QueueItem {
                subject_kind: "visit",
                subject_id: v.id,
                branch_id: v.branch_id,
                submitted_by: v.member_id,
                submitted_by_name: String::new(),
                submitted_at: v.submitted_at,
                title: format!("走访记录：{head}户（{}）", kind.label()),
                status: wanted.status,
                flags: serde_json::from_value(v.flags).unwrap_or_default(),
            }
        })
        .collect())
}

async fn report_items(
    db: &DatabaseConnection,
    actor: &Actor,
    wanted: &Wanted,
) -> Result<Vec<QueueItem>, ApiError> {
    let rows = queue_query::<mediation_report::Entity>(
        actor,
        wanted,
        mediation_report::Column::SubmittedAt,
        mediation_report::Column::BranchId,
    )
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| QueueItem {
            subject_kind: "mediation_report",
            subject_id: r.id,
            branch_id: r.branch_id,
            submitted_by: r.member_id,
            submitted_by_name: String::new(),
            submitted_at: r.submitted_at,
            title: format!("矛盾纠纷：{}", r.title),
            status: wanted.status,
            flags: Vec::new(),
        })
        .collect())
}

async fn pledge_items(
    db: &DatabaseConnection,
    actor: &Actor,
    wanted: &Wanted,
) -> Result<Vec<QueueItem>, ApiError> {
    let rows = queue_query::<pledge::Entity>(
        actor,
        wanted,
        pledge::Column::SubmittedAt,
        pledge::Column::BranchId,
    )
    .all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|p| QueueItem {
            subject_kind: "pledge",
            subject_id: p.id,
            branch_id: p.branch_id,
            submitted_by: p.author_id,
            submitted_by_name: String::new(),
            submitted_at: p.submitted_at,
            title: format!("公开承诺：{}", p.title),
            status: wanted.status,
            flags: Vec::new(),
        })
        .collect())
}

fn encode_cursor(at: DateTime<Utc>, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.timestamp_micros()))
}

fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, Uuid)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let (micros, id) = text.split_once('|')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"decision": "approve", "items": [{"subject_kind": "visit", "subject_id": "01938f5e-0000-7000-8000-000000000001"}]}))]
pub struct BulkReviewRequest {
    pub decision: ReviewDecision,
    /// Required to return or reject; applies to every item.
    pub comment: Option<String>,
    #[schema(max_items = 100)]
    pub items: Vec<BulkItem>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct BulkItem {
    pub subject_kind: String,
    pub subject_id: Uuid,
}

/// The outcome of one item: the status it would have had alone.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkOutcome {
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// HTTP status of this item's decision: 200, 403, 404, 409, 422.
    pub status: u16,
    /// The new review status when decided.
    pub review_status: Option<ReviewStatus>,
    pub error: Option<ErrorContent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkReviewResponse {
    pub results: Vec<BulkOutcome>,
}

/// Decide many submissions at once (e.g. approve a morning's visits). Each
/// item is checked and committed on its own; one refusal does not stop the rest.
#[utoipa::path(
    tag = "reviews",
    request_body = BulkReviewRequest,
    responses(
        (status = 200, body = BulkReviewResponse),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/reviews/bulk")]
pub async fn bulk_review(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Json<BulkReviewRequest>,
) -> Result<web::Json<BulkReviewResponse>, ApiError> {
    if actor.role == Role::Member {
        return Err(ApiError::Forbidden);
    }
    let BulkReviewRequest {
        decision,
        comment,
        items,
    } = body.into_inner();
    if items.is_empty() || items.len() > BULK_MAX {
        return Err(FieldErrors::single(
            "items",
            "count",
            format!("一次审核 1 到 {BULK_MAX} 条"),
            format!("between 1 and {BULK_MAX} items"),
        )
        .into());
    }
    let comment = crate::domain::text::optional(
        "comment",
        comment.as_deref(),
        crate::domain::text::COMMENT_MAX,
    )?;
    let english = prefers_english(req.headers().get(actix_web::http::header::ACCEPT_LANGUAGE));
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        let outcome = match SubjectKind::parse(&item.subject_kind)
            .and_then(|kind| state.review_kinds.of(kind))
        {
            Some(kind) => {
                decide_one(
                    &state,
                    &actor,
                    kind,
                    item.subject_id,
                    decision,
                    comment.as_deref(),
                )
                .await
            }
            None => Err(FieldErrors::single(
                "subject_kind",
                "unsupported",
                "不支持的审核对象",
                "unknown subject_kind",
            )
            .into()),
        };
        results.push(match outcome {
            Ok(status) => BulkOutcome {
                subject_kind: item.subject_kind,
                subject_id: item.subject_id,
                status: 200,
                review_status: Some(status),
                error: None,
            },
            Err(err) => BulkOutcome {
                subject_kind: item.subject_kind,
                subject_id: item.subject_id,
                status: err.status_code().as_u16(),
                review_status: None,
                error: Some(err.body(english).error),
            },
        });
    }
    Ok(web::Json(BulkReviewResponse { results }))
}

async fn decide_one(
    state: &AppState,
    actor: &Actor,
    kind: &ReviewKind,
    id: Uuid,
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<ReviewStatus, ApiError> {
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let status = (kind.decide)(&txn, actor, id, decision, comment).await?;
    txn.commit().await?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_cursor_round_trips_and_rejects_garbage() {
        let at = DateTime::from_timestamp_micros(1_764_300_000_123_456).unwrap();
        let id = Uuid::now_v7();
        assert_eq!(decode_cursor(&encode_cursor(at, id)), Some((at, id)));
        assert_eq!(decode_cursor("not-a-cursor"), None);
    }
}
