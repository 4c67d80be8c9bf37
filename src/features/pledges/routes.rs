//! `/api/v1/pledges`: public pledges (公开承诺), their review, progress (践诺),
//! fulfilment, leader comments (领导点评) and ratings (群众评议).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, put, web};
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, SUBJECT_KIND};
use crate::core::idempotency::{self, Claim, IdempotencyKey};
use crate::core::review::{self, HistoryEntry, Pending, ReviewKind};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::core::{audit, outbox};
use crate::domain::campaign::SubmissionKind;
use crate::domain::text::{self, COMMENT_MAX, SUMMARY_MAX};
use crate::domain::{FieldErrors, PledgeScope, PledgeStatus, ReviewDecision, SubjectKind};
use crate::entities::pledge;
use crate::platform::db::Batch;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Query};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_pledge)
        .service(list_pledges)
        .service(get_pledge)
        .service(edit_pledge)
        .service(review_pledge)
        .service(pledge_history)
        .service(report_progress)
        .service(fulfil_pledge)
        .service(comment_on_pledge)
        .service(rate_pledge);
}

/// Make a pledge (公开承诺).
///
/// A member pledge (by a member or secretary, for themselves) waits for the
/// secretary's review; a branch pledge (by the branch's secretary, or a
/// township admin naming `branch_id`) is published at once. Send an
/// `Idempotency-Key`: a retry answers the first answer again.
#[utoipa::path(
    tag = "pledges",
    request_body = NewPledgeRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the phone keeps until it hears an answer")),
    responses(
        (status = 201, body = PledgeView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members make no branch pledges; township admins no member pledges", body = ErrorBody),
        (status = 409, description = "`idempotency_key_reused`; `submissions_closed`: the campaign's current phase takes no new pledges (`closed_in_phase`, or `deadline_passed`)", body = ErrorBody),
        (status = 422, description = "a field is invalid: year, text lengths, targets, period, branch", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/pledges")]
pub async fn create_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewPledgeRequest>,
) -> Result<HttpResponse, ApiError> {
    let scope = body.value.scope;
    match scope {
        PledgeScope::Member => actor.may(Action::Submit, actor.branch_id)?,
        PledgeScope::Branch => actor.may(
            Action::CreateBranchPledge,
            body.value.branch_id.or(actor.branch_id),
        )?,
    }
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let content = body.value.content()?;

    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let township = state
        .township_settings
        .known(&txn, actor.township_id)
        .await?;
    crate::features::campaigns::admission::admit(&township, SubmissionKind::Pledge, now, None)?;
    let branch_id = match (scope, body.value.branch_id) {
        (PledgeScope::Branch, Some(named)) => {
            crate::core::directory::branch_named_in_body(&txn, &actor, named)
                .await?
                .id
        }
        _ => actor.branch_id.ok_or_else(|| {
            FieldErrors::single(
                "branch_id",
                "required",
                "请指定支部",
                "name the branch of the pledge",
            )
        })?,
    };
    let created = repo::insert(&txn, &actor, branch_id, scope, &content, now).await?;
    let view = repo::view(&txn, created).await?;
    let mut batch = Batch::default();
    record_submission(&mut batch, &actor, &view, None);
    let answer = claim.answer(&mut batch, StatusCode::CREATED, &view)?;
    batch.write(&txn).await?;
    txn.commit().await?;
    Ok(answer)
}

/// The pledge wall (承诺墙): branch pledges first, then members', newest
/// first, each with its progress, rating and comment count. Members see
/// their own and the published ones of their branch; secretaries their
/// branch's; township admins all.
#[utoipa::path(
    tag = "pledges",
    params(PledgeFilter, PageParams),
    responses((status = 200, body = List<PledgeSummary>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/pledges")]
pub async fn list_pledges(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<PledgeFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<PledgeSummary>>, ApiError> {
    let page = repo::WallPage::parse(&page.0)?;
    let (rows, next_cursor) = repo::list(&state.db, &actor, &filter.0, page).await?;
    let figures = repo::figures(&state.db, &rows).await?;
    Ok(web::Json(List {
        items: rows.iter().map(|p| figures.summary(p)).collect(),
        next_cursor,
    }))
}

/// One pledge within reach, with its progress, leader comments and ratings.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = PledgeView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/pledges/{id}")]
pub async fn get_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<PledgeView>, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(repo::view(&state.db, found).await?))
}

/// Edit a returned pledge (its author only); it goes back to `pending` and its
/// earlier version stays in the history.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = PledgePatch,
    responses(
        (status = 200, body = PledgeView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not the author", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not returned (`not_returned`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/pledges/{id}")]
pub async fn edit_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<PledgePatch>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    if current.author_id != actor.user_id {
        return Err(ApiError::Forbidden);
    }
    if scope_and_status(&current).1 != PledgeStatus::Returned {
        return Err(crate::core::review::not_returned());
    }
    let content = body.value.apply(&current)?;
    let before = repo::view(&txn, current.clone()).await?;
    let updated = repo::resubmit(&txn, &current, &content, now).await?;
    let view = repo::view(&txn, updated).await?;
    let mut batch = Batch::default();
    record_submission(&mut batch, &actor, &view, Some(&before));
    let answer = claim.answer(&mut batch, StatusCode::OK, &view)?;
    batch.write(&txn).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Decide on a pending member pledge: approve (publish), return or reject.
/// Secretaries decide their branch's, never their own; township admins any.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReviewRequest,
    responses(
        (status = 200, body = PledgeView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a reviewer of this pledge (e.g. one's own)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not pending (`not_pending`)", body = ErrorBody),
        (status = 422, description = "comment required to return or reject", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/pledges/{id}/review")]
pub async fn review_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let ReviewRequest { decision, comment } = body.value;
    let comment = text::optional("comment", comment.as_deref(), COMMENT_MAX)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let view = decide_pledge(&txn, &actor, id.into_inner(), decision, comment.as_deref()).await?;
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Pledges are reviewed by the branch's secretaries.
pub const REVIEW: ReviewKind = ReviewKind {
    kind: SubjectKind::Pledge,
    decide: |txn, actor, id, decision, comment| {
        Box::pin(async move {
            Ok(decide_pledge(txn, actor, id, decision, comment)
                .await?
                .pledge
                .status
                .as_review())
        })
    },
};

/// Decides on one pledge inside `txn`: the check, the conditional update, its
/// history entry, outbox event and audit row. Shared with the review queue.
pub async fn decide_pledge(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    decision: ReviewDecision,
    comment: Option<&str>,
) -> Result<PledgeView, ApiError> {
    let current = repo::find_readable(txn, actor, id).await?;
    actor.may_review(current.branch_id, current.author_id)?;
    let before = repo::view(txn, current.clone()).await?;
    let seen = Pending {
        id: current.id,
        status: before.pledge.status.as_review(),
        version: current.version,
    };
    review::record_decision::<pledge::Entity>(txn, &seen, decision, comment, actor).await?;
    let view = repo::view(txn, repo::reload(txn, id).await?).await?;
    review::record_event(
        txn,
        actor,
        review::HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: view.pledge.id,
            version: view.pledge.version,
            action: decision.event(),
            comment,
            snapshot: None,
        },
    )
    .await?;
    outbox::enqueue(
        txn,
        actor.township_id,
        "pledge.reviewed",
        SUBJECT_KIND,
        view.pledge.id,
        json!({
            "member_id": view.pledge.author_id,
            "branch_id": view.pledge.branch_id,
            "title": view.pledge.title,
            "decision": decision,
            "comment": comment,
            "reviewer_id": actor.user_id,
        }),
    )
    .await?;
    audit::record(
        txn,
        actor,
        &format!("pledge.{}", decision.event()),
        SUBJECT_KIND,
        view.pledge.id,
        audit::snapshot(&before.pledge),
        audit::snapshot(&view.pledge),
    )
    .await?;
    Ok(view)
}

/// Everything that happened to a pledge, oldest first: submission, review,
/// edits, progress and fulfilment, with the pledge as it stood after each
/// submission.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/pledges/{id}/history")]
pub async fn pledge_history(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<HistoryEntry>>, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(
        review::history(&state.db, actor.township_id, SUBJECT_KIND, found.id).await?,
    ))
}

/// Report progress (践诺) on an approved pledge: a note, optionally a percent,
/// photos, and the owner's visits (or mediation reports) as evidence. Only
/// the owner reports: a member pledge's author, a branch pledge's secretary.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ProgressRequest,
    responses(
        (status = 201, body = ProgressView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not the pledge's owner", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not approved (`not_approved`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "note, percent, photos not the caller's, evidence not the owner's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/pledges/{id}/progress")]
pub async fn report_progress(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<ProgressRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let content = body.value.parse()?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may_report_progress(repo::owner_of(&current))?;
    if scope_and_status(&current).1 != PledgeStatus::Approved {
        return Err(repo::not_approved());
    }
    let photos =
        crate::features::uploads::repo::own_photos(&txn, &actor, &content.photo_ids).await?;
    repo::check_evidence(&txn, &current, &content.evidence).await?;
    let entry = repo::insert_progress(&txn, &actor, &current, &content, now).await?;
    crate::features::uploads::repo::attach_photos(&txn, &actor, SUBJECT_KIND, current.id, &photos)
        .await?;
    let view = repo::progress_view(entry);
    review::record_event(
        &txn,
        &actor,
        review::HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: current.id,
            version: current.version,
            action: "progress_reported",
            comment: Some(&view.note),
            snapshot: audit::snapshot(&view),
        },
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "pledge.progress_reported",
        SUBJECT_KIND,
        current.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Mark an approved pledge `fulfilled` (default) or `not_fulfilled` at the end
/// of its period, with a note: the branch's secretary (never for their own
/// pledge) or a township admin.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = FulfilRequest,
    responses(
        (status = 200, body = PledgeView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members, and owners of the pledge", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not approved (`not_approved`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/pledges/{id}/fulfil")]
pub async fn fulfil_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<FulfilRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let FulfilRequest { outcome, note } = body.value;
    let note = text::optional("note", note.as_deref(), SUMMARY_MAX)?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may_judge_pledge(Action::FulfilPledge, repo::owner_of(&current))?;
    if scope_and_status(&current).1 != PledgeStatus::Approved {
        return Err(repo::not_approved());
    }
    let before = repo::view(&txn, current.clone()).await?;
    let status = outcome.status();
    let updated = repo::fulfil(&txn, &actor, &current, status, note.as_deref(), now).await?;
    let view = repo::view(&txn, updated).await?;
    review::record_event(
        &txn,
        &actor,
        review::HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: view.pledge.id,
            version: view.pledge.version,
            action: status.as_str(),
            comment: note.as_deref(),
            snapshot: None,
        },
    )
    .await?;
    outbox::enqueue(
        &txn,
        actor.township_id,
        "pledge.fulfilled",
        SUBJECT_KIND,
        view.pledge.id,
        owner_payload(&current, json!({ "outcome": outcome, "note": note })),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        &format!("pledge.{}", status.as_str()),
        SUBJECT_KIND,
        view.pledge.id,
        audit::snapshot(&before.pledge),
        audit::snapshot(&view.pledge),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Comment on a pledge as the township's leadership (领导点评): township
/// admins only. The owner is notified.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CommentRequest,
    responses(
        (status = 201, body = CommentView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "only township admins comment", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "body empty or over 500 characters", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/pledges/{id}/comments")]
pub async fn comment_on_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<CommentRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::LeaderComment, Some(current.branch_id))?;
    let text = text::required("body", &body.value.body, COMMENT_MAX)?;
    let comment = repo::insert_comment(&txn, &actor, &current, &text, now).await?;
    let author_name = crate::core::directory::user_names(&txn, [actor.user_id])
        .await?
        .remove(&actor.user_id)
        .unwrap_or_default();
    let view = CommentView {
        id: comment.id,
        pledge_id: comment.pledge_id,
        author_id: comment.author_id,
        author_name,
        body: comment.body,
        created_at: comment.created_at,
    };
    outbox::enqueue(
        &txn,
        actor.township_id,
        "pledge.commented",
        SUBJECT_KIND,
        current.id,
        owner_payload(
            &current,
            json!({ "comment": view.body, "commenter_id": actor.user_id }),
        ),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "pledge.commented",
        SUBJECT_KIND,
        current.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Rate a pledge (群众评议), 1 to 5 with an optional comment: members and
/// secretaries of its branch, never its owner, on approved or fulfilled
/// pledges. One rating per rater; putting again replaces it.
#[utoipa::path(
    tag = "pledges",
    params(("id" = Uuid, Path)),
    request_body = RatingRequest,
    responses(
        (status = 200, body = RatingAnswer),
        (status = 401, body = ErrorBody),
        (status = 403, description = "one's own pledge; township admins do not rate", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not approved or fulfilled (`not_rateable`)", body = ErrorBody),
        (status = 422, description = "score not 1..5, comment over 500 characters", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[put("/pledges/{id}/rating")]
pub async fn rate_pledge(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: crate::platform::http::extract::Json<RatingRequest>,
) -> Result<web::Json<RatingAnswer>, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may_judge_pledge(Action::RatePledge, repo::owner_of(&current))?;
    if !scope_and_status(&current).1.rateable() {
        return Err(repo::not_rateable());
    }
    let (score, comment) = body.into_inner().parse()?;
    let rating = repo::put_rating(&txn, &actor, &current, score, comment.as_deref(), now).await?;
    let summary = repo::rating_of(&txn, current.id).await?;
    outbox::enqueue(
        &txn,
        actor.township_id,
        "pledge.rated",
        SUBJECT_KIND,
        current.id,
        owner_payload(&current, json!({ "score": score })),
    )
    .await?;
    let answer = RatingAnswer {
        pledge_id: current.id,
        score: rating.score,
        comment: rating.comment,
        updated_at: rating.updated_at,
        rating: summary,
    };
    audit::record(
        &txn,
        &actor,
        "pledge.rated",
        SUBJECT_KIND,
        current.id,
        None,
        audit::snapshot(&answer),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(answer))
}

/// What a notification to a pledge's owner needs, with `extra` merged in.
fn owner_payload(p: &pledge::Model, extra: serde_json::Value) -> serde_json::Value {
    merge(
        json!({
            "scope": p.scope,
            "branch_id": p.branch_id,
            "author_id": p.author_id,
            "title": p.title,
        }),
        extra,
    )
}

fn merge(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (Some(base), serde_json::Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// The history entry, outbox event and audit row of a pledge made or
/// resubmitted; `before` is the returned pledge an edit replaced. Branch
/// pledges are published, so nobody is asked to review them.
fn record_submission(
    batch: &mut Batch,
    actor: &Actor,
    view: &PledgeView,
    before: Option<&PledgeView>,
) {
    let pledge = &view.pledge;
    let (action, event, audited) = match (pledge.scope, before) {
        (PledgeScope::Branch, _) => ("published", None, "pledge.published"),
        (PledgeScope::Member, None) => ("submitted", Some("pledge.submitted"), "pledge.created"),
        (PledgeScope::Member, Some(_)) => (
            "resubmitted",
            Some("pledge.resubmitted"),
            "pledge.resubmitted",
        ),
    };
    let snapshot = audit::snapshot(pledge);
    review::add_event(
        batch,
        actor,
        review::HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: pledge.id,
            version: pledge.version,
            action,
            comment: None,
            snapshot: snapshot.clone(),
        },
    );
    if let Some(event) = event {
        outbox::add(
            batch,
            actor.township_id,
            event,
            SUBJECT_KIND,
            pledge.id,
            json!({
                "branch_id": pledge.branch_id,
                "member_id": pledge.author_id,
                "title": pledge.title,
            }),
        );
    }
    audit::add(
        batch,
        actor,
        audited,
        SUBJECT_KIND,
        pledge.id,
        before.and_then(|b| audit::snapshot(&b.pledge)),
        snapshot,
    );
}
