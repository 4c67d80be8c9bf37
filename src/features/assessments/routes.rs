//! `/api/v1/assessments`: the year's scheme, ballot rounds, computing and
//! publishing results, and appeals.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use chrono::Duration;
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, SUBJECT_KIND};
use crate::core::idempotency::{self, Claim, IdempotencyKey};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::core::{audit, outbox};
use crate::domain::FieldErrors;
use crate::domain::assessment::score;
use crate::entities::{assessment, assessment_appeal, assessment_round, branch};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Json, Query};
use crate::platform::http::pagination::List;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_assessment)
        .service(list_assessments)
        .service(get_assessment)
        .service(replace_components)
        .service(put_committee_ratings)
        .service(get_committee_ratings)
        .service(open_round)
        .service(list_rounds)
        .service(cast_ballot)
        .service(compute)
        .service(list_snapshots)
        .service(get_snapshot)
        .service(snapshot_results)
        .service(publish)
        .service(file_appeal)
        .service(list_appeals)
        .service(answer_appeal)
        .configure(super::commendations::configure);
}

/// Set up a year's assessment scheme (township admins): the components of a
/// branch's score and of a member's, each with its weight in percent; each
/// list's weights sum to exactly 100. Send an `Idempotency-Key`.
#[utoipa::path(
    tag = "assessments",
    request_body = NewAssessmentRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the dashboard keeps until it hears an answer")),
    responses(
        (status = 201, body = AssessmentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 409, description = "the year has a scheme (`year_taken`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "`year` out of range; a component unknown, of the other subject or twice (`…[i].kind`); a weight not in (0, 100] or finer than hundredths (`…[i].weight`); weights not summing to 100 (`branch_components` / `member_components`, `weights_sum`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessments")]
pub async fn create_assessment(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewAssessmentRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::ManageAssessment, None)?;
    let key = IdempotencyKey::from_request(&req)?;
    let scheme = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let created = repo::insert_assessment(&txn, &actor, &scheme, now).await?;
    let view = AssessmentView::from(created);
    audit::record(
        &txn,
        &actor,
        "assessment.created",
        SUBJECT_KIND,
        view.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// The township's assessment schemes, latest year first (everyone in the
/// township may read how they will be assessed).
#[utoipa::path(
    tag = "assessments",
    responses(
        (status = 200, body = List<AssessmentView>),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessments")]
pub async fn list_assessments(
    state: web::Data<AppState>,
    actor: Actor,
) -> Result<web::Json<List<AssessmentView>>, ApiError> {
    use sea_orm::QueryOrder;
    let rows = actor
        .scoped::<assessment::Entity>()
        .order_by_desc(assessment::Column::Year)
        .all(&state.db)
        .await?;
    Ok(web::Json(List {
        items: rows.into_iter().map(AssessmentView::from).collect(),
        next_cursor: None,
    }))
}

/// One assessment scheme.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = AssessmentView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessments/{id}")]
pub async fn get_assessment(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<AssessmentView>, ApiError> {
    let found = actor
        .find_in_reach::<assessment::Entity>(&state.db, id.into_inner())
        .await?;
    Ok(web::Json(found.into()))
}

#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
pub struct ComponentsRequest {
    pub branch_components: Vec<ComponentRequest>,
    pub member_components: Vec<ComponentRequest>,
}

/// Change the scheme's components and weights (township admins). Snapshots
/// already computed keep the weights they were computed with.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    request_body = ComponentsRequest,
    responses(
        (status = 200, body = AssessmentView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "as for creating: each bad component named, weights not summing to 100", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[put("/assessments/{id}/components")]
pub async fn replace_components(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<ComponentsRequest>,
) -> Result<web::Json<AssessmentView>, ApiError> {
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = actor
        .find_in_reach::<assessment::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageAssessment, None)?;
    let body = body.into_inner();
    let scheme = NewAssessmentRequest {
        year: found.year,
        branch_components: body.branch_components,
        member_components: body.member_components,
    }
    .parse()?;
    let before = AssessmentView::from(found.clone());
    let changed = repo::update_scheme(&txn, &found, &scheme, crate::platform::db::now()).await?;
    let view = AssessmentView::from(changed);
    audit::record(
        &txn,
        &actor,
        "assessment.components_changed",
        SUBJECT_KIND,
        view.id,
        audit::snapshot(&before),
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(view))
}

/// Enter the township committee's rating (乡党委综合评定) of branches,
/// 0–100 each (township admins); a branch rated before is rated anew.
/// Answers every rating of the assessment.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    request_body = CommitteeRatingsRequest,
    responses(
        (status = 200, body = Vec<CommitteeRatingView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`ratings` empty; `ratings[i].points` not 0–100; `ratings[i].branch_id` twice or not of the township; comment too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[put("/assessments/{id}/committee-ratings")]
pub async fn put_committee_ratings(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<CommitteeRatingsRequest>,
) -> Result<web::Json<Vec<CommitteeRatingView>>, ApiError> {
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = actor
        .find_in_reach::<assessment::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageAssessment, None)?;
    let ratings = body.into_inner().parse()?;
    let mut errors = FieldErrors::new();
    for (i, r) in ratings.iter().enumerate() {
        if actor
            .find_in_reach::<branch::Entity>(&txn, r.branch_id)
            .await
            .is_err()
        {
            errors.add(
                format!("ratings[{i}].branch_id"),
                "not_found",
                "支部不存在",
                "no such branch",
            );
        }
    }
    errors.finish(|| ())?;
    let now = crate::platform::db::now();
    repo::put_committee_ratings(&txn, &actor, found.id, &ratings, now).await?;
    let views = rating_views(repo::committee_ratings(&txn, found.id).await?);
    audit::record(
        &txn,
        &actor,
        "assessment.committee_rated",
        SUBJECT_KIND,
        found.id,
        None,
        audit::snapshot(&views),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(views))
}

fn rating_views(
    rows: Vec<crate::entities::assessment_committee_rating::Model>,
) -> Vec<CommitteeRatingView> {
    rows.into_iter()
        .map(|r| CommitteeRatingView {
            branch_id: r.branch_id,
            points: f64::from(r.points_hundredths) / 100.0,
            comment: r.comment,
            rated_at: r.rated_at,
        })
        .collect()
}

/// The committee's ratings entered so far (township admins).
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<CommitteeRatingView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessments/{id}/committee-ratings")]
pub async fn get_committee_ratings(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Vec<CommitteeRatingView>>, ApiError> {
    let found = actor
        .find_in_reach::<assessment::Entity>(&state.db, id.into_inner())
        .await?;
    actor.may(Action::ManageAssessment, None)?;
    Ok(web::Json(rating_views(
        repo::committee_ratings(&state.db, found.id).await?,
    )))
}

/// Open a ballot round (township admins): between `opens_at` (default now)
/// and `closes_at`, each member and secretary casts one ballot for their
/// own branch. Everyone in the township is told.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    request_body = NewRoundRequest,
    responses(
        (status = 201, body = RoundView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "`closes_at` not after `opens_at` or not in the future", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessments/{id}/rounds")]
pub async fn open_round(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<NewRoundRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = actor
        .find_in_reach::<assessment::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageAssessment, None)?;
    let window = body.into_inner().parse(now)?;
    let round = repo::insert_round(&txn, &actor, found.id, window, now).await?;
    let view = round_view(round, false, Some(0), now);
    outbox::enqueue(
        &txn,
        actor.township_id,
        "assessment.ballot_opened",
        "assessment_round",
        view.id,
        json!({ "assessment_id": found.id, "year": found.year, "opens_at": view.opens_at, "closes_at": view.closes_at }),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "assessment.round_opened",
        "assessment_round",
        view.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(view))
}

fn round_view(
    r: assessment_round::Model,
    voted: bool,
    ballots_cast: Option<u64>,
    now: chrono::DateTime<chrono::Utc>,
) -> RoundView {
    RoundView {
        id: r.id,
        assessment_id: r.assessment_id,
        open: r.opens_at <= now && now < r.closes_at,
        opens_at: r.opens_at,
        closes_at: r.closes_at,
        voted,
        ballots_cast,
    }
}

/// The assessment's ballot rounds, oldest first, with whether the caller
/// has voted in each.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = List<RoundView>),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessments/{id}/rounds")]
pub async fn list_rounds(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<List<RoundView>>, ApiError> {
    let found = actor
        .find_in_reach::<assessment::Entity>(&state.db, id.into_inner())
        .await?;
    let rounds = repo::rounds_of(&state.db, found.id).await?;
    let ids: Vec<Uuid> = rounds.iter().map(|r| r.id).collect();
    let voted = repo::voted_in(&state.db, &ids, actor.user_id).await?;
    let counts = match actor.role {
        crate::domain::Role::Member => None,
        _ => Some(repo::ballot_counts(&state.db, &ids, actor.branch_limit()).await?),
    };
    let now = crate::platform::db::now();
    Ok(web::Json(List {
        items: rounds
            .into_iter()
            .map(|r| {
                let cast = counts.as_ref().map(|c| c.get(&r.id).copied().unwrap_or(0));
                let has_voted = voted.contains(&r.id);
                round_view(r, has_voted, cast, now)
            })
            .collect(),
        next_cursor: None,
    }))
}

/// Cast one's ballot in a round (members and secretaries, for their own
/// branch, while the round is open): the branch on the 五个好, and
/// optionally fellow members on the 五个模范. One ballot per round; the
/// ballot is never shown with its voter to anyone. Send an `Idempotency-Key`.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path, description = "the round"), ("Idempotency-Key" = Option<String>, Header, description = "UUID the phone keeps until it hears an answer")),
    request_body = BallotRequest,
    responses(
        (status = 201, body = BallotReceipt),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins do not vote", body = ErrorBody),
        (status = 404, description = "the round, or `branch_id` out of reach (another branch)", body = ErrorBody),
        (status = 409, description = "voted already in this round (`already_voted`), the round not open (`round_not_open`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "a mark missing, unknown or not 1–5 (`scores.<criterion>`, `member_ratings[i].scores.<criterion>`); `member_ratings[i].member_id` twice, oneself, or not of the branch", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessment-rounds/{id}/ballots")]
pub async fn cast_ballot(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<BallotRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let ballot = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let round = actor
        .find_in_reach::<assessment_round::Entity>(&txn, id.into_inner())
        .await?;
    let target = actor
        .find_in_reach::<branch::Entity>(&txn, ballot.branch_id)
        .await?;
    actor.may(Action::CastBallot, Some(target.id))?;
    if !(round.opens_at <= now && now < round.closes_at) {
        return Err(ApiError::conflict(
            "round_id",
            "round_not_open",
            "本轮测评不在投票时间内",
            "this round is not open for ballots",
        ));
    }
    if !repo::voted_in(&txn, &[round.id], actor.user_id)
        .await?
        .is_empty()
    {
        return Err(repo::already_voted());
    }
    let members = repo::members_of(&txn, actor.township_id, target.id).await?;
    let mut errors = FieldErrors::new();
    for (i, (member_id, _)) in ballot.member_marks.iter().enumerate() {
        if *member_id == actor.user_id {
            errors.add(
                format!("member_ratings[{i}].member_id"),
                "self",
                "不能评价自己",
                "you cannot rate yourself",
            );
        } else if !members.iter().any(|m| m.id == *member_id) {
            errors.add(
                format!("member_ratings[{i}].member_id"),
                "not_in_branch",
                "该党员不属于本支部",
                "not a member of this branch",
            );
        }
    }
    errors.finish(|| ())?;
    repo::cast(&txn, &actor, &round, &ballot, now).await?;
    let receipt = BallotReceipt {
        round_id: round.id,
        branch_id: target.id,
        members_rated: ballot.member_marks.len(),
        cast_at: now,
    };
    // The audit row says a ballot was cast in the branch, not by whom nor how.
    audit::record(
        &txn,
        &actor,
        "assessment.ballot_cast",
        "assessment_round",
        round.id,
        None,
        Some(json!({ "branch_id": target.id })),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &receipt).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Compute the assessment (township admins): every branch and member scored
/// from the ballots, pledges, ratings and figures as they stand, frozen as
/// the next version. Earlier versions stay as they were. Send an
/// `Idempotency-Key`: a retry computes once.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "UUID the dashboard keeps until it hears an answer")),
    responses(
        (status = 201, body = SnapshotView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "another computation took this version (`computing`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "a malformed `Idempotency-Key`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessments/{id}/snapshots")]
pub async fn compute(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let fingerprint = format!("POST {}", req.path());
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let found = actor
        .find_in_reach::<assessment::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageAssessment, None)?;
    let (branches, members) = repo::gather(&txn, &actor, &found).await?;
    let branch_scores = score(&stored(&found.branch_components), branches);
    let member_scores = score(&stored(&found.member_components), members);
    let snapshot =
        repo::insert_snapshot(&txn, &actor, &found, &branch_scores, &member_scores, now).await?;
    let view = SnapshotView::at(snapshot, now);
    audit::record(
        &txn,
        &actor,
        "assessment.computed",
        SUBJECT_KIND,
        found.id,
        None,
        Some(json!({ "snapshot_id": view.id, "version": view.version,
            "branches": branch_scores.len(), "members": member_scores.len() })),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// The assessment's snapshots, newest version first: admins every one,
/// others the published ones.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = List<SnapshotView>),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessments/{id}/snapshots")]
pub async fn list_snapshots(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<List<SnapshotView>>, ApiError> {
    let found = actor
        .find_in_reach::<assessment::Entity>(&state.db, id.into_inner())
        .await?;
    let now = crate::platform::db::now();
    Ok(web::Json(List {
        items: repo::snapshots_of(&state.db, &actor, found.id)
            .await?
            .into_iter()
            .map(|s| SnapshotView::at(s, now))
            .collect(),
        next_cursor: None,
    }))
}

/// One snapshot of an assessment's results.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SnapshotView),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such snapshot, or not yet published (for all but admins)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}")]
pub async fn get_snapshot(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<SnapshotView>, ApiError> {
    let found = repo::find_snapshot(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(SnapshotView::at(
        found,
        crate::platform::db::now(),
    )))
}

/// The scores of a snapshot with their explanation — each component's raw
/// input, normalisation, weight and contribution — best first: admins every
/// branch and member; secretaries their branch and its members; members
/// their own.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path), ResultsQuery),
    responses(
        (status = 200, body = List<ResultView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such snapshot, not yet published (for all but admins), or `branch_id` out of reach", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}/results")]
pub async fn snapshot_results(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    query: Query<ResultsQuery>,
) -> Result<web::Json<List<ResultView>>, ApiError> {
    let found = repo::find_snapshot(&state.db, &actor, id.into_inner()).await?;
    let query = query.into_inner();
    if let Some(branch_id) = query.branch_id {
        actor
            .find_in_reach::<branch::Entity>(&state.db, branch_id)
            .await?;
    }
    let rows = repo::results(&state.db, &actor, found.id, query.subject, query.branch_id).await?;
    Ok(web::Json(List {
        items: rows.into_iter().map(ResultView::from).collect(),
        next_cursor: None,
    }))
}

/// Publish a snapshot (township admins): branches and members may read it,
/// and branches may object within `appeal_days` (default 7). Everyone in the
/// township is told. A snapshot is published once.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    request_body = PublishRequest,
    responses(
        (status = 200, body = SnapshotView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "published already (`already_published`)", body = ErrorBody),
        (status = 422, description = "`appeal_days` not 1–30", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessment-snapshots/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<PublishRequest>,
) -> Result<web::Json<SnapshotView>, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = repo::find_snapshot(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::ManageAssessment, None)?;
    let days = body.into_inner().parse()?;
    let until = now + Duration::days(days);
    if !repo::publish(&txn, &actor, found.id, now, until).await? {
        return Err(ApiError::conflict(
            "published_at",
            "already_published",
            "该版本考核结果已公布",
            "this snapshot has already been published",
        ));
    }
    let published = actor
        .find_in_reach::<crate::entities::assessment_snapshot::Entity>(&txn, found.id)
        .await?;
    let view = SnapshotView::at(published, now);
    outbox::enqueue(
        &txn,
        actor.township_id,
        "assessment.result_published",
        "assessment_snapshot",
        view.id,
        json!({ "year": view.year, "version": view.version, "appeal_until": view.appeal_until }),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "assessment.published",
        "assessment_snapshot",
        view.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(view))
}

/// Object to a published result (a branch's secretary, within the appeal
/// window): one objection per branch and snapshot. The township admins
/// answer it. Send an `Idempotency-Key`.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "UUID the phone keeps until it hears an answer")),
    request_body = AppealRequest,
    responses(
        (status = 201, body = AppealView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "only a branch's secretaries object", body = ErrorBody),
        (status = 404, description = "no such snapshot, or not published", body = ErrorBody),
        (status = 409, description = "the window has closed (`appeal_window_closed`), the branch objected already (`already_appealed`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "`reason` missing or too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessment-snapshots/{id}/appeals")]
pub async fn file_appeal(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<AppealRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let reason = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let found = repo::find_snapshot(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::FileAppeal, actor.branch_id)?;
    let branch_id = actor.branch_id.ok_or(ApiError::Forbidden)?;
    if found.appeal_until.is_none_or(|until| now >= until) {
        return Err(ApiError::conflict(
            "appeal_until",
            "appeal_window_closed",
            "申诉期已过或尚未开始",
            "the appeal window is not open",
        ));
    }
    if repo::appeal_of(&txn, found.id, branch_id).await?.is_some() {
        return Err(repo::already_appealed());
    }
    let appeal = repo::insert_appeal(&txn, &actor, found.id, branch_id, &reason, now).await?;
    let view = AppealView::from(appeal);
    outbox::enqueue(
        &txn,
        actor.township_id,
        "assessment.appealed",
        "assessment_appeal",
        view.id,
        json!({ "branch_id": branch_id, "snapshot_id": found.id, "year": found.year }),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "assessment.appealed",
        "assessment_appeal",
        view.id,
        None,
        audit::snapshot(&view),
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Objections to a snapshot: admins every branch's; secretaries their
/// branch's.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = List<AppealView>),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no appeals", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}/appeals")]
pub async fn list_appeals(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<List<AppealView>>, ApiError> {
    let found = repo::find_snapshot(&state.db, &actor, id.into_inner()).await?;
    actor.may(Action::ReadAssessmentResult, actor.branch_limit())?;
    Ok(web::Json(List {
        items: repo::appeals(&state.db, &actor, found.id)
            .await?
            .into_iter()
            .map(AppealView::from)
            .collect(),
        next_cursor: None,
    }))
}

/// Answer an objection (township admins), once. The branch's secretaries are told.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    request_body = AnswerRequest,
    responses(
        (status = 200, body = AppealView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "answered already (`already_answered`)", body = ErrorBody),
        (status = 422, description = "`answer` missing or too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessment-appeals/{id}/answer")]
pub async fn answer_appeal(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<AnswerRequest>,
) -> Result<web::Json<AppealView>, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = actor
        .find_in_reach::<assessment_appeal::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageAssessment, Some(found.branch_id))?;
    let text = body.into_inner().parse()?;
    if !repo::answer(&txn, &actor, found.id, &text, now).await? {
        return Err(ApiError::conflict(
            "answer",
            "already_answered",
            "该申诉已答复",
            "this appeal has already been answered",
        ));
    }
    let answered = actor
        .find_in_reach::<assessment_appeal::Entity>(&txn, found.id)
        .await?;
    let view = AppealView::from(answered);
    outbox::enqueue(
        &txn,
        actor.township_id,
        "assessment.appeal_answered",
        "assessment_appeal",
        view.id,
        json!({ "branch_id": view.branch_id, "answer": view.answer }),
    )
    .await?;
    audit::record(
        &txn,
        &actor,
        "assessment.appeal_answered",
        "assessment_appeal",
        view.id,
        audit::snapshot(&AppealView::from(found)),
        audit::snapshot(&view),
    )
    .await?;
    txn.commit().await?;
    Ok(web::Json(view))
}
