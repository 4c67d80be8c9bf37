//! `/api/v1/township`: the caller's township and its settings.

use actix_web::{get, patch, web};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, IntoActiveModel};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::core::audit;
use crate::core::state::AppState;
use crate::core::townships::{TownshipSettings, TownshipView};
use crate::core::{Action, Actor};
use crate::domain::FieldErrors;
use crate::domain::text::{self, NAME_MAX};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Json;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_township).service(update_township);
}

/// The caller's township with its settings.
#[utoipa::path(tag = "organisation", responses((status = 200, body = TownshipView), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
#[get("/township")]
pub async fn get_township(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<TownshipView>, ApiError> {
    Ok(web::Json(
        crate::core::townships::by_id(&state.db, actor.township_id)
            .await?
            .into(),
    ))
}

/// Changes to the township; absent fields stay. `settings` replaces the
/// settings whole (absent keys take their defaults).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"visit_interval_days": 30, "settings": {"quality": {"far_from_household_m": 300.0, "burst_count": 4}}}))]
pub struct TownshipPatch {
    #[schema(max_length = 50)]
    pub name: Option<String>,
    /// Days without a visit after which an assigned household is overdue (1–365).
    #[schema(minimum = 1, maximum = 365)]
    pub visit_interval_days: Option<i32>,
    pub settings: Option<TownshipSettings>,
}

/// Change the township's name, visit interval or quality-flag thresholds (township admins).
#[utoipa::path(
    tag = "organisation",
    request_body = TownshipPatch,
    responses(
        (status = 200, body = TownshipView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/township")]
pub async fn update_township(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<TownshipPatch>,
) -> Result<web::Json<TownshipView>, ApiError> {
    actor.may(Action::ManageBranches, None)?;
    let patch = body.into_inner();
    let mut errors = FieldErrors::new();
    let name = errors.take(
        patch
            .name
            .map(|n| text::required("name", &n, NAME_MAX))
            .transpose(),
    );
    if patch
        .visit_interval_days
        .is_some_and(|d| !(1..=365).contains(&d))
    {
        errors.add(
            "visit_interval_days",
            "out_of_range",
            "走访周期应在 1 到 365 天之间",
            "visit_interval_days must be between 1 and 365",
        );
    }
    if let Some(settings) = &patch.settings {
        let q = &settings.quality;
        let checks = [
            (
                "settings.quality.far_from_household_m",
                q.far_from_household_m > 0.0,
            ),
            (
                "settings.quality.poor_gps_accuracy_m",
                q.poor_gps_accuracy_m > 0.0,
            ),
            (
                "settings.quality.late_upload_hours",
                q.late_upload_hours > 0,
            ),
            ("settings.quality.burst_count", q.burst_count >= 2),
            (
                "settings.quality.burst_window_minutes",
                q.burst_window_minutes > 0,
            ),
            (
                "settings.mediation.follow_up_days",
                (1..=90).contains(&settings.mediation.follow_up_days),
            ),
        ];
        for (field, ok) in checks {
            if !ok {
                errors.add(
                    field,
                    "out_of_range",
                    "取值超出范围",
                    "out of range (positive; burst_count at least 2; follow_up_days 1 to 90)",
                );
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors.into());
    }
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = crate::core::townships::by_id(&txn, actor.township_id).await?;
    let before = audit::snapshot(&TownshipView::from(current.clone()));
    let mut changed = current.into_active_model();
    if let Some(Some(name)) = name {
        changed.name = Set(name);
    }
    if let Some(days) = patch.visit_interval_days {
        changed.visit_interval_days = Set(days);
    }
    if let Some(settings) = patch.settings {
        changed.settings = Set(serde_json::to_string(&settings).map_err(anyhow::Error::from)?);
    }
    let updated = changed.update(&txn).await.map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            ApiError::conflict(
                "name",
                "township_name_taken",
                "已有同名乡镇",
                "a township of this name exists",
            )
        } else {
            err.into()
        }
    })?;
    let view = TownshipView::from(updated);
    audit::record(
        &txn,
        &actor,
        "township.updated",
        "township",
        view.id,
        before,
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(web::Json(view))
}
