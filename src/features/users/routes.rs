//! `/api/v1/users`.

use actix_web::{HttpResponse, get, patch, post, web};
use uuid::Uuid;

use super::dto::*;
use super::repo;
use crate::core::audit;
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::domain::{FieldErrors, Role};
use crate::entities::user;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::pagination::{List, PageParams};
use crate::platform::password;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_users)
        .service(create_user)
        .service(get_user)
        .service(update_user)
        .service(reissue_activation_code);
}

/// Users within reach, phones masked.
#[utoipa::path(
    tag = "organisation",
    params(UserFilter, PageParams),
    responses((status = 200, body = List<UserView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<UserFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<UserView>>, ApiError> {
    let (rows, next_cursor) = repo::list(&state.db, &actor, &filter.0, page.0.parse()?).await?;
    Ok(web::Json(List {
        items: rows
            .into_iter()
            .map(|row| state.id_numbers.open_user(row).map(UserView::masked))
            .collect::<Result<_, _>>()?,
        next_cursor,
    }))
}

/// Create a user. Secretaries create members of their own branch; township
/// admins anyone. The answer carries a one-time `activation_code` for WeChat binding.
#[utoipa::path(
    tag = "organisation",
    request_body = NewUserRequest,
    responses(
        (status = 201, body = CreatedUser),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "phone in use (`phone_taken`)", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<NewUserRequest>,
) -> Result<HttpResponse, ApiError> {
    let mut new = body.into_inner().parse()?;
    new.id_number = state.id_numbers.seal_opt(new.id_number)?;
    if new.role != Role::TownshipAdmin && new.branch_id.is_none() {
        new.branch_id = match actor.role {
            Role::Secretary => actor.branch_id,
            _ => {
                return Err(FieldErrors::single(
                    "branch_id",
                    "required",
                    "请指定所属支部",
                    "branch_id is required for members and secretaries",
                )
                .into());
            }
        };
    }
    actor.may(Action::GrantRole(new.role), new.branch_id)?;
    actor.may(Action::ManageUsers, new.branch_id)?;
    let password_hash = match new.password.clone() {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };

    let txn = crate::platform::db::begin_write(&state.db).await?;
    if let Some(branch_id) = new.branch_id {
        crate::core::directory::branch_named_in_body(&txn, &actor, branch_id).await?;
    }
    let created = repo::create(&txn, actor.township_id, new, password_hash).await?;
    let (code, expires_at) = crate::features::auth::repo::issue_activation_code(
        &txn,
        &created,
        state.settings.activation_code_ttl,
    )
    .await?;
    let created = state.id_numbers.open_user(created)?;
    let snapshot = audit::snapshot(&UserView::masked(created.clone()));
    let view = UserView::full(created);
    audit::record(
        &txn,
        &actor,
        "user.created",
        "user",
        view.id,
        None,
        snapshot,
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(CreatedUser {
        user: view,
        activation_code: code,
        activation_code_expires_at: expires_at,
    }))
}

/// One user within reach; phone shown whole to the user and their managers.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<UserView>, ApiError> {
    let found = user_in_reach(&state.db, &actor, id.into_inner()).await?;
    let found = state.id_numbers.open_user(found)?;
    let reveal = found.id == actor.user_id || actor.manages(found.branch_id);
    if reveal && found.id != actor.user_id && found.id_number.is_some() {
        audit::record_reads(
            &state.db,
            &actor,
            audit::USER_ID_NUMBER_VIEWED,
            "user",
            [found.id],
        )
        .await?;
    }
    Ok(web::Json(UserView::new(found, reveal)))
}

/// Change a user. Users may change their own name and password; secretaries
/// manage their branch's members; township admins anyone.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    request_body = UserPatch,
    responses(
        (status = 200, body = UserView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<UserPatch>,
) -> Result<web::Json<UserView>, ApiError> {
    let mut changes = body.into_inner().parse()?;
    let current = user_in_reach(&state.db, &actor, id.into_inner()).await?;
    branch_fits_role(&current, &changes)?;
    let own = current.id == actor.user_id;
    if !(own && UserPatch::touches_only_own_fields(&changes)) {
        may_manage(&actor, &current)?;
        if let Some(role) = changes.role {
            actor.may(Action::GrantRole(role), current.branch_id)?;
        }
        if let Some(branch_id) = changes.branch_id {
            actor.may(Action::ManageUsers, Some(branch_id))?;
        }
    }
    let password_hash = match changes.password.clone() {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };

    changes.id_number = state.id_numbers.seal_change(changes.id_number)?;

    let txn = crate::platform::db::begin_write(&state.db).await?;
    if let Some(branch_id) = changes.branch_id {
        crate::core::directory::branch_named_in_body(&txn, &actor, branch_id).await?;
    }
    let leaves_branch = changes
        .branch_id
        .is_some_and(|b| Some(b) != current.branch_id)
        || changes.role == Some(Role::TownshipAdmin);
    let deactivated = changes.active == Some(false);
    // What the user's tokens were signed under, or their password, changes:
    // every session they have ends.
    let ends_sessions = deactivated
        || password_hash.is_some()
        || changes
            .branch_id
            .is_some_and(|b| Some(b) != current.branch_id)
        || changes
            .role
            .is_some_and(|r| Some(r) != Role::parse(&current.role));
    let before = audit::snapshot(&UserView::masked(
        state.id_numbers.open_user(current.clone())?,
    ));
    let updated = repo::update(&txn, current, changes, password_hash).await?;
    let updated = state.id_numbers.open_user(updated)?;
    if leaves_branch || deactivated {
        repo::drop_assignments(&txn, updated.id).await?;
    }
    if ends_sessions {
        crate::core::sessions::end_sessions(&txn, updated.id).await?;
    }
    audit::record(
        &txn,
        &actor,
        "user.updated",
        "user",
        updated.id,
        before,
        audit::snapshot(&UserView::masked(updated.clone())),
    )
    .await?;
    txn.commit().await?;
    if ends_sessions {
        state.sessions.forget(updated.id);
    }
    let reveal = own || actor.manages(updated.branch_id);
    Ok(web::Json(UserView::new(updated, reveal)))
}

/// Issue a new one-time activation code (the earlier one stops working).
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    responses(
        (status = 201, body = ActivationCode),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/users/{id}/activation-code")]
pub async fn reissue_activation_code(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let target = user_in_reach(&txn, &actor, id.into_inner()).await?;
    may_manage(&actor, &target)?;
    let (code, expires_at) = crate::features::auth::repo::issue_activation_code(
        &txn,
        &target,
        state.settings.activation_code_ttl,
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "user.activation_code_issued",
        "user",
        target.id,
        None,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(ActivationCode {
        activation_code: code,
        expires_at,
    }))
}

async fn user_in_reach(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<user::Model, ApiError> {
    actor.find_in_reach::<user::Entity>(db, id).await
}

/// Township admins belong to no branch; members and secretaries to one.
fn branch_fits_role(current: &user::Model, changes: &UserChanges) -> Result<(), ApiError> {
    let role = changes
        .role
        .or(Role::parse(&current.role))
        .unwrap_or(Role::Member);
    let branch = changes.branch_id.or(current.branch_id);
    match (role, changes.branch_id, branch) {
        (Role::TownshipAdmin, Some(_), _) => Err(FieldErrors::single(
            "branch_id",
            "not_allowed",
            "乡党委管理员不属于支部",
            "township admins belong to no branch",
        )
        .into()),
        (Role::Member | Role::Secretary, _, None) => Err(FieldErrors::single(
            "branch_id",
            "required",
            "请指定所属支部",
            "branch_id is required for members and secretaries",
        )
        .into()),
        _ => Ok(()),
    }
}

/// Secretaries manage the members of their branch, not fellow secretaries.
fn may_manage(actor: &Actor, target: &user::Model) -> Result<(), ApiError> {
    actor.may(Action::ManageUsers, target.branch_id)?;
    let target_role = Role::parse(&target.role).unwrap_or(Role::Member);
    actor.may(Action::GrantRole(target_role), target.branch_id)
}
