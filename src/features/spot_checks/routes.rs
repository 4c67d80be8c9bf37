//! `/api/v1/spot-checks`: the township's spot checks (督导检查) of approved
//! work — drawing a sample, verifying its items, closing, and the
//! per-branch figures.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use chrono::{Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, Checks, ITEM_KIND, SUBJECT_KIND};
use crate::core::audit;
use crate::core::idempotency::{self, Claim, IdempotencyKey};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::domain::FieldErrors;
use crate::domain::buckets;
use crate::domain::supervision::{self, MAX_SEED, SpotCheckStatus, Tally, VerificationOutcome};
use crate::entities::{branch, spot_check, spot_check_item, township};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Json, Query};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    // `/spot-checks/branches` before `/spot-checks/{id}`, which it would match.
    cfg.service(create_spot_check)
        .service(list_spot_checks)
        .service(figures_of_year)
        .service(get_spot_check)
        .service(figures_of_check)
        .service(verify_item)
        .service(close_spot_check);
}

/// Draw a spot check (township admins): from every branch, `ceil(percent ×
/// n)` of its `n` approved items (at least one from each branch that has
/// any), optionally only items dated within `from`–`to`.
///
/// The draw is reproducible: the same `seed` over the same approved items
/// draws the same sample. Without a seed one is drawn at random; either way
/// it is recorded and answered. Send an `Idempotency-Key`: a retry with the
/// same key and body answers the first draw again.
#[utoipa::path(
    tag = "supervision",
    request_body = NewSpotCheckRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the dashboard keeps until it hears an answer")),
    responses(
        (status = 201, body = SpotCheckDetail),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 409, description = "no approved item in the period (`nothing_to_sample`), or `idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "`percent` outside (0, 100] or over two decimals, or a sample over 2,000 items; `to` not after `from`; `seed` over 2^53 − 1; `kinds` empty or unknown", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks")]
pub async fn create_spot_check(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewSpotCheckRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::ConductSpotCheck, None)?;
    let key = IdempotencyKey::from_request(&req)?;
    let draw = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let seed = draw
        .seed
        .unwrap_or_else(|| rand::random_range(0..=MAX_SEED));
    let candidates = repo::candidates(&txn, actor.township_id, &draw).await?;
    let sample = supervision::draw(seed, draw.percent, candidates);
    if sample.is_empty() {
        return Err(ApiError::conflict(
            "percent",
            "nothing_to_sample",
            "所选范围内没有已通过审核的记录可供抽查",
            "there is no approved item to sample in this period",
        ));
    }
    if sample.len() > MAX_ITEMS {
        return Err(FieldErrors::single(
            "percent",
            "too_many",
            format!(
                "将抽取 {} 条，超过上限 {MAX_ITEMS} 条，请缩短时段或降低比例",
                sample.len()
            ),
            format!(
                "this would draw {} items, over the limit of {MAX_ITEMS}: narrow the period or lower the percentage",
                sample.len()
            ),
        )
        .into());
    }
    let check = repo::insert(&txn, &actor, &draw, seed, &sample, now).await?;
    audit::record(
        &txn,
        &actor,
        "spot_check.drawn",
        SUBJECT_KIND,
        check.id,
        None,
        Some(json!({
            "percent": draw.percent.as_f64(), "seed": seed, "from": draw.from, "to": draw.to,
            "kinds": draw.kinds, "sampled": sample.len(),
        })),
    )
    .await?;
    let view = detail(&txn, &actor, check).await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    Ok(answer)
}

/// Spot checks, newest first: township admins see the township's;
/// secretaries those that sampled something of their branch, with the
/// counts of their branch's items only.
#[utoipa::path(
    tag = "supervision",
    params(PageParams),
    responses(
        (status = 200, body = List<SpotCheckView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no spot checks", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/spot-checks")]
pub async fn list_spot_checks(
    state: web::Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
) -> Result<web::Json<List<SpotCheckView>>, ApiError> {
    actor.may(Action::ReadSpotCheck, actor.branch_limit())?;
    let (rows, next_cursor) = repo::list(&state.db, &actor, page.0.parse()?).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let mut tallies = repo::tallies_of_checks(&state.db, &actor, &ids).await?;
    Ok(web::Json(List {
        items: rows
            .into_iter()
            .map(|c| {
                let tally = tallies.remove(&c.id).unwrap_or_default();
                SpotCheckView::new(c, tally)
            })
            .collect(),
        next_cursor,
    }))
}

