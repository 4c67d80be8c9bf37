//! `/api/v1/reviews`: the secretary's queue across submission kinds, oldest
//! first, and bulk decisions.

use std::collections::HashMap;

use actix_web::{HttpRequest, ResponseError, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Actor;
use crate::domain::{FieldErrors, ReviewDecision, ReviewStatus, Role, VisitKind};
use crate::entities::{household, visit};
use crate::error::{ApiError, ErrorBody, ErrorContent};
use crate::http::extract::{Json, Query};
use crate::http::middleware::prefers_english;
use crate::http::pagination::{List, PageParams};
use crate::startup::AppState;

/// Most items in one bulk decision.
pub const BULK_MAX: usize = 100;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(review_queue).service(bulk_review);
}

/// One submission waiting in (or decided from) the queue.
#[derive(Debug, Serialize, ToSchema)]
pub struct QueueItem {
    /// `visit` (and, as they come, `mediation_report`, `pledge`).
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
    let mut query = actor
        .scoped::<visit::Entity>()
        .filter(visit::Column::Status.eq(status.as_str()));
    if actor.role == Role::Secretary {
        query = query.filter(visit::Column::MemberId.ne(actor.user_id));
    }
    if let Some(branch_id) = filter.0.branch_id {
        query = query.filter(visit::Column::BranchId.eq(branch_id));
    }
    if let Some((at, id)) = after {
        query = query.filter(
            Condition::any().add(visit::Column::SubmittedAt.gt(at)).add(
                Condition::all()
                    .add(visit::Column::SubmittedAt.eq(at))
                    .add(visit::Column::Id.gt(id)),
            ),
        );
    }
    let mut rows = query
        .order_by_asc(visit::Column::SubmittedAt)
        .order_by_asc(visit::Column::Id)
        .limit(limit + 1)
        .all(&state.db)
        .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|v| encode_cursor(v.submitted_at, v.id))
    } else {
        None
    };
    let names =
        crate::visits::routes::member_names(&state.db, rows.iter().map(|v| v.member_id).collect())
            .await?;
    let heads: HashMap<Uuid, String> = household::Entity::find()
        .filter(household::Column::Id.is_in(rows.iter().map(|v| v.household_id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|h| (h.id, h.head_name))
        .collect();
    let items = rows
        .into_iter()
        .map(|v| {
            let kind = VisitKind::parse(&v.kind).unwrap_or(VisitKind::Other);
            QueueItem {
                subject_kind: "visit",
                subject_id: v.id,
                branch_id: v.branch_id,
                submitted_by: v.member_id,
                submitted_by_name: names.get(&v.member_id).cloned().unwrap_or_default(),
                submitted_at: v.submitted_at,
                title: format!(
                    "走访记录：{}户（{}）",
                    heads
                        .get(&v.household_id)
                        .map(String::as_str)
                        .unwrap_or("?"),
                    kind.label()
                ),
                status,
                flags: serde_json::from_value(v.flags).unwrap_or_default(),
            }
        })
        .collect();
    Ok(web::Json(List { items, next_cursor }))
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
        let outcome = match item.subject_kind.as_str() {
            "visit" => {
                decide_one(
                    &state,
                    &actor,
                    item.subject_id,
                    decision,
                    comment.as_deref(),
                )
                .await
            }
            _ => Err(FieldErrors::single(
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
    id: Uuid,
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<ReviewStatus, ApiError> {
    let txn = crate::db::begin_write(&state.db).await?;
    let view = crate::visits::routes::decide_visit(&txn, actor, id, decision, comment).await?;
    txn.commit().await?;
    Ok(view.status)
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
