//! `/api/v1/notifications`: the caller's in-app inbox.

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::Actor;
use crate::core::state::AppState;
use crate::entities::notification;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Query;
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_notifications)
        .service(unread_count)
        .service(read_all)
        .service(read_one)
        .configure(super::consents::configure);
}

/// A notification as SPEC §5 shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationView {
    pub id: Uuid,
    /// The event, e.g. `visit.submitted`, `visit.reviewed`.
    pub kind: String,
    #[schema(example = "新的走访记录待审核")]
    pub title: String,
    #[schema(example = "党员张伟提交了走访记录：张大山户（结对帮扶）")]
    pub body: String,
    pub subject: Subject,
    pub created_at: DateTime<Utc>,
    /// `null` while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// What a notification is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subject {
    /// e.g. `visit`.
    pub kind: String,
    pub id: Uuid,
}

impl From<notification::Model> for NotificationView {
    fn from(n: notification::Model) -> Self {
        NotificationView {
            id: n.id,
            kind: n.kind,
            title: n.title,
            body: n.body,
            subject: Subject {
                kind: n.subject_kind,
                id: n.subject_id,
            },
            created_at: n.created_at,
            read_at: n.read_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxFilter {
    /// Only unread notifications.
    #[serde(default)]
    pub unread_only: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    pub count: u64,
}

/// My notifications, newest first.
#[utoipa::path(
    tag = "notifications",
    params(InboxFilter, PageParams),
    responses((status = 200, body = List<NotificationView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<InboxFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<NotificationView>>, ApiError> {
    let page = page.0.parse()?;
    let mut query = actor.inbox();
    if filter.0.unread_only {
        query = query.filter(notification::Column::ReadAt.is_null());
    }
    let rows = page
        .apply_newest_first(query, notification::Column::Id)
        .all(&state.db)
        .await?;
    let (rows, next_cursor) = page.finish(rows, |n| n.id);
    Ok(web::Json(List {
        items: rows.into_iter().map(NotificationView::from).collect(),
        next_cursor,
    }))
}

/// How many of my notifications are unread (for the badge).
#[utoipa::path(tag = "notifications", responses((status = 200, body = Count), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
#[get("/notifications/unread-count")]
pub async fn unread_count(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<Count>, ApiError> {
    let count = actor
        .inbox()
        .filter(notification::Column::ReadAt.is_null())
        .count(&state.db)
        .await?;
    Ok(web::Json(Count { count }))
}

/// Mark one notification read (reading it again keeps the first time).
#[utoipa::path(
    tag = "notifications",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = NotificationView), (status = 401, body = ErrorBody), (status = 404, description = "not mine, or no such notification", body = ErrorBody)),
    security(("bearer" = []))
)]
#[post("/notifications/{id}/read")]
pub async fn read_one(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<NotificationView>, ApiError> {
    let id = id.into_inner();
    notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            Expr::value(crate::platform::db::now()),
        )
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::RecipientId.eq(actor.user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&state.db)
        .await?;
    let found = actor
        .inbox()
        .filter(notification::Column::Id.eq(id))
        .one(&state.db)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(web::Json(found.into()))
}

/// Mark all my notifications read; answers how many were unread.
#[utoipa::path(tag = "notifications", responses((status = 200, body = Count), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
#[post("/notifications/read-all")]
pub async fn read_all(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let updated = notification::Entity::update_many()
        .col_expr(
            notification::Column::ReadAt,
            Expr::value(crate::platform::db::now()),
        )
        .filter(notification::Column::TownshipId.eq(actor.township_id))
        .filter(notification::Column::RecipientId.eq(actor.user_id))
        .filter(notification::Column::ReadAt.is_null())
        .exec(&state.db)
        .await?;
    Ok(HttpResponse::Ok().json(Count {
        count: updated.rows_affected,
    }))
}