/// One spot check with its items: the household head or report title of
/// each, its branch, and its verification. Secretaries see only their
/// branch's items.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SpotCheckDetail),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no spot checks", body = ErrorBody),
        (status = 404, description = "no such check, or none of its items is within reach", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/spot-checks/{id}")]
pub async fn get_spot_check(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<SpotCheckDetail>, ApiError> {
    let check = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    Ok(web::Json(detail(&state.db, &actor, check).await?))
}

/// Record what checking an item found (township admins): `confirmed`, or a
/// `discrepancy` with a note saying what. The outcome may be changed until
/// the check is closed; every change is audited.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path), ("item_id" = Uuid, Path)),
    request_body = VerificationRequest,
    responses(
        (status = 200, body = SpotCheckItemView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the check is closed (`spot_check_closed`), or a rectification was made of this discrepancy (`rectified`)", body = ErrorBody),
        (status = 422, description = "unknown `outcome`; `note` missing for a discrepancy, or too long", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks/{id}/items/{item_id}/verification")]
pub async fn verify_item(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<VerificationRequest>,
) -> Result<web::Json<SpotCheckItemView>, ApiError> {
    let (check_id, item_id) = path.into_inner();
    let (outcome, note) = body.into_inner().parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let check = repo::find_readable(&txn, &actor, check_id).await?;
    let item = repo::find_item(&txn, &actor, check.id, item_id).await?;
    actor.may(Action::ConductSpotCheck, Some(item.branch_id))?;
    if check.status == SpotCheckStatus::Closed.as_str() {
        return Err(closed());
    }
    let was_discrepancy =
        item.outcome.as_deref() == Some(VerificationOutcome::Discrepancy.as_str());
    if was_discrepancy
        && outcome != VerificationOutcome::Discrepancy
        && !repo::rectifications_of(&txn, &[item.id]).await?.is_empty()
    {
        return Err(ApiError::conflict(
            "outcome",
            "rectified",
            "该问题已交办整改，不能改为属实",
            "a rectification was made of this discrepancy; it cannot become confirmed",
        ));
    }
    if !repo::verify(&txn, &actor, &item, outcome, note.as_deref(), now).await? {
        return Err(closed());
    }
    let action = if item.outcome.is_some() {
        "spot_check_item.reverified"
    } else {
        "spot_check_item.verified"
    };
    audit::record(
        &txn,
        &actor,
        action,
        ITEM_KIND,
        item.id,
        Some(json!({ "outcome": item.outcome, "note": item.note })),
        Some(json!({ "outcome": outcome, "note": note })),
    )
    .await?;
    let updated = repo::reload_item(&txn, item.id).await?;
    let view = item_views(&txn, &actor, vec![updated])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    txn.commit().await?;
    Ok(web::Json(view))
}

/// Close a spot check (township admins): its outcomes become final. Items
/// not verified by then stay unverified in the figures.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SpotCheckView),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "already closed (`spot_check_closed`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/spot-checks/{id}/close")]
pub async fn close_spot_check(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<SpotCheckView>, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let check = repo::find_readable(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::ConductSpotCheck, None)?;
    if !repo::close(&txn, &actor, &check, now).await? {
        return Err(closed());
    }
    let tally = total(
        repo::tallies(&txn, &actor, Checks::One(check.id))
            .await?
            .values(),
    );
    audit::record(
        &txn,
        &actor,
        "spot_check.closed",
        SUBJECT_KIND,
        check.id,
        Some(json!({ "status": SpotCheckStatus::Open })),
        Some(json!({ "status": SpotCheckStatus::Closed, "sampled": tally.sampled, "verified": tally.verified })),
    )
    .await?;
    let closed = repo::reload(&txn, check.id).await?;
    txn.commit().await?;
    Ok(web::Json(SpotCheckView::new(closed, tally)))
}

/// A check's verification figures per branch: sampled, verified, confirmed,
/// discrepancies, `verification_rate` (verified ÷ sampled) and
/// `discrepancy_rate` (discrepancies ÷ verified). Secretaries get their
/// branch's row.
#[utoipa::path(
    tag = "supervision",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = FiguresByBranch),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no spot checks", body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/spot-checks/{id}/branches")]
pub async fn figures_of_check(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<FiguresByBranch>, ApiError> {
    let check = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    let tallies = repo::tallies(&state.db, &actor, Checks::One(check.id)).await?;
    let names = repo::branch_names(&state.db, actor.township_id).await?;
    let rows = tallies
        .into_iter()
        .map(|(branch_id, tally)| {
            let name = names.get(&branch_id).cloned().unwrap_or_default();
            (branch_id, name, tally)
        })
        .collect();
    Ok(web::Json(by_branch(None, rows)))
}

/// Every branch's verification figures over all spot checks drawn in a year
/// (in the township's time zone), for the year-end assessment (考核).
/// Township admins get every branch, zeros included; secretaries their own.
#[utoipa::path(
    tag = "supervision",
    params(YearQuery),
    responses(
        (status = 200, body = FiguresByBranch),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members read no spot checks", body = ErrorBody),
        (status = 422, description = "`year` outside 2000–2100", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/spot-checks/branches")]
pub async fn figures_of_year(
    state: web::Data<AppState>,
    actor: Actor,
    query: Query<YearQuery>,
) -> Result<web::Json<FiguresByBranch>, ApiError> {
    actor.may(Action::ReadSpotCheck, actor.branch_limit())?;
    let zone = township::Entity::find_by_id(actor.township_id)
        .one(&state.db)
        .await?
        .map(|t| buckets::zone(&t.timezone))
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let year = query
        .0
        .year
        .unwrap_or_else(|| Utc::now().with_timezone(&zone).year());
    let drawn = year_drawn(year, zone)?;
    let mut tallies = repo::tallies(&state.db, &actor, drawn).await?;
    let branches = actor.scoped::<branch::Entity>().all(&state.db).await?;
    let rows = branches
        .into_iter()
        .map(|b| {
            let tally = tallies.remove(&b.id).unwrap_or_default();
            (b.id, b.name, tally)
        })
        .collect();
    Ok(web::Json(by_branch(Some(year), rows)))
}

/// The checks drawn in `year` of the township's calendar.
fn year_drawn(year: i32, zone: chrono_tz::Tz) -> Result<Checks, FieldErrors> {
    let out_of_range = || {
        FieldErrors::single(
            "year",
            "out_of_range",
            "年份须在 2000 到 2100 之间",
            "year must be between 2000 and 2100",
        )
    };
    if !(2000..=2100).contains(&year) {
        return Err(out_of_range());
    }
    match (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year + 1, 1, 1),
    ) {
        (Some(first), Some(next)) => Ok(Checks::Drawn {
            from: buckets::midnight(first, zone).with_timezone(&Utc),
            to: buckets::midnight(next, zone).with_timezone(&Utc),
        }),
        _ => Err(out_of_range()),
    }
}

/// Rows by branch name, with their total.
fn by_branch(year: Option<i32>, mut rows: Vec<(Uuid, String, Tally)>) -> FiguresByBranch {
    rows.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    let total = total(rows.iter().map(|(_, _, t)| t));
    FiguresByBranch {
        year,
        items: rows
            .into_iter()
            .map(|(branch_id, branch_name, tally)| BranchFigures {
                branch_id,
                branch_name,
                figures: tally.into(),
            })
            .collect(),
        total: total.into(),
    }
}

fn total<'a>(tallies: impl IntoIterator<Item = &'a Tally>) -> Tally {
    let mut sum = Tally::default();
    for tally in tallies {
        sum.absorb(tally);
    }
    sum
}

/// A check with its items within the caller's reach.
async fn detail(
    db: &impl ConnectionTrait,
    actor: &Actor,
    check: spot_check::Model,
) -> Result<SpotCheckDetail, ApiError> {
    let items = item_views(db, actor, repo::items_of(db, actor, check.id).await?).await?;
    let mut tally = Tally::default();
    for item in &items {
        tally.add(item.verification.as_ref().map(|v| v.outcome), 1);
    }
    Ok(SpotCheckDetail {
        check: SpotCheckView::new(check, tally),
        items,
    })
}

/// Items as the checker reads them, by branch name, kind and date.
async fn item_views(
    db: &impl ConnectionTrait,
    actor: &Actor,
    items: Vec<spot_check_item::Model>,
) -> Result<Vec<SpotCheckItemView>, ApiError> {
    let names = repo::branch_names(db, actor.township_id).await?;
    let mut subjects = repo::subjects_of(db, &items).await?;
    let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
    let rectified = repo::rectifications_of(db, &ids).await?;
    let mut views: Vec<SpotCheckItemView> = items
        .into_iter()
        .map(|item| {
            let branch = names.get(&item.branch_id).cloned().unwrap_or_default();
            let subject = subjects.remove(&item.subject_id).unwrap_or_default();
            let rectification = rectified.get(&item.id).copied();
            SpotCheckItemView::new(item, branch, subject, rectification)
        })
        .collect();
    views.sort_by(|a, b| {
        (
            &a.branch_name,
            a.branch_id,
            a.subject_kind,
            a.dated_at,
            a.id,
        )
            .cmp(&(
                &b.branch_name,
                b.branch_id,
                b.subject_kind,
                b.dated_at,
                b.id,
            ))
    });
    Ok(views)
}

fn closed() -> ApiError {
    ApiError::conflict(
        "status",
        "spot_check_closed",
        "该抽查已结束，核查结果不能再修改",
        "this spot check is closed",
    )
}
