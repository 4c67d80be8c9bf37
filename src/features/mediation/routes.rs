//! `/api/v1/mediation-reports`: disputes members mediated or found, their
//! review, escalation to the township (上报) and follow-up visits (回访).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, SUBJECT_KIND};
use crate::core::idempotency::{self, Claim, IdempotencyKey};
use crate::core::review::{self, HistoryEntry, HistoryEvent, Pending, ReviewKind};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::core::{audit, outbox};
use crate::domain::campaign::SubmissionKind;
use crate::domain::mediation::{
    EscalationRefusal, EscalationStatus, MediationOutcome, RiskLevel, escalates_on_submission,
    follow_up_due, handle_escalation,
};
use crate::domain::text::{COMMENT_MAX, optional};
use crate::domain::{ReviewDecision, Role, SubjectKind};
use crate::entities::mediation_report;
use crate::platform::db::Batch;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Query};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_report)
        .service(list_reports)
        .service(super::export::export_reports)
        .service(get_report)
        .service(edit_report)
        .service(review_report)
        .service(report_history)
        .service(escalate_report)
        .service(handle_report_escalation)
        .service(list_escalations)
        .service(create_follow_up)
        .service(list_follow_ups)
        .service(overdue_follow_ups);
}

/// File a dispute-mediation report (矛盾纠纷调解记录).
///
/// An `unresolved` or `high` risk report goes to the township at once
/// (`escalated: true`); it still awaits the secretary's review. A report not
/// settled (`resolved`) is due a follow-up visit after the township's
/// interval (default 7 days). Send an `Idempotency-Key`: a retry with the same
/// key and body answers the first answer again and creates nothing.
#[utoipa::path(
    tag = "mediation",
    request_body = NewReportRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the phone keeps until it hears an answer")),
    responses(
        (status = 201, body = MediationReportView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins do not file reports", body = ErrorBody),
        (status = 409, description = "`idempotency_key_reused`; `submissions_closed`: the campaign's current phase takes no new mediation reports (`closed_in_phase`, or `deadline_passed`) and the dispute did not occur while they were taken", body = ErrorBody),
        (status = 422, description = "a field is invalid: text length, parties, time window, agreement missing when resolved, households not in the branch, photos not the author's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/mediation-reports")]
pub async fn create_report(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewReportRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::Submit, actor.branch_id)?;
    let branch_id = actor.branch_id.ok_or(ApiError::Forbidden)?;
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let content = body.value.parse(now)?;

    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let township = state
        .township_settings
        .known(&txn, actor.township_id)
        .await?;
    crate::features::campaigns::admission::admit(
        &township,
        SubmissionKind::MediationReport,
        now,
        Some(content.occurred_at),
    )?;
    let photos = check(&txn, &actor, &content).await?;
    let submitted = repo::Submitted {
        branch_id,
        now,
        follow_up_due_at: follow_up_due(
            content.outcome,
            now,
            follow_up_days(&state, &txn, &actor).await?,
        ),
    };
    let created = repo::insert(&txn, &actor, &content, &submitted).await?;
    crate::features::uploads::repo::attach_photos(&txn, &actor, SUBJECT_KIND, created.id, &photos)
        .await?;
    let mut batch = Batch::default();
    record_submission(&mut batch, &actor, &created, None);
    batch.write(&txn).await?;
    let report = escalate_if_grave(&txn, &actor, created, now).await?;
    let view = MediationReportView::at(report, now);
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Reports within reach, newest first: members see their own and the
/// approved ones of their branch; secretaries their branch's; township admins
/// all. Parties' phones are masked in lists.
#[utoipa::path(
    tag = "mediation",
    params(ReportFilter, PageParams),
    responses((status = 200, body = List<MediationReportView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/mediation-reports")]
pub async fn list_reports(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<ReportFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<MediationReportView>>, ApiError> {
    let now = crate::platform::db::now();
    let (rows, next_cursor) =
        repo::list(&state.db, &actor, &filter.0, page.0.parse()?, now).await?;
    Ok(web::Json(List {
        items: rows
            .into_iter()
            .map(|r| MediationReportView::at(r, now).masked())
            .collect(),
        next_cursor,
    }))
}

/// One report within reach. Parties' phones are shown whole to its author,
/// the branch's secretaries and township admins; masked to anyone else.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = MediationReportView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/mediation-reports/{id}")]
pub async fn get_report(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<MediationReportView>, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(shown_to(&actor, found)))
}

/// Edit a returned report (its author only); it goes back to `pending`, its
/// earlier version stays in the history, and it is escalated if it now
/// must be.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReportPatch,
    responses(
        (status = 200, body = MediationReportView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not the author", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not returned (`not_returned`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/mediation-reports/{id}")]
pub async fn edit_report(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<ReportPatch>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    if current.member_id != actor.user_id {
        return Err(ApiError::Forbidden);
    }
    let before = MediationReportView::at(current.clone(), now);
    if !before.status.editable() {
        return Err(crate::core::review::not_returned());
    }
    let content = body.value.apply(ReportContent::from(&before), now)?;
    let photos = check(&txn, &actor, &content).await?;
    let submitted = repo::Submitted {
        branch_id: current.branch_id,
        now,
        follow_up_due_at: follow_up_due(
            content.outcome,
            now,
            follow_up_days(&state, &txn, &actor).await?,
        ),
    };
    let updated = repo::resubmit(&txn, &current, &content, &submitted).await?;
    crate::features::uploads::repo::detach_photos(&txn, SUBJECT_KIND, updated.id).await?;
    crate::features::uploads::repo::attach_photos(&txn, &actor, SUBJECT_KIND, updated.id, &photos)
        .await?;
    let mut batch = Batch::default();
    record_submission(&mut batch, &actor, &updated, Some(&before));
    batch.write(&txn).await?;
    let report = escalate_if_grave(&txn, &actor, updated, now).await?;
    let view = MediationReportView::at(report, now);
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Decide on a pending report: approve, return (for correction) or reject.
/// Secretaries decide their branch's reports but never their own; township
/// admins any. A comment is required to return or reject.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = crate::core::review::ReviewRequest,
    responses(
        (status = 200, body = MediationReportView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a reviewer of this report (e.g. one's own)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not pending (`not_pending`)", body = ErrorBody),
        (status = 422, description = "comment required to return or reject", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/mediation-reports/{id}/review")]
pub async fn review_report(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<crate::core::review::ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let crate::core::review::ReviewRequest { decision, comment } = body.value;
    let comment = optional("comment", comment.as_deref(), COMMENT_MAX)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let view = decide_report(&txn, &actor, id.into_inner(), decision, comment.as_deref()).await?;
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Mediation reports are reviewed by the branch's secretaries.
pub const REVIEW: ReviewKind = ReviewKind {
    kind: SubjectKind::MediationReport,
    decide: |txn, actor, id, decision, comment| {
        Box::pin(async move {
            Ok(decide_report(txn, actor, id, decision, comment)
                .await?
                .status)
        })
    },
};

/// Decides on one report inside `txn`: the check, the conditional update,
/// its history entry, outbox event and audit row. Shared with bulk review.
pub async fn decide_report(
    txn: &DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<MediationReportView, ApiError> {
    let now = crate::platform::db::now();
    let current = repo::find_readable(txn, actor, id).await?;
    actor.may_review(current.branch_id, current.member_id)?;
    let before = MediationReportView::at(current.clone(), now);
    let seen = Pending {
        id: current.id,
        status: before.status,
        version: current.version,
    };
    review::record_decision::<mediation_report::Entity>(txn, &seen, decision, comment, actor)
        .await?;
    let view = MediationReportView::at(repo::find_readable(txn, actor, id).await?, now);
    review::record_event(
        txn,
        actor,
        HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: view.id,
            version: view.version,
            action: decision.event(),
            comment,
            snapshot: None,
        },
    )
    .await?;
    outbox::enqueue(
        txn,
        actor.township_id,
        "mediation.reviewed",
        SUBJECT_KIND,
        view.id,
        json!({ "member_id": view.member_id, "branch_id": view.branch_id, "title": view.title, "decision": decision, "comment": comment, "reviewer_id": actor.user_id }),
    )
    .await?;
    audit::record(
        txn,
        actor,
        &format!("mediation_report.{}", decision.event()),
        SUBJECT_KIND,
        view.id,
        audit::snapshot(&before),
        audit::snapshot(&view),
    )
    .await?;
    Ok(view)
}

/// Everything that happened to a report, oldest first: submissions (with the
/// report as it then stood), decisions, escalation steps and follow-ups.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/mediation-reports/{id}/history")]
pub async fn report_history(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<HistoryEntry>>, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(
        review::history(&state.db, actor.township_id, SUBJECT_KIND, found.id).await?,
    ))
}

/// Escalate a report to the township (上报), by its author or the branch's
/// secretary. It does not replace the secretary's review.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = EscalateRequest,
    responses(
        (status = 200, body = MediationReportView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "neither its author nor the branch's secretary", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already escalated (`already_escalated`)", body = ErrorBody),
        (status = 422, description = "reason missing or too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/mediation-reports/{id}/escalate")]
pub async fn escalate_report(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<EscalateRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let reason = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may_follow_through(current.branch_id, current.member_id)?;
    let escalated = record_escalation(&txn, &actor, &current, &reason, now).await?;
    let view = shown_to(&actor, escalated);
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Acknowledge or resolve an escalated report (township admins of its
/// township). Each step records who and when, and is told to the author.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path)),
    request_body = EscalationRequest,
    responses(
        (status = 200, body = MediationReportView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a township admin", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_escalated`, `already_acknowledged` or `already_resolved`", body = ErrorBody),
        (status = 422, description = "note too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/mediation-reports/{id}/escalation")]
pub async fn handle_report_escalation(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: crate::platform::http::extract::Json<EscalationRequest>,
) -> Result<web::Json<MediationReportView>, ApiError> {
    let EscalationRequest { action, note } = body.into_inner();
    let note = optional("note", note.as_deref(), COMMENT_MAX)?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::HandleEscalation, Some(current.branch_id))?;
    let from = current
        .escalation_status
        .as_deref()
        .and_then(EscalationStatus::parse);
    let to = handle_escalation(from, action).map_err(escalation_conflict)?;
    let Some(from) = from else {
        return Err(escalation_conflict(EscalationRefusal::NotEscalated));
    };
    let moved = repo::move_escalation(&txn, &current, &actor, from, to, note.as_deref(), now)
        .await?
        .ok_or_else(|| escalation_conflict(EscalationRefusal::AlreadyResolved))?;
    let action_name = match to {
        EscalationStatus::Resolved => "escalation_resolved",
        _ => "escalation_acknowledged",
    };
    review::record_event(
        &txn,
        &actor,
        HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: moved.id,
            version: moved.version,
            action: action_name,
            comment: note.as_deref(),
            snapshot: None,
        },
    )
    .await?;
    outbox::enqueue(
        &txn,
        actor.township_id,
        "mediation.escalation_handled",
        SUBJECT_KIND,
        moved.id,
        json!({ "member_id": moved.member_id, "branch_id": moved.branch_id, "title": moved.title, "status": to, "note": note }),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        &format!("mediation_report.{action_name}"),
        SUBJECT_KIND,
        moved.id,
        Some(json!({ "escalation_status": from })),
        Some(json!({ "escalation_status": to, "note": note })),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(MediationReportView::at(moved, now)))
}

/// Disputes escalated to the township (township admins): open first, then
/// acknowledged, then resolved; oldest first within each.
#[utoipa::path(
    tag = "mediation",
    params(EscalationFilter, PageParams),
    responses(
        (status = 200, body = List<MediationReportView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a township admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/escalations")]
pub async fn list_escalations(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<EscalationFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<MediationReportView>>, ApiError> {
    actor.may(Action::HandleEscalation, None)?;
    let now = crate::platform::db::now();
    let (rows, next_cursor) = repo::escalations(
        &state.db,
        &actor,
        filter.0.status,
        filter.0.branch_id,
        page.0.parse_offset()?,
    )
    .await?;
    Ok(web::Json(List {
        items: rows
            .into_iter()
            .map(|r| MediationReportView::at(r, now).masked())
            .collect(),
        next_cursor,
    }))
}

/// Record a follow-up visit (回访) on a report, by its author or the branch's
/// secretary. Unless the dispute is now `resolved`, the next follow-up falls
/// due the township's interval after this one.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = NewFollowUpRequest,
    responses(
        (status = 201, body = FollowUpView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "neither its author nor the branch's secretary", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the report was rejected (`rejected`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/mediation-reports/{id}/follow-ups")]
pub async fn create_follow_up(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<NewFollowUpRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let content = body.value.parse(now)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let report = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may_follow_through(report.branch_id, report.member_id)?;
    if report.status == crate::domain::ReviewStatus::Rejected.as_str() {
        return Err(ApiError::conflict(
            "status",
            "rejected",
            "未通过审核的记录不能回访",
            "a rejected report takes no follow-ups",
        ));
    }
    let days = follow_up_days(&state, &txn, &actor).await?;
    let next_due = follow_up_due(content.outcome, content.visited_at, days);
    let (follow_up, updated) =
        repo::add_follow_up(&txn, &actor, &report, &content, next_due, now).await?;
    let view = FollowUpView::from(follow_up);
    review::record_event(
        &txn,
        &actor,
        HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: updated.id,
            version: updated.version,
            action: "followed_up",
            comment: Some(&view.note),
            snapshot: audit::snapshot(&view),
        },
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "mediation_report.followed_up",
        SUBJECT_KIND,
        updated.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// A report's follow-up visits, oldest first.
#[utoipa::path(
    tag = "mediation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<FollowUpView>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/mediation-reports/{id}/follow-ups")]
pub async fn list_follow_ups(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<FollowUpView>>, ApiError> {
    let report = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(
        repo::follow_ups(&state.db, report.id)
            .await?
            .into_iter()
            .map(FollowUpView::from)
            .collect(),
    ))
}

/// The secretary's queue of overdue follow-ups (回访逾期): reports within
/// reach whose follow-up is past due, most overdue first.
#[utoipa::path(
    tag = "reviews",
    params(PageParams),
    responses(
        (status = 200, body = List<MediationReportView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members have no queue", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/reviews/follow-ups")]
pub async fn overdue_follow_ups(
    state: web::Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
) -> Result<web::Json<List<MediationReportView>>, ApiError> {
    if actor.role == Role::Member {
        return Err(ApiError::Forbidden);
    }
    let now = crate::platform::db::now();
    let (rows, next_cursor) =
        repo::overdue_in_reach(&state.db, &actor, now, page.0.parse_offset()?).await?;
    Ok(web::Json(List {
        items: rows
            .into_iter()
            .map(|r| MediationReportView::at(r, now).masked())
            .collect(),
        next_cursor,
    }))
}

/// The report as `actor` may see it: phones whole for its author and those
/// who manage its branch, masked for anyone else.
fn shown_to(actor: &Actor, report: mediation_report::Model) -> MediationReportView {
    let whole = report.member_id == actor.user_id || actor.manages(Some(report.branch_id));
    let view = MediationReportView::at(report, crate::platform::db::now());
    if whole { view } else { view.masked() }
}

/// Checks what content refers to: households of the author's branch and
/// photos the author uploaded.
async fn check(
    txn: &DatabaseTransaction,
    actor: &Actor,
    content: &ReportContent,
) -> Result<Vec<crate::entities::upload::Model>, ApiError> {
    repo::check_households(txn, actor, &content.household_ids).await?;
    crate::features::uploads::repo::own_photos(txn, actor, &content.photo_ids).await
}

/// The township's follow-up interval, read through `txn` when not cached.
async fn follow_up_days(
    state: &AppState,
    txn: &DatabaseTransaction,
    actor: &Actor,
) -> Result<u32, ApiError> {
    Ok(state
        .township_settings
        .get(txn, actor.township_id)
        .await?
        .mediation
        .follow_up_days)
}

/// Escalates a just (re)submitted report that must go to the township:
/// unresolved, or high risk. Others are returned as they are.
async fn escalate_if_grave(
    txn: &DatabaseTransaction,
    actor: &Actor,
    report: mediation_report::Model,
    now: DateTime<Utc>,
) -> Result<mediation_report::Model, ApiError> {
    let outcome = MediationOutcome::parse(&report.outcome).unwrap_or(MediationOutcome::Unresolved);
    let risk = RiskLevel::parse(&report.risk_level).unwrap_or(RiskLevel::Medium);
    if report.escalation_status.is_some() || !escalates_on_submission(outcome, risk) {
        return Ok(report);
    }
    let reason = if risk == RiskLevel::High {
        "高风险纠纷，提交时自动上报"
    } else {
        "未化解纠纷，提交时自动上报"
    };
    record_escalation(txn, actor, &report, reason, now).await
}

/// Escalates `report` with its history entry, the township admins' outbox
/// event and the audit row.
async fn record_escalation(
    txn: &DatabaseTransaction,
    actor: &Actor,
    report: &mediation_report::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<mediation_report::Model, ApiError> {
    let escalated = repo::escalate(txn, report, actor, reason, now).await?;
    review::record_event(
        txn,
        actor,
        HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: escalated.id,
            version: escalated.version,
            action: "escalated",
            comment: Some(reason),
            snapshot: None,
        },
    )
    .await?;
    outbox::enqueue(
        txn,
        actor.township_id,
        "mediation.escalated",
        SUBJECT_KIND,
        escalated.id,
        json!({ "branch_id": escalated.branch_id, "member_id": escalated.member_id, "title": escalated.title, "risk_level": escalated.risk_level, "reason": reason }),
    )
    .await?;
    audit::record(
        txn,
        actor,
        "mediation_report.escalated",
        SUBJECT_KIND,
        escalated.id,
        None,
        Some(json!({ "reason": reason })),
    )
    .await?;
    Ok(escalated)
}

/// The history entry, outbox event and audit row of a report (re)submitted
/// for review; `before` is the returned report an edit replaced.
fn record_submission(
    batch: &mut Batch,
    actor: &Actor,
    report: &mediation_report::Model,
    before: Option<&MediationReportView>,
) {
    let (action, event, audited) = match before {
        None => (
            "submitted",
            "mediation.submitted",
            "mediation_report.created",
        ),
        Some(_) => (
            "resubmitted",
            "mediation.resubmitted",
            "mediation_report.resubmitted",
        ),
    };
    let view = MediationReportView::at(report.clone(), report.updated_at);
    let snapshot = audit::snapshot(&view);
    review::add_event(
        batch,
        actor,
        HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: view.id,
            version: view.version,
            action,
            comment: None,
            snapshot: snapshot.clone(),
        },
    );
    outbox::add(
        batch,
        actor.township_id,
        event,
        SUBJECT_KIND,
        view.id,
        json!({ "branch_id": view.branch_id, "member_id": view.member_id, "title": view.title, "category": view.category }),
    );
    audit::add(
        batch,
        actor,
        audited,
        SUBJECT_KIND,
        view.id,
        before.and_then(audit::snapshot),
        snapshot,
    );
}

fn escalation_conflict(refusal: EscalationRefusal) -> ApiError {
    match refusal {
        EscalationRefusal::AlreadyEscalated => repo::already_escalated(),
        EscalationRefusal::NotEscalated => ApiError::conflict(
            "escalated",
            "not_escalated",
            "该纠纷未上报",
            "this report has not been escalated",
        ),
        EscalationRefusal::AlreadyAcknowledged => ApiError::conflict(
            "escalation",
            "already_acknowledged",
            "该上报已受理",
            "this escalation has already been acknowledged",
        ),
        EscalationRefusal::AlreadyResolved => ApiError::conflict(
            "escalation",
            "already_resolved",
            "该上报已办结或刚被他人处理，请刷新",
            "this escalation is resolved, or was just handled by someone else",
        ),
    }
}
