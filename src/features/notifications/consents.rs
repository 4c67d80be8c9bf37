//! One-time subscribe-message consents (订阅消息授权). WeChat lets the app send
//! a subscribe message only as often as the user allowed in the
//! mini-program: `POST /api/v1/me/subscriptions` records each allowance, and
//! every message sent spends one. Without one, the inbox alone is told.

use actix_web::{get, post, web};
use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::core::Actor;
use crate::core::state::AppState;
use crate::domain::FieldErrors;
use crate::entities::wechat_consent;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Json;
use crate::platform::wechat::Template;

/// Most allowances recorded at once (the mini-program asks a few at a time).
pub const MAX_COUNT: i32 = 100;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(record_consent).service(my_consents);
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"template_id": "tpl-submitted", "count": 1}))]
pub struct ConsentRequest {
    /// A template the server sends (`WECHAT_TEMPLATE_SUBMITTED` or `…_REVIEWED`).
    pub template_id: String,
    /// How many messages the user just allowed (`wx.requestSubscribeMessage`
    /// answered `accept`), 1–100.
    #[schema(minimum = 1, maximum = 100)]
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Consent {
    pub template_id: String,
    /// Messages of this template still allowed.
    pub remaining: i32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Consents {
    pub items: Vec<Consent>,
}

/// Record subscribe-message consents the user just gave in the mini-program.
#[utoipa::path(
    tag = "notifications",
    request_body = ConsentRequest,
    responses(
        (status = 200, body = Consent),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 422, description = "a template the server does not send, or a count outside 1–100", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/me/subscriptions")]
pub async fn record_consent(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<ConsentRequest>,
) -> Result<web::Json<Consent>, ApiError> {
    let ConsentRequest { template_id, count } = body.into_inner();
    let mut errors = FieldErrors::new();
    let known = state.wechat.as_ref().is_some_and(|w| {
        [Template::Submitted, Template::Reviewed]
            .iter()
            .any(|t| w.template_id(*t) == Some(template_id.as_str()))
    });
    if !known {
        errors.add(
            "template_id",
            "unknown",
            "该订阅消息模板未启用",
            "the server sends no messages of this template",
        );
    }
    let count = i32::try_from(count)
        .ok()
        .filter(|n| (1..=MAX_COUNT).contains(n));
    if count.is_none() {
        errors.add(
            "count",
            "out_of_range",
            format!("次数须为 1 到 {MAX_COUNT}"),
            format!("count must be between 1 and {MAX_COUNT}"),
        );
    }
    let count = errors.finish(|| count.unwrap_or_default())?;
    let remaining = grant(&state.db, actor.user_id, &template_id, count).await?;
    Ok(web::Json(Consent {
        template_id,
        remaining,
    }))
}

/// The caller's remaining consents, per template.
#[utoipa::path(
    tag = "notifications",
    responses((status = 200, body = Consents), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/me/subscriptions")]
pub async fn my_consents(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<Consents>, ApiError> {
    let items = wechat_consent::Entity::find()
        .filter(wechat_consent::Column::UserId.eq(actor.user_id))
        .order_by_asc(wechat_consent::Column::TemplateId)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| Consent {
            template_id: c.template_id,
            remaining: c.remaining,
        })
        .collect();
    Ok(web::Json(Consents { items }))
}

/// Adds `count` allowances of `template_id` for `user_id`; the total left.
pub async fn grant(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    template_id: &str,
    count: i32,
) -> Result<i32, ApiError> {
    use wechat_consent::Column as C;
    wechat_consent::Entity::insert(wechat_consent::ActiveModel {
        user_id: Set(user_id),
        template_id: Set(template_id.to_owned()),
        remaining: Set(count),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([C::UserId, C::TemplateId])
            // Qualified: PostgreSQL finds a bare `remaining` ambiguous here.
            .value(
                C::Remaining,
                Expr::col((wechat_consent::Entity, C::Remaining)).add(count),
            )
            .value(C::UpdatedAt, Expr::value(Utc::now()))
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(
        wechat_consent::Entity::find_by_id((user_id, template_id.to_owned()))
            .one(db)
            .await?
            .map_or(count, |c| c.remaining),
    )
}
