//! `/api/v1/campaigns`: the township's campaigns and their phases. Township
//! admins define them; everyone in the township reads them.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, CAMPAIGN, PHASE};
use crate::core::idempotency::{self, Claim, IdempotencyKey};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::core::{audit, outbox};
use crate::domain::FieldErrors;
use crate::domain::buckets;
use crate::domain::campaign::{Days, Neighbour, check_holds, check_phase};
use crate::domain::text::{self, DESCRIPTION_MAX, TITLE_MAX};
use crate::entities::{campaign, campaign_phase};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Fingerprinted, Json};
use crate::platform::http::pagination::{List, PageParams};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_campaign)
        .service(list_campaigns)
        .service(get_campaign)
        .service(update_campaign)
        .service(delete_campaign)
        .service(add_phase)
        .service(update_phase)
        .service(delete_phase);
}

/// Define a campaign with its phases (township admins). Dates are whole
/// days in the township's time zone, `ends_on` inclusive; phases lie within
/// the campaign and overlap none, and campaigns of a township overlap none.
/// While a phase is current, new submissions of a kind it does not open (or
/// past its deadline) are refused with 409 `submissions_closed`. Send an
/// `Idempotency-Key`: a retry with the same key and body creates nothing new.
#[utoipa::path(
    tag = "campaigns",
    request_body = NewCampaignRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "UUID the dashboard keeps until it hears an answer")),
    responses(
        (status = 201, body = CampaignView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 409, description = "`idempotency_key_reused`", body = ErrorBody),
        (status = 422, description = "a field is invalid, named in `details`: text length; a date out of 2000–2100; `ends_on` before `starts_on` (`before_starts_on`); a phase outside the campaign (`phases[i].starts_on` / `ends_on`: `outside_campaign`) or overlapping another (`overlaps`); a deadline for a kind the phase does not open (`kind_not_open`) or outside it (`outside_phase`); the campaign overlapping another of the township (`starts_on`: `overlaps_campaign`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    body: Fingerprinted<NewCampaignRequest>,
) -> Result<HttpResponse, ApiError> {
    actor.may(Action::ManageCampaigns, None)?;
    let key = IdempotencyKey::from_request(&req)?;
    let plan = body.value.parse()?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    refuse_overlap(&txn, &actor, plan.days, None).await?;
    let tz = zone(&txn, &actor).await?;
    let created = repo::insert_campaign(&txn, &actor, &plan, now).await?;
    let mut phases = Vec::with_capacity(plan.phases.len());
    for phase in &plan.phases {
        phases.push(repo::insert_phase(&txn, &created, phase, tz, now).await?);
    }
    let view = CampaignView::of(created, phases, today_in(tz, now));
    record(
        &txn,
        &actor,
        Change {
            event: "campaign.created",
            subject_kind: CAMPAIGN,
            subject_id: view.id,
            before: None,
            after: audit::snapshot(&view),
        },
        &view,
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(answer)
}

/// The township's campaigns, newest first, each with its phases in order
/// and where they stand today.
#[utoipa::path(
    tag = "campaigns",
    params(PageParams),
    responses(
        (status = 200, body = List<CampaignView>),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    actor: Actor,
    page: crate::platform::http::extract::Query<PageParams>,
) -> Result<web::Json<List<CampaignView>>, ApiError> {
    let (rows, next_cursor) = repo::list(&state.db, &actor, page.0.parse()?).await?;
    let ids: Vec<Uuid> = rows.iter().map(|c| c.id).collect();
    let mut phases = repo::phases_of(&state.db, &ids).await?;
    let today = today_in(zone(&state.db, &actor).await?, crate::platform::db::now());
    let items = rows
        .into_iter()
        .map(|c| {
            let of_this = phases.remove(&c.id).unwrap_or_default();
            CampaignView::of(c, of_this, today)
        })
        .collect();
    Ok(web::Json(List { items, next_cursor }))
}

/// One campaign of the township with its phases.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CampaignView),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/campaigns/{id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let found = actor
        .find_in_reach::<campaign::Entity>(&state.db, id.into_inner())
        .await?;
    let tz = zone(&state.db, &actor).await?;
    Ok(web::Json(view_of(&state.db, found, tz).await?))
}

/// Change a campaign's name, description or dates (township admins); new
/// dates must still hold every phase.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = Uuid, Path)),
    request_body = CampaignPatch,
    responses(
        (status = 200, body = CampaignView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "changed by someone else meanwhile (`changed`)", body = ErrorBody),
        (status = 422, description = "text length; dates out of range or reversed; a phase left outside (`starts_on` / `ends_on`: `phase_outside`); overlapping another campaign (`overlaps_campaign`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/campaigns/{id}")]
pub async fn update_campaign(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<CampaignPatch>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let patch = body.into_inner();
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = actor
        .find_in_reach::<campaign::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageCampaigns, None)?;
    let mut errors = FieldErrors::new();
    let name = errors.take(text::required(
        "name",
        patch.name.as_deref().unwrap_or(&current.name),
        TITLE_MAX,
    ));
    let description = errors.take(text::optional(
        "description",
        Some(patch.description.as_deref().unwrap_or(&current.description)),
        DESCRIPTION_MAX,
    ));
    let days = errors.take(Days::parse(
        "",
        patch.starts_on.unwrap_or(current.starts_on),
        patch.ends_on.unwrap_or(current.ends_on),
    ));
    let (Some(name), Some(description), Some(days)) = (name, description, days) else {
        return Err(errors.into());
    };
    let phases = repo::phases_of(&txn, &[current.id])
        .await?
        .remove(&current.id)
        .unwrap_or_default();
    let neighbours: Vec<Neighbour<'_>> = phases.iter().map(neighbour).collect();
    let outside = check_holds(days, &neighbours);
    if !outside.is_empty() {
        return Err(outside.into());
    }
    refuse_overlap(&txn, &actor, days, Some(current.id)).await?;
    let description = description.unwrap_or_default();
    if !repo::touch(&txn, &current, Some((&name, &description, days)), now).await? {
        return Err(changed_meanwhile());
    }
    let tz = zone(&txn, &actor).await?;
    let before = CampaignView::of(current.clone(), phases.clone(), today_in(tz, now));
    let view = CampaignView::of(
        repo::reload(&txn, current.id).await?,
        phases,
        today_in(tz, now),
    );
    record(
        &txn,
        &actor,
        Change {
            event: "campaign.updated",
            subject_kind: CAMPAIGN,
            subject_id: view.id,
            before: audit::snapshot(&before),
            after: audit::snapshot(&view),
        },
        &view,
    )
    .await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(web::Json(view))
}

