//! `/api/v1/rectifications`: findings the township assigns to a branch to
//! put right by a deadline (整改), the branch's report, and the township's
//! acceptance (销号) or reopening.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, NewRectification, SUBJECT_KIND};
use crate::core::idempotency::{self, Claim, IdempotencyKey};
use crate::core::review::{self, HistoryEvent};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::core::{audit, outbox};
use crate::domain::FieldErrors;
use crate::domain::supervision::{
    RectificationRefusal, RectificationStatus, RectificationStep, VerificationOutcome,
    rectification_step,
};
use crate::domain::text::TITLE_MAX;
use crate::entities::{rectification, spot_check_item};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Json, Query};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_rectification)
        .service(list_rectifications)
        .service(get_rectification)
        .service(report_rectification)
        .service(close_rectification)
        .service(reopen_rectification);
}

/// Assign a rectification to a branch (township admins): from a spot-check
/// item verified as a `discrepancy` (its branch; the finding as default
/// title and description), or directly with `branch_id`, `title` and
/// `description`. The branch's secretaries are told. Send an
/// `Idempotency-Key`: a retry with the same key and body creates nothing new.
#[utoipa::path(
    tag = "supervision",
    request_body = NewRectificationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the dashboard keeps until it hears an answer")),
    responses(
        (status = 201, body = RectificationView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 409, description = "the item is not a discrepancy (`not_a_discrepancy`), a rectification was already made of it (`already_rectified`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "`deadline` not in the future; `branch_id`, `title` or `description` missing without an item; `branch_id` or `spot_check_item_id` not of the township; text too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/rectifications")]
pub async fn create_rectification(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewRectificationRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::AssignRectification, None)?;
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let assignment = body.value.parse(now)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let (branch_id, title, description) = match assignment.spot_check_item_id {
        Some(item_id) => {
            let item = finding(&txn, &actor, item_id).await?;
            if assignment.branch_id.is_some_and(|b| b != item.branch_id) {
                return Err(FieldErrors::single(
                    "branch_id",
                    "not_the_findings",
                    "支部与核查问题所属支部不一致",
                    "branch_id differs from the finding's branch",
                )
                .into());
            }
            let subject =
                crate::features::spot_checks::repo::subjects_of(&txn, std::slice::from_ref(&item))
                    .await?
                    .remove(&item.subject_id)
                    .unwrap_or_default();
            let title = assignment
                .title
                .unwrap_or_else(|| finding_title(&subject.title));
            let description = assignment
                .description
                .or(item.note.clone())
                .unwrap_or_default();
            (item.branch_id, title, description)
        }
        None => {
            let branch_id = assignment.branch_id.unwrap_or_default();
            crate::core::directory::branch_named_in_body(&txn, &actor, branch_id).await?;
            (
                branch_id,
                assignment.title.unwrap_or_default(),
                assignment.description.unwrap_or_default(),
            )
        }
    };
    actor.may(Action::AssignRectification, Some(branch_id))?;
    let created = repo::insert(
        &txn,
        &actor,
        NewRectification {
            branch_id,
            spot_check_item_id: assignment.spot_check_item_id,
            title: &title,
            description: &description,
            deadline: assignment.deadline,
        },
        now,
    )
    .await?;
    let view = view_of(&txn, created, now).await?;
    record_step(
        &txn,
        &actor,
        Step {
            view: &view,
            action: "created",
            event: "rectification.created",
            comment: None,
            snapshot: json!({ "title": view.title, "description": view.description, "deadline": view.deadline }),
        },
        None,
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Rectifications, newest first: township admins see the township's (one
/// branch with `branch_id`); secretaries their branch's. `overdue=true`:
/// those open or reopened past their deadline.
#[utoipa::path(
    tag = "supervision",
    params(RectificationFilter, PageParams),
    responses(
        (status = 200, body = List<RectificationView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no rectifications", body = ErrorBody),
        (status = 404, description = "`branch_id` out of reach", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/rectifications")]
pub async fn list_rectifications(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<RectificationFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<RectificationView>>, ApiError> {
    let filter = filter.0;
    let branch_id = match filter.branch_id {
        Some(id) => Some(
            actor
                .find_in_reach::<crate::entities::branch::Entity>(&state.db, id)
                .await?
                .id,
        ),
        None => actor.branch_limit(),
    };
    actor.may(Action::ReadRectification, branch_id)?;
    let now = crate::platform::db::now();
    let (rows, next_cursor) = repo::list(&state.db, &actor, &filter, page.0.parse()?, now).await?;
    let names =
        crate::features::spot_checks::repo::branch_names(&state.db, actor.township_id).await?;
    Ok(web::Json(List {
        items: rows
            .into_iter()
            .map(|r| {
                let name = names.get(&r.branch_id).cloned().unwrap_or_default();
                RectificationView::at(r, name, now)
            })
            .collect(),
        next_cursor,
    }))
}

/// One rectification with its history: who did what, when, with what comment.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = RectificationDetail),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no rectifications", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/rectifications/{id}")]
pub async fn get_rectification(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<RectificationDetail>, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    let history = review::history(&state.db, actor.township_id, SUBJECT_KIND, found.id).await?;
    Ok(web::Json(RectificationDetail {
        rectification: view_of(&state.db, found, crate::platform::db::now()).await?,
        history,
    }))
}

/// Report what the branch did (its secretaries): a note and optional photo
/// evidence (the reporter's uploads). The township admins are told. Send an
/// `Idempotency-Key`: a retry with the same key and body reports once.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "UUID the phone keeps until it hears an answer")),
    request_body = ReportRequest,
    responses(
        (status = 200, body = RectificationView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a secretary of its branch", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`already_reported`, `rectification_closed`, or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "`note` missing or too long; more than 9 photos, or photos not the reporter's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/rectifications/{id}/report")]
pub async fn report_rectification(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<ReportRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let report = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::ReportRectification, Some(current.branch_id))?;
    check_step(&current, RectificationStep::Report)?;
    let photos =
        crate::features::uploads::repo::own_photos(&txn, &actor, &report.photo_ids).await?;
    if !repo::report(&txn, &actor, &current, &report, now).await? {
        return Err(changed_meanwhile());
    }
    crate::features::uploads::repo::attach_photos(&txn, &actor, SUBJECT_KIND, current.id, &photos)
        .await?;
    let view = view_of(&txn, repo::reload(&txn, current.id).await?, now).await?;
    record_step(
        &txn,
        &actor,
        Step {
            view: &view,
            action: "reported",
            event: "rectification.reported",
            comment: Some(&report.note),
            snapshot: json!({ "note": report.note, "photo_ids": report.photo_ids }),
        },
        Some(&current),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Accept the branch's report and close the rectification (township
/// admins; 销号). The branch's secretaries are told.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path)),
    request_body = CloseRequest,
    responses(
        (status = 200, body = RectificationView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not reported yet (`not_reported`) or closed (`rectification_closed`)", body = ErrorBody),
        (status = 422, description = "comment too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/rectifications/{id}/close")]
pub async fn close_rectification(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<CloseRequest>,
) -> Result<web::Json<RectificationView>, ApiError> {
    let comment = body.into_inner().parse()?;
    decide(
        &state,
        &actor,
        id.into_inner(),
        RectificationStep::Close,
        comment,
        None,
    )
    .await
    .map(web::Json)
}

/// Send the report back (township admins), with a comment saying what is
/// missing and optionally a new deadline. The branch's secretaries are told;
/// it is theirs to report again.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path)),
    request_body = ReopenRequest,
    responses(
        (status = 200, body = RectificationView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not reported yet (`not_reported`) or closed (`rectification_closed`)", body = ErrorBody),
        (status = 422, description = "`comment` missing or too long; `deadline` not in the future", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/rectifications/{id}/reopen")]
pub async fn reopen_rectification(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<ReopenRequest>,
) -> Result<web::Json<RectificationView>, ApiError> {
    let (comment, deadline) = body.into_inner().parse(crate::platform::db::now())?;
    decide(
        &state,
        &actor,
        id.into_inner(),
        RectificationStep::Reopen,
        Some(comment),
        deadline,
    )
    .await
    .map(web::Json)
}

/// Closes or reopens a reported rectification, with its history entry,
/// outbox event and audit row.
async fn decide(
    state: &AppState,
    actor: &Actor,
    id: Uuid,
    step: RectificationStep,
    comment: Option<String>,
    new_deadline: Option<DateTime<Utc>>,
) -> Result<RectificationView, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = repo::find_readable(&txn, actor, id).await?;
    actor.may(Action::AssignRectification, Some(current.branch_id))?;
    let to = check_step(&current, step)?;
    if !repo::decide(&txn, actor, &current, to, new_deadline, now).await? {
        return Err(changed_meanwhile());
    }
    let view = view_of(&txn, repo::reload(&txn, current.id).await?, now).await?;
    let (action, event) = match to {
        RectificationStatus::Closed => ("closed", "rectification.closed"),
        _ => ("reopened", "rectification.reopened"),
    };
    record_step(
        &txn,
        actor,
        Step {
            view: &view,
            action,
            event,
            comment: comment.as_deref(),
            snapshot: json!({ "comment": comment, "deadline": view.deadline, "new_deadline": new_deadline }),
        },
        Some(&current),
    )
    .await?;
    txn.commit().await?;
    Ok(view)
}

/// A step taken on a rectification, for its history, outbox and audit.
struct Step<'a> {
    view: &'a RectificationView,
    /// The history's word: `created`, `reported`, `closed`, `reopened`.
    action: &'a str,
    /// The outbox event, e.g. `rectification.reported`.
    event: &'a str,
    comment: Option<&'a str>,
    snapshot: serde_json::Value,
}

/// The history entry, outbox event and audit row of a step; `before` is the
/// rectification as it stood (`None` for its creation).
async fn record_step(
    txn: &DatabaseTransaction,
    actor: &Actor,
    step: Step<'_>,
    before: Option<&rectification::Model>,
) -> Result<(), ApiError> {
    let view = step.view;
    review::record_event(
        txn,
        actor,
        HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: view.id,
            version: view.version,
            action: step.action,
            comment: step.comment,
            snapshot: Some(step.snapshot),
        },
    )
    .await?;
    outbox::enqueue(
        txn,
        actor.township_id,
        step.event,
        SUBJECT_KIND,
        view.id,
        json!({
            "branch_id": view.branch_id, "title": view.title, "deadline": view.deadline,
            "comment": step.comment,
        }),
    )
    .await?;
    audit::record(
        txn,
        actor,
        &format!("rectification.{}", step.action),
        SUBJECT_KIND,
        view.id,
        before.map(|b| json!({ "status": b.status, "deadline": b.deadline, "version": b.version })),
        audit::snapshot(view),
    )
    .await
}

/// The spot-check item a rectification is made of: of the township, a
/// discrepancy, not yet rectified.
async fn finding(
    txn: &DatabaseTransaction,
    actor: &Actor,
    item_id: Uuid,
) -> Result<spot_check_item::Model, ApiError> {
    let item = actor
        .find_in_reach::<spot_check_item::Entity>(txn, item_id)
        .await
        .map_err(|err| match err {
            ApiError::NotFound => FieldErrors::single(
                "spot_check_item_id",
                "not_found",
                "抽查条目不存在",
                "no such spot-check item",
            )
            .into(),
            other => other,
        })?;
    if item.outcome.as_deref() != Some(VerificationOutcome::Discrepancy.as_str()) {
        return Err(ApiError::conflict(
            "spot_check_item_id",
            "not_a_discrepancy",
            "只有核查不属实的条目可以交办整改",
            "only an item verified as a discrepancy becomes a rectification",
        ));
    }
    if repo::of_finding(txn, item.id).await?.is_some() {
        return Err(repo::already_rectified());
    }
    Ok(item)
}

/// "抽查发现问题：…", within the title's length.
fn finding_title(subject: &str) -> String {
    format!("抽查发现问题：{subject}")
        .chars()
        .take(TITLE_MAX)
        .collect()
}

/// The status `step` leads to, or the 409 saying why not.
fn check_step(
    current: &rectification::Model,
    step: RectificationStep,
) -> Result<RectificationStatus, ApiError> {
    let status = RectificationStatus::parse(&current.status).unwrap_or(RectificationStatus::Open);
    rectification_step(status, step).map_err(|refusal| match refusal {
        RectificationRefusal::AlreadyReported => ApiError::conflict(
            "status",
            "already_reported",
            "整改情况已报告，等待乡党委验收",
            "already reported; the township decides next",
        ),
        RectificationRefusal::NotReported => ApiError::conflict(
            "status",
            "not_reported",
            "支部尚未报告整改情况",
            "the branch has not reported yet",
        ),
        RectificationRefusal::Closed => ApiError::conflict(
            "status",
            "rectification_closed",
            "该整改事项已销号",
            "this rectification is closed",
        ),
    })
}

fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "version",
        "changed",
        "该整改事项刚被他人处理，请刷新后再试",
        "this rectification was just changed by someone else; reload it",
    )
}

async fn view_of(
    db: &impl ConnectionTrait,
    found: rectification::Model,
    now: DateTime<Utc>,
) -> Result<RectificationView, ApiError> {
    let names: HashMap<Uuid, String> =
        crate::features::spot_checks::repo::branch_names(db, found.township_id).await?;
    let name = names.get(&found.branch_id).cloned().unwrap_or_default();
    Ok(RectificationView::at(found, name, now))
}
