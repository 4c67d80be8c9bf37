//! `/api/v1/households`: the register of households and who is responsible for them.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use futures_util::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::dto::*;
use super::import::{self, ImportReport, RowError};
use super::repo;
use crate::core::audit;
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::domain::{FieldError, FieldErrors, Role};
use crate::entities::{branch, household, user};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::middleware::prefers_english;
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_households)
        .service(create_household)
        .service(import_households)
        .service(get_household)
        .service(update_household)
        .service(assign_member)
        .service(unassign_member);
}

/// Households within reach (members read their own branch's), phones masked.
#[utoipa::path(
    tag = "organisation",
    params(HouseholdFilter, PageParams),
    responses((status = 200, body = List<HouseholdView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/households")]
pub async fn list_households(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<HouseholdFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<HouseholdView>>, ApiError> {
    let (rows, next_cursor) = repo::list(&state.db, &actor, &filter.0, page.0.parse()?).await?;
    let ids: Vec<Uuid> = rows.iter().map(|h| h.id).collect();
    let mut assignees = repo::assignees_of(&state.db, &ids).await?;
    let items = rows
        .into_iter()
        .map(|h| {
            let of_this = assignees.remove(&h.id).unwrap_or_default();
            Ok(HouseholdView::new(
                state.id_numbers.open_household(h)?,
                of_this,
                false,
            ))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(web::Json(List { items, next_cursor }))
}

/// Register a household (secretaries: in their branch; admins: any branch).
#[utoipa::path(
    tag = "organisation",
    request_body = NewHouseholdRequest,
    responses((status = 201, body = HouseholdView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[post("/households")]
pub async fn create_household(
    state: web::Data<AppState>,
    actor: Actor,
    body: Json<NewHouseholdRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let branch_id = target_branch(&actor, body.branch_id)?;
    actor.may(Action::ManageHouseholds, Some(branch_id))?;
    let mut fields = body.parse()?;
    fields.id_number = state.id_numbers.seal_change(fields.id_number)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    crate::core::directory::branch_named_in_body(&txn, &actor, branch_id).await?;
    let created = repo::create(&txn, actor.township_id, branch_id, fields).await?;
    let view = HouseholdView::new(state.id_numbers.open_household(created)?, Vec::new(), true);
    audit::record(
        &txn,
        &actor,
        "household.created",
        "household",
        view.id,
        None,
        audit::snapshot(&masked(&view)),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view))
}

/// One household within reach; personal data whole for its managers and assigned members.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = HouseholdView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/households/{id}")]
pub async fn get_household(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<HouseholdView>, ApiError> {
    let found = actor
        .find_in_reach::<household::Entity>(&state.db, id.into_inner())
        .await?;
    let found_branch = found.branch_id;
    let view = view_for(&state, &state.db, &actor, found).await?;
    if reveals(&actor, found_branch, &view.assignees) {
        audit::record_reads(
            &state.db,
            &actor,
            audit::HOUSEHOLD_VIEWED,
            "household",
            [view.id],
        )
        .await?;
    }
    Ok(web::Json(view))
}

/// Change a household. Moving it to another branch (admins) ends its assignments.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    request_body = HouseholdPatch,
    responses(
        (status = 200, body = HouseholdView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/households/{id}")]
pub async fn update_household(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<HouseholdPatch>,
) -> Result<web::Json<HouseholdView>, ApiError> {
    let patch = body.into_inner();
    let move_to = patch.branch_id;
    let mut fields = patch.parse()?;
    fields.id_number = state.id_numbers.seal_change(fields.id_number)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = actor
        .find_in_reach::<household::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageHouseholds, Some(current.branch_id))?;
    let moves = move_to.filter(|b| *b != current.branch_id);
    if let Some(branch_id) = moves {
        actor.may(Action::ManageHouseholds, Some(branch_id))?;
        crate::core::directory::branch_named_in_body(&txn, &actor, branch_id).await?;
        repo::drop_assignments(&txn, current.id).await?;
    }
    let before = audit::snapshot(&masked(&HouseholdView::new(
        state.id_numbers.open_household(current.clone())?,
        Vec::new(),
        false,
    )));
    let updated = repo::update(&txn, current, moves, fields).await?;
    let view = view_for(&state, &txn, &actor, updated).await?;
    audit::record(
        &txn,
        &actor,
        "household.updated",
        "household",
        view.id,
        before,
        audit::snapshot(&masked(&view)),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(view))
}

/// Make a member responsible for a household (党员包户). Repeating it changes nothing.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path)),
    request_body = AssignRequest,
    responses(
        (status = 201, description = "assigned", body = HouseholdView),
        (status = 200, description = "already assigned", body = HouseholdView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "member not an active member of the household's branch", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/households/{id}/assignees")]
pub async fn assign_member(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let member_id = body.into_inner().member_id;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = actor
        .find_in_reach::<household::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageHouseholds, Some(found.branch_id))?;
    let member = user::Entity::find_by_id(member_id)
        .filter(user::Column::TownshipId.eq(actor.township_id))
        .filter(user::Column::BranchId.eq(found.branch_id))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.ne(Role::TownshipAdmin.as_str()))
        .one(&txn)
        .await?
        .ok_or_else(|| {
            FieldErrors::single(
                "member_id",
                "not_in_branch",
                "该党员不属于此农户所在支部",
                "not an active member of the household's branch",
            )
        })?;
    let created = if repo::find_assignment(&txn, found.id, member.id)
        .await?
        .is_none()
    {
        let assignment = repo::assign(&txn, &found, member.id).await?;
        audit::record(
            &txn,
            &actor,
            "household.assigned",
            "household",
            found.id,
            None,
            Some(serde_json::json!({ "member_id": member.id, "assignment_id": assignment.id })),
        )
        .await?;
        true
    } else {
        false
    };
    let view = view_for(&state, &txn, &actor, found).await?;
    txn.commit().await?;
    Ok(if created {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    }
    .json(view))
}

/// End a member's responsibility for a household.
#[utoipa::path(
    tag = "organisation",
    params(("id" = Uuid, Path), ("member_id" = Uuid, Path)),
    responses((status = 204, description = "unassigned"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[delete("/households/{id}/assignees/{member_id}")]
pub async fn unassign_member(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (household_id, member_id) = path.into_inner();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = actor
        .find_in_reach::<household::Entity>(&txn, household_id)
        .await?;
    actor.may(Action::ManageHouseholds, Some(found.branch_id))?;
    let assignment = repo::find_assignment(&txn, found.id, member_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    crate::core::retention::end_assignments(
        &txn,
        sea_orm::Condition::all().add(crate::entities::assignment::Column::Id.eq(assignment.id)),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "household.unassigned",
        "household",
        found.id,
        Some(serde_json::json!({ "member_id": member_id })),
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportParams {
    /// The branch the households go to; a `支部` column may name it per row instead
    /// (township admins). Secretaries' households go to their own branch.
    pub branch_id: Option<Uuid>,
    /// Import the good rows and report the bad ones, instead of importing nothing.
    #[serde(default)]
    pub partial: bool,
}

/// Import households from the township's spreadsheet (CSV).
///
/// Send the file as the body (`text/csv`) or as multipart field `file`. UTF-8
/// (with or without BOM) and GB18030/GBK, as Excel saves it, are read.
/// Columns (Chinese or English header): 户主姓名/head_name and 地址/address
/// (required), 村民小组/group, 联系电话/phone, 身份证号/id_number, 纬度/lat,
/// 经度/lng, 坐标系/coord_system, 标签/tags (separated by 、，;), 支部/branch.
/// A row matching a household of the branch (same head and address) is skipped.
/// Any bad row answers 422 naming `rows[N].field` and nothing is imported,
/// unless `partial=true`.
#[utoipa::path(
    tag = "organisation",
    params(ImportParams),
    request_body(content = String, content_type = "text/csv", description = "the CSV file"),
    responses(
        (status = 200, body = ImportReport),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 415, body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/households/import")]
pub async fn import_households(
    state: web::Data<AppState>,
    actor: Actor,
    params: Query<ImportParams>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<web::Json<ImportReport>, ApiError> {
    if actor.role == Role::Member {
        return Err(ApiError::Forbidden);
    }
    let params = params.into_inner();
    let default_branch = match (actor.role, params.branch_id) {
        (Role::Secretary, requested) => {
            Some(requested.unwrap_or(actor.branch_id.unwrap_or_default()))
        }
        (_, requested) => requested,
    };
    if let Some(branch_id) = default_branch {
        actor.may(Action::ManageHouseholds, Some(branch_id))?;
    }
    let bytes = read_file(&req, payload).await?;
    let import::ParsedFile {
        rows,
        errors: row_errors,
    } = import::read(&bytes)?;

    let txn = crate::platform::db::begin_write(&state.db).await?;
    let branches: Vec<branch::Model> = actor.scoped::<branch::Entity>().all(&txn).await?;
    if let Some(branch_id) = default_branch
        && !branches.iter().any(|b| b.id == branch_id)
    {
        return Err(
            FieldErrors::single("branch_id", "not_found", "支部不存在", "no such branch").into(),
        );
    }
    let mut errors: Vec<(usize, FieldError)> = row_errors
        .into_iter()
        .flat_map(|(line, e)| e.into_vec().into_iter().map(move |e| (line, e)))
        .collect();
    let mut placed = Vec::new();
    for row in rows {
        let branch = match (&row.branch_name, default_branch) {
            (Some(name), _) if actor.is_admin() => {
                branches.iter().find(|b| &b.name == name).map(|b| b.id)
            }
            (_, Some(branch_id)) => Some(branch_id),
            _ => None,
        };
        match branch {
            Some(branch_id) => placed.push((branch_id, row)),
            None => errors.push((
                row.line,
                FieldError {
                    field: "branch".into(),
                    code: "unknown_branch",
                    zh: "未指定支部或支部名称不存在".into(),
                    en: "no branch given, or no branch of that name".into(),
                },
            )),
        }
    }
    errors.sort_by_key(|(line, _)| *line);
    if !errors.is_empty() && !params.partial {
        let details = errors
            .into_iter()
            .map(|(line, e)| FieldError {
                field: format!("rows[{line}].{}", e.field),
                ..e
            })
            .collect();
        return Err(ApiError::Validation(details));
    }

    let placed = placed
        .into_iter()
        .map(|(branch_id, mut row)| {
            row.fields.id_number = state.id_numbers.seal_change(row.fields.id_number)?;
            Ok((branch_id, row))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let (imported, skipped) = repo::insert_imported(&txn, &actor, placed).await?;
    txn.commit().await?;
    let english = prefers_english(req.headers().get(header::ACCEPT_LANGUAGE));
    let errors = errors
        .into_iter()
        .map(|(row, e)| RowError {
            row,
            field: e.field,
            code: e.code,
            message: if english { e.en } else { e.zh },
        })
        .collect();
    Ok(web::Json(ImportReport {
        imported,
        skipped,
        errors,
    }))
}

/// The CSV bytes, from a raw body or multipart field `file`, at most 10 MiB.
async fn read_file(req: &HttpRequest, mut payload: web::Payload) -> Result<Vec<u8>, ApiError> {
    let too_large = ApiError::PayloadTooLarge {
        limit: import::IMPORT_LIMIT,
    };
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > import::IMPORT_LIMIT + 64 * 1024) {
        return Err(too_large);
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = actix_multipart::Multipart::new(req.headers(), payload);
        while let Some(field) = multipart.next().await {
            let mut field = field.map_err(|e| ApiError::BadRequest(e.to_string()))?;
            if field.name() != Some("file") {
                continue;
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = field.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
                if bytes.len() + chunk.len() > import::IMPORT_LIMIT {
                    return Err(too_large);
                }
                bytes.extend_from_slice(&chunk);
            }
            return Ok(bytes);
        }
        return Err(FieldErrors::single(
            "file",
            "required",
            "缺少文件字段 file",
            "multipart field `file` is missing",
        )
        .into());
    }
    let accepted = [
        "text/csv",
        "text/plain",
        "application/csv",
        "application/octet-stream",
        "application/vnd.ms-excel",
    ];
    if !accepted.iter().any(|t| content_type.starts_with(t)) {
        return Err(ApiError::UnsupportedMediaType(
            "text/csv or multipart/form-data",
        ));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if bytes.len() + chunk.len() > import::IMPORT_LIMIT {
            return Err(too_large);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Where a new household goes: the secretary's own branch, or the one an admin names.
fn target_branch(actor: &Actor, requested: Option<Uuid>) -> Result<Uuid, ApiError> {
    match (requested, actor.role) {
        (Some(branch_id), _) => Ok(branch_id),
        (None, Role::Secretary | Role::Member) => actor.branch_id.ok_or(ApiError::Forbidden),
        (None, Role::TownshipAdmin) => Err(FieldErrors::single(
            "branch_id",
            "required",
            "请指定所属支部",
            "branch_id is required",
        )
        .into()),
    }
}

/// A household as `actor` may see it: whole for managers and assigned members.
async fn view_for(
    state: &AppState,
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    found: household::Model,
) -> Result<HouseholdView, ApiError> {
    let found = state.id_numbers.open_household(found)?;
    let assignees = repo::assignees_of(db, &[found.id])
        .await?
        .remove(&found.id)
        .unwrap_or_default();
    let reveal = reveals(actor, found.branch_id, &assignees);
    Ok(HouseholdView::new(found, assignees, reveal))
}

/// Whether `actor` sees a household's personal data whole: its managers and
/// the members assigned to it.
fn reveals(actor: &Actor, branch_id: Uuid, assignees: &[Assignee]) -> bool {
    actor.manages(Some(branch_id)) || assignees.iter().any(|a| a.member_id == actor.user_id)
}

/// The audit log keeps personal data masked.
fn masked(view: &HouseholdView) -> HouseholdView {
    let mut copy = view.clone();
    copy.phone = copy.phone.as_deref().map(crate::domain::personal::mask);
    copy.id_number = copy.id_number.as_deref().map(crate::domain::personal::mask);
    copy
}