/// Delete a campaign with its phases (township admins). Submissions it
/// restricted are taken again; stats no longer know its phases.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses(
        (status = 204, description = "deleted"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "changed by someone else meanwhile (`changed`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/campaigns/{id}")]
pub async fn delete_campaign(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let current = actor
        .find_in_reach::<campaign::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageCampaigns, None)?;
    if !repo::touch(&txn, &current, None, now).await? {
        return Err(changed_meanwhile());
    }
    let tz = zone(&txn, &actor).await?;
    let before = view_of(&txn, current, tz).await?;
    repo::delete_campaign(&txn, before.id).await?;
    record(
        &txn,
        &actor,
        Change {
            event: "campaign.deleted",
            subject_kind: CAMPAIGN,
            subject_id: before.id,
            before: audit::snapshot(&before),
            after: None,
        },
        &before,
    )
    .await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(HttpResponse::NoContent().finish())
}

/// Add a phase to a campaign (township admins): within the campaign's days,
/// overlapping no other phase. Send an `Idempotency-Key`: a retry with the
/// same key and body adds nothing new.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header, description = "UUID the dashboard keeps until it hears an answer")),
    request_body = PhaseRequest,
    responses(
        (status = 201, body = PhaseView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`idempotency_key_reused`; the campaign has 20 phases (`too_many_phases`); changed by someone else meanwhile (`changed`)", body = ErrorBody),
        (status = 422, description = "text length; dates out of range or reversed; outside the campaign (`outside_campaign`); overlapping another phase (`overlaps`); a deadline for a kind not opened (`kind_not_open`) or outside the phase (`outside_phase`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/campaigns/{id}/phases")]
pub async fn add_phase(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Fingerprinted<PhaseRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = IdempotencyKey::from_request(&req)?;
    let plan = body.value.parse("")?;
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let claim = match idempotency::claim(&txn, &actor, key.as_ref(), &body.fingerprint).await? {
        Claim::Replay(answer) => return Ok(answer),
        fresh => fresh,
    };
    let owner = actor
        .find_in_reach::<campaign::Entity>(&txn, id.into_inner())
        .await?;
    actor.may(Action::ManageCampaigns, None)?;
    let phases = repo::phases_of(&txn, &[owner.id])
        .await?
        .remove(&owner.id)
        .unwrap_or_default();
    if phases.len() >= MAX_PHASES {
        return Err(ApiError::conflict(
            "phases",
            "too_many_phases",
            "一个活动最多 20 个阶段",
            "a campaign has at most 20 phases",
        ));
    }
    let neighbours: Vec<Neighbour<'_>> = phases.iter().map(neighbour).collect();
    let errors = check_phase(
        "",
        plan.days,
        &plan.admission,
        campaign_days(&owner),
        &neighbours,
    );
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if !repo::touch(&txn, &owner, None, now).await? {
        return Err(changed_meanwhile());
    }
    let tz = zone(&txn, &actor).await?;
    let added = repo::insert_phase(&txn, &owner, &plan, tz, now).await?;
    let view = phase_view(&txn, added, tz, now).await?;
    record(
        &txn,
        &actor,
        Change {
            event: "campaign.phase_added",
            subject_kind: PHASE,
            subject_id: view.id,
            before: None,
            after: audit::snapshot(&view),
        },
        &view,
    )
    .await?;
    let answer = claim.complete(&txn, StatusCode::CREATED, &view).await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(answer)
}

/// Change a phase (township admins): its name, dates, open kinds or
/// deadlines (`deadlines` replaced whole). The result is checked as a new
/// phase would be.
#[utoipa::path(
    tag = "campaigns",
    params(("id" = Uuid, Path), ("phase_id" = Uuid, Path)),
    request_body = PhasePatch,
    responses(
        (status = 200, body = PhaseView),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "changed by someone else meanwhile (`changed`)", body = ErrorBody),
        (status = 422, description = "as when adding a phase", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[patch("/campaigns/{id}/phases/{phase_id}")]
pub async fn update_phase(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
    body: Json<PhasePatch>,
) -> Result<web::Json<PhaseView>, ApiError> {
    let (campaign_id, phase_id) = path.into_inner();
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let (owner, current) = phase_in_reach(&txn, &actor, campaign_id, phase_id).await?;
    actor.may(Action::ManageCampaigns, None)?;
    let plan = body.into_inner().apply(&current)?;
    let phases = repo::phases_of(&txn, &[owner.id])
        .await?
        .remove(&owner.id)
        .unwrap_or_default();
    let neighbours: Vec<Neighbour<'_>> = phases
        .iter()
        .filter(|p| p.id != current.id)
        .map(neighbour)
        .collect();
    let errors = check_phase(
        "",
        plan.days,
        &plan.admission,
        campaign_days(&owner),
        &neighbours,
    );
    if !errors.is_empty() {
        return Err(errors.into());
    }
    if !repo::touch(&txn, &owner, None, now).await? {
        return Err(changed_meanwhile());
    }
    let tz = zone(&txn, &actor).await?;
    let before = phase_view(&txn, current.clone(), tz, now).await?;
    let updated = repo::update_phase(&txn, &current, &plan, tz, now).await?;
    let view = phase_view(&txn, updated, tz, now).await?;
    record(
        &txn,
        &actor,
        Change {
            event: "campaign.phase_updated",
            subject_kind: PHASE,
            subject_id: view.id,
            before: audit::snapshot(&before),
            after: audit::snapshot(&view),
        },
        &view,
    )
    .await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(web::Json(view))
}

/// Remove a phase from a campaign (township admins).
#[utoipa::path(
    tag = "campaigns",
    params(("id" = Uuid, Path), ("phase_id" = Uuid, Path)),
    responses(
        (status = 204, description = "removed"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "changed by someone else meanwhile (`changed`)", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[delete("/campaigns/{id}/phases/{phase_id}")]
pub async fn delete_phase(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (campaign_id, phase_id) = path.into_inner();
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let (owner, current) = phase_in_reach(&txn, &actor, campaign_id, phase_id).await?;
    actor.may(Action::ManageCampaigns, None)?;
    if !repo::touch(&txn, &owner, None, now).await? {
        return Err(changed_meanwhile());
    }
    let tz = zone(&txn, &actor).await?;
    let before = phase_view(&txn, current, tz, now).await?;
    repo::delete_phase(&txn, before.id).await?;
    record(
        &txn,
        &actor,
        Change {
            event: "campaign.phase_removed",
            subject_kind: PHASE,
            subject_id: before.id,
            before: audit::snapshot(&before),
            after: None,
        },
        &before,
    )
    .await?;
    txn.commit().await?;
    state.township_settings.forget(actor.township_id);
    Ok(HttpResponse::NoContent().finish())
}

/// A change to record: its outbox event (named as the audit action) and
/// audit row.
struct Change {
    event: &'static str,
    subject_kind: &'static str,
    subject_id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
}

async fn record<T: serde::Serialize>(
    txn: &DatabaseTransaction,
    actor: &Actor,
    change: Change,
    payload: &T,
) -> Result<(), ApiError> {
    outbox::enqueue(
        txn,
        actor.township_id,
        change.event,
        change.subject_kind,
        change.subject_id,
        serde_json::to_value(payload).unwrap_or_else(|_| json!({})),
    )
    .await?;
    audit::record(
        txn,
        actor,
        change.event,
        change.subject_kind,
        change.subject_id,
        change.before,
        change.after,
    )
    .await
}

/// 422 naming `starts_on` when another campaign of the township overlaps
/// `days`; the township stays locked until commit, so a concurrent write
/// waits and sees this one.
async fn refuse_overlap(
    db: &impl ConnectionTrait,
    actor: &Actor,
    days: Days,
    except: Option<Uuid>,
) -> Result<(), ApiError> {
    repo::lock_township(db, actor.township_id).await?;
    match repo::overlapping_campaign(db, actor, days, except).await? {
        Some(other) => Err(FieldErrors::single(
            "starts_on",
            "overlaps_campaign",
            format!(
                "与活动“{}”（{} 至 {}）时间重叠",
                other.name, other.starts_on, other.ends_on
            ),
            format!(
                "overlaps the campaign “{}” ({} to {})",
                other.name, other.starts_on, other.ends_on
            ),
        )
        .into()),
        None => Ok(()),
    }
}

/// A phase of a campaign, both within reach; 404 otherwise.
async fn phase_in_reach(
    db: &impl ConnectionTrait,
    actor: &Actor,
    campaign_id: Uuid,
    phase_id: Uuid,
) -> Result<(campaign::Model, campaign_phase::Model), ApiError> {
    let owner = actor
        .find_in_reach::<campaign::Entity>(db, campaign_id)
        .await?;
    let phase = actor
        .find_in_reach::<campaign_phase::Entity>(db, phase_id)
        .await?;
    if phase.campaign_id != owner.id {
        return Err(ApiError::NotFound);
    }
    Ok((owner, phase))
}

fn neighbour(phase: &campaign_phase::Model) -> Neighbour<'_> {
    Neighbour {
        name: &phase.name,
        days: days_of(phase),
    }
}

fn campaign_days(c: &campaign::Model) -> Days {
    Days {
        starts_on: c.starts_on,
        ends_on: c.ends_on,
    }
}

fn changed_meanwhile() -> ApiError {
    ApiError::conflict(
        "version",
        "changed",
        "该活动刚被他人修改，请刷新后再试",
        "this campaign was just changed by someone else; reload it",
    )
}

async fn zone(db: &impl ConnectionTrait, actor: &Actor) -> Result<Tz, ApiError> {
    let township = crate::core::townships::by_id(db, actor.township_id).await?;
    Ok(buckets::zone(&township.timezone))
}

async fn view_of(
    db: &impl ConnectionTrait,
    found: campaign::Model,
    tz: Tz,
) -> Result<CampaignView, ApiError> {
    let phases = repo::phases_of(db, &[found.id])
        .await?
        .remove(&found.id)
        .unwrap_or_default();
    Ok(CampaignView::of(
        found,
        phases,
        today_in(tz, crate::platform::db::now()),
    ))
}

/// A phase with its position among its campaign's phases.
async fn phase_view(
    db: &impl ConnectionTrait,
    phase: campaign_phase::Model,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<PhaseView, ApiError> {
    let position = repo::phases_of(db, &[phase.campaign_id])
        .await?
        .remove(&phase.campaign_id)
        .unwrap_or_default()
        .iter()
        .position(|p| p.id == phase.id)
        .unwrap_or_default()
        + 1;
    Ok(PhaseView::of(phase, position, today_in(tz, now)))
}
