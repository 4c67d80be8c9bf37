//! `/api/v1/visits`: check-ins at households, their review and history.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, SUBJECT_KIND};
use crate::core::idempotency::{self, Claim, Go, IdempotencyKey};
use crate::core::review::{self, HistoryEntry, Pending, ReviewKind};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::core::{audit, outbox};
use crate::domain::SubjectKind;
use crate::domain::campaign::SubmissionKind;
use crate::entities::visit;
use crate::platform::db::Batch;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Query};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_visit)
        .service(list_visits)
        .service(super::export::export_visits)
        .service(get_visit)
        .service(edit_visit)
        .service(review_visit)
        .service(visit_history);
}

/// Check in at a household (走访).
///
/// Send an `Idempotency-Key` (a UUID kept until the server answers): a retry
/// with the same key and body answers the first answer again and creates
/// nothing; the same key with another body answers 409 `idempotency_key_reused`.
#[utoipa::path(
    tag = "visits",
    request_body = NewVisitRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the phone keeps until it hears an answer")),
    responses(
        (status = 201, body = VisitView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins do not submit visits", body = ErrorBody),
        (status = 409, description = "`idempotency_key_reused`; `submissions_closed`: the campaign's current phase takes no new visits (`closed_in_phase`, or `deadline_passed`) and the visit was not made while they were taken", body = ErrorBody),
        (status = 413, body = ErrorBody),
        (status = 422, description = "a field is invalid: time window, coordinates, text length, household not in the branch, photos not the member's", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/visits")]
pub async fn create_visit(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewVisitRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::Submit, actor.branch_id)?;
    let key = IdempotencyKey::from_request(&req)?;
    let now = crate::platform::db::now();
    let content = body.value.parse(now)?;

    // Read in one statement, then write in one (on PostgreSQL autocommitted):
    // the member at the door waits for two round trips.
    let once = idempotency::Once::new(&actor, key.as_ref(), &body.fingerprint);
    for _ in 0..idempotency::Once::ATTEMPTS {
        let checked = async {
            let township = state
                .township_settings
                .known(&state.db, actor.township_id)
                .await?;
            crate::features::campaigns::admission::admit(
                &township,
                SubmissionKind::Visit,
                now,
                Some(content.visited_at),
            )?;
            let thresholds = &township.settings.quality;
            let probe = once.probe();
            check(&state.db, &actor, thresholds, &content, None, now, probe).await
        }
        .await;
        let key_taken = checked.as_ref().is_ok_and(|c| c.key_taken);
        let checked = match once.after_checks(&state.db, checked, key_taken).await? {
            Go::Ahead(checked) => checked,
            Go::Answer(earlier) => return Ok(earlier),
        };
        let mut batch = Batch::default();
        let created = repo::insert(
            &mut batch,
            &actor,
            checked.household.branch_id,
            &content,
            checked.distance_m,
            &checked.flags,
            now,
        );
        let view = VisitView::from(created);
        record_submission(&mut batch, &actor, &view, &checked.household, None);
        crate::features::uploads::repo::add_attachments(
            &mut batch,
            &actor,
            SUBJECT_KIND,
            view.id,
            &checked.photos,
        );
        let answer = once.answer(&mut batch, StatusCode::CREATED, &view)?;
        match batch.commit(&state.db).await {
            Ok(()) => return Ok(answer),
            Err(err) => once.after_failure(err)?,
        }
    }
    Err(ApiError::Internal(anyhow::anyhow!(
        "a check-in's idempotency key kept failing its write"
    )))
}

/// Visits within reach, newest first: members see their own and the approved
/// ones of their branch; secretaries their branch's; township admins all.
#[utoipa::path(
    tag = "visits",
    params(VisitFilter, PageParams),
    responses((status = 200, body = List<VisitView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/visits")]
pub async fn list_visits(
    state: web::Data<AppState>,
    actor: Actor,
    filter: Query<VisitFilter>,
    page: Query<PageParams>,
) -> Result<web::Json<List<VisitView>>, ApiError> {
    let (rows, next_cursor) = repo::list(&state.db, &actor, &filter.0, page.0.parse()?).await?;
    Ok(web::Json(List {
        items: rows.into_iter().map(VisitView::from).collect(),
        next_cursor,
    }))
}

/// One visit within reach.
#[utoipa::path(
    tag = "visits",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = VisitView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/visits/{id}")]
pub async fn get_visit(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<VisitView>, ApiError> {
    Ok(web::Json(
        repo::find_readable(&state.db, &actor, id.into_inner())
            .await?
            .into(),
    ))
}

/// Edit a returned visit (its author only); it goes back to `pending` and its
/// earlier version stays in the history.
#[utoipa::path(
    tag = "visits",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = VisitPatch,
    responses(
        (status = 200, body = VisitView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not the author", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not returned (`not_returned`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/visits/{id}")]
pub async fn edit_visit(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<VisitPatch>,
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
    let before = VisitView::from(current.clone());
    if !before.status.editable() {
        return Err(review::not_returned());
    }
    let content = body.value.apply(VisitContent::from(&before), now)?;
    // Read through `txn` when not cached: a second pool connection inside a
    // transaction could starve the pool.
    let township = state.township_settings.get(&txn, actor.township_id).await?;
    let checked = check(
        &txn,
        &actor,
        &township.quality,
        &content,
        Some(&current),
        now,
        None,
    )
    .await?;
    let updated = repo::resubmit(
        &txn,
        &current,
        &content,
        checked.distance_m,
        &checked.flags,
        now,
    )
    .await?;
    crate::features::uploads::repo::detach_photos(&txn, SUBJECT_KIND, updated.id).await?;
    crate::features::uploads::repo::attach_photos(
        &txn,
        &actor,
        SUBJECT_KIND,
        updated.id,
        &checked.photos,
    )
    .await?;
    let view = VisitView::from(updated);
    let mut batch = Batch::default();
    record_submission(&mut batch, &actor, &view, &checked.household, Some(&before));
    let answer = claim.answer(&mut batch, StatusCode::OK, &view)?;
    batch.write(&txn).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Decide on a pending visit: approve, return (for correction) or reject.
/// Secretaries decide their branch's visits but never their own; township
/// admins any. A comment is required to return or reject.
#[utoipa::path(
    tag = "visits",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReviewRequest,
    responses(
        (status = 200, body = VisitView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "not a reviewer of this visit (e.g. one's own)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not pending (`not_pending`): already decided, or decided by someone else just now", body = ErrorBody),
        (status = 422, description = "comment required to return or reject", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/visits/{id}/review")]
pub async fn review_visit(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<ReviewRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let ReviewRequest { decision, comment } = body.value;
    let comment = crate::domain::text::optional(
        "comment",
        comment.as_deref(),
        crate::domain::text::COMMENT_MAX,
    )?;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let view = decide_visit(&txn, &actor, id.into_inner(), decision, comment.as_deref()).await?;
    let answer = claim.complete(&txn, StatusCode::OK, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Visits are reviewed by the branch's secretaries.
pub const REVIEW: ReviewKind = ReviewKind {
    kind: SubjectKind::Visit,
    decide: |txn, actor, id, decision, comment| {
        Box::pin(async move {
            Ok(decide_visit(txn, actor, id, decision, comment)
                .await?
                .status)
        })
    },
};

/// Decides on one visit inside `txn`: the check, the conditional update, its
/// history entry, outbox event and audit row. Shared with bulk review.
pub async fn decide_visit(
    txn: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    id: Uuid,
    decision: crate::domain::ReviewDecision,
    comment: Option<&str>,
) -> Result<VisitView, ApiError> {
    let current = repo::find_readable(txn, actor, id).await?;
    actor.may_review(current.branch_id, current.member_id)?;
    let before = VisitView::from(current.clone());
    let seen = Pending {
        id: current.id,
        status: before.status,
        version: current.version,
    };
    review::record_decision::<visit::Entity>(txn, &seen, decision, comment, actor).await?;
    let decided = repo::find_readable(txn, actor, id).await?;
    let view = VisitView::from(decided);
    let mut batch = Batch::default();
    review::add_event(
        &mut batch,
        actor,
        review::HistoryEvent {
            subject_kind: SUBJECT_KIND,
            subject_id: view.id,
            version: view.version,
            action: decision.event(),
            comment,
            snapshot: None,
        },
    );
    outbox::add(
        &mut batch,
        actor.township_id,
        "visit.reviewed",
        SUBJECT_KIND,
        view.id,
        json!({ "member_id": view.member_id, "branch_id": view.branch_id, "household_id": view.household_id, "decision": decision, "comment": comment, "reviewer_id": actor.user_id }),
    );
    audit::add(
        &mut batch,
        actor,
        &format!("visit.{}", decision.event()),
        SUBJECT_KIND,
        view.id,
        audit::snapshot(&before),
        audit::snapshot(&view),
    );
    batch.write(txn).await?;
    Ok(view)
}

/// Everything that happened to a visit, oldest first, with the visit as it
/// stood after each submission (earlier versions of returned visits included).
#[utoipa::path(
    tag = "visits",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<HistoryEntry>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []))
)]
#[get("/visits/{id}/history")]
pub async fn visit_history(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<HistoryEntry>>, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(
        review::history(&state.db, actor.township_id, SUBJECT_KIND, found.id).await?,
    ))
}

/// What checking a visit's content finds: where, with what photos, how far, which flags.
struct Checked {
    household: crate::entities::household::Model,
    photos: Vec<crate::entities::upload::Model>,
    distance_m: Option<f64>,
    flags: Vec<crate::domain::VisitFlag>,
    /// Whether the idempotency key probed alongside was found taken.
    key_taken: bool,
}

/// Checks new or edited content: the household is the member's branch's, the
/// photos are theirs; then the distance and the quality flags. `probe`, an
/// [`idempotency::Once::probe`], is asked in the same statement.
async fn check(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    thresholds: &crate::domain::QualityThresholds,
    content: &VisitContent,
    edited: Option<&visit::Model>,
    now: chrono::DateTime<chrono::Utc>,
    probe: Option<sea_orm::sea_query::SelectStatement>,
) -> Result<Checked, ApiError> {
    let visit_id = edited.map(|v| v.id);
    let surroundings = repo::surroundings(db, actor, content, visit_id, thresholds, probe).await?;
    let household = surroundings.household;
    let photos = crate::features::uploads::repo::own_photos(db, actor, &content.photo_ids).await?;
    let check_in = repo::CheckIn {
        visit_id,
        household: &household,
        content,
        photos: &photos,
        received_at: edited.map_or(now, |v| v.received_at),
        nearby_visits_by_member: surroundings.nearby_visits_by_member,
    };
    let (distance_m, flags) = repo::assess(db, thresholds, &check_in).await?;
    Ok(Checked {
        household,
        photos,
        distance_m,
        flags,
        key_taken: surroundings.probed,
    })
}

/// The history entry, outbox event and audit row of a visit (re)submitted
/// for review; `before` is the returned visit an edit replaced.
fn record_submission(
    batch: &mut Batch,
    actor: &Actor,
    view: &VisitView,
    household: &crate::entities::household::Model,
    before: Option<&VisitView>,
) {
    let (action, event, audited) = match before {
        None => ("submitted", "visit.submitted", "visit.created"),
        Some(_) => ("resubmitted", "visit.resubmitted", "visit.resubmitted"),
    };
    let snapshot = audit::snapshot(view);
    let entry = review::HistoryEvent {
        subject_kind: SUBJECT_KIND,
        subject_id: view.id,
        version: view.version,
        action,
        comment: None,
        snapshot: snapshot.clone(),
    };
    review::add_event(batch, actor, entry);
    let payload = json!({
        "branch_id": view.branch_id,
        "member_id": view.member_id,
        "household_id": view.household_id,
        "household": household.head_name,
        "kind": view.kind,
    });
    outbox::add(
        batch,
        actor.township_id,
        event,
        SUBJECT_KIND,
        view.id,
        payload,
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
