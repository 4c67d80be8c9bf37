//! `/api/v1/branches`.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::dto::*;
use super::repo;
use crate::core::audit;
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::entities::branch;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_branches)
        .service(create_branch)
        .service(get_branch)
        .service(update_branch);
}

/// Branches within reach: all of the township for admins, one's own otherwise.
#[utoipa::path(
    tag = "organisation",
    params(BranchFilter, PageParams),
    responses((status = 200, body = List<BranchView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/branches")]
pub async fn list_branches(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<BranchFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<BranchView>>, ApiError> {
    let (rows, next_cursor) = repo::list(&state.db, &actor, &filter.0, page.0.parse()?).await?;
    Ok(web::Json(List {
        items: rows.into_iter().map(BranchView::from).collect(),
        next_cursor,
    }))
}

/// Create a branch (township admins).
#[utoipa::path(
    tag = "organisation",
    request_body = NewBranchRequest,
    responses(
        (status = 201, body = BranchView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "only township admins create branches", body = ErrorBody),
        (status = 409, description = "name taken (`branch_name_taken`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/branches")]
pub async fn create_branch(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<NewBranchRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::ManageBranches, None)?;
    let (name, kind) = body.into_inner().parse()?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let created = repo::create(&txn, actor.township_id, name, kind).await?;
    let view = BranchView::from(created);
    audit::record(
        &txn,
        &actor,
        "branch.created",
        "branch",
        view.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view))
}

/// One branch within reach.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = BranchView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/branches/{id}")]
pub async fn get_branch(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<BranchView>, ApiError> {
    let found = actor
        .find_in_reach::<branch::Entity>(&state.db, id.into_inner())
        .await?;
    Ok(web::Json(found.into()))
}

/// Rename a branch or change its kind (township admins).
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    request_body = BranchPatch,
    responses(
        (status = 200, body = BranchView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/branches/{id}")]
pub async fn update_branch(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<BranchPatch>,
) -> Result<web::Json<BranchView>, ApiError> {
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = actor
        .find_in_reach::<branch::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageBranches, Some(current.id))?;
    let fields = body.into_inner().parse()?;
    let before = audit::snapshot(&BranchView::from(current.clone()));
    let view = BranchView::from(repo::update(&txn, current, fields).await?);
    audit::record(
        &txn,
        &actor,
        "branch.updated",
        "branch",
        view.id,
        before,
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(view))
}
