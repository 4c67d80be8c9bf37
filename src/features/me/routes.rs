//! `/api/v1/me` and `/api/v1/me/households`.

use actix_web::{get, web};
use chrono::Utc;
use serde::Serialize;
use utoipa::ToSchema;

use crate::core::Actor;
use crate::core::state::AppState;
use crate::core::townships::TownshipView;
use crate::entities::{branch, user};
use crate::features::branches::dto::BranchView;
use crate::features::campaigns::dto::CurrentPhase;
use crate::features::households::dto::{HouseholdView, MyHousehold};
use crate::features::households::repo as households;
use crate::features::users::dto::UserView;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Query;
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(me).service(my_households);
}

/// The signed-in user (fields of a user, unmasked) with their branch and township.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[serde(flatten)]
    pub user: UserView,
    /// `null` for township admins.
    pub branch: Option<BranchView>,
    pub township: TownshipView,
    /// The township's campaign phase of today (动员部署, 组织实施 …) with
    /// the submission kinds it takes; `null` outside every phase.
    pub current_phase: Option<CurrentPhase>,
}

/// Who am I: user, role, branch, township, and the campaign phase of today.
#[utoipa::path(tag = "organisation", responses((status = 200, body = Me), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, actor: Actor) -> Result<web::Json<Me>, ApiError> {
    // A deactivation on another replica reaches this one's session check
    // within seconds (core::sessions); this read sees it at once.
    let found = match actor
        .find_in_reach::<user::Entity>(&state.db, actor.user_id)
        .await
    {
        Ok(user) if user.active => user,
        Ok(_) | Err(ApiError::NotFound) => return Err(ApiError::Unauthenticated),
        Err(other) => return Err(other),
    };
    let branch = match found.branch_id {
        Some(id) => Some(BranchView::from(
            actor.find_in_reach::<branch::Entity>(&state.db, id).await?,
        )),
        None => None,
    };
    let township = crate::core::townships::by_id(&state.db, actor.township_id).await?;
    let known = state
        .township_settings
        .known(&state.db, actor.township_id)
        .await?;
    let current_phase = crate::features::campaigns::admission::current_phase(
        &state.db,
        &known,
        crate::platform::db::now(),
    )
    .await?;
    Ok(web::Json(Me {
        user: UserView::full(state.id_numbers.open_user(found)?),
        branch,
        township: township.into(),
        current_phase,
    }))
}

/// My assigned households (党员包户), with `last_visited_at` and `overdue`.
#[utoipa::path(
    tag = "organisation",
    params(PageParams),
    responses((status = 200, body = List<MyHousehold>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/me/households")]
pub async fn my_households(
    state: web::Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
) -> Result<web::Json<List<MyHousehold>>, ApiError> {
    let township = crate::core::townships::by_id(&state.db, actor.township_id).await?;
    let (rows, next_cursor) = households::assigned_to(&state.db, &actor, page.0.parse()?).await?;
    let ids: Vec<_> = rows.iter().map(|h| h.id).collect();
    let mut assignees = households::assignees_of(&state.db, &ids).await?;
    let last_visits = crate::features::visits::repo::last_visited(&state.db, &ids).await?;
    let interval = chrono::Duration::days(i64::from(township.visit_interval_days));
    let now = Utc::now();
    let items = rows
        .into_iter()
        .map(|h| {
            let h = state.id_numbers.open_household(h)?;
            let of_this = assignees.remove(&h.id).unwrap_or_default();
            let last_visited_at = last_visits.get(&h.id).copied();
            let overdue = last_visited_at.is_none_or(|at| now - at > interval);
            Ok(MyHousehold {
                household: HouseholdView::new(h, of_this, true),
                last_visited_at,
                overdue,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    // The member is shown each household whole: each read is on record.
    crate::core::audit::record_reads(
        &state.db,
        &actor,
        crate::core::audit::HOUSEHOLD_VIEWED,
        "household",
        items.iter().map(|item| item.household.id),
    )
    .await?;
    Ok(web::Json(List { items, next_cursor }))
}
