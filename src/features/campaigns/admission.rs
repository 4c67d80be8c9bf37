//! What the campaign's phase of the moment means elsewhere: whether a new
//! submission is taken, which phase `/me` shows, the period stats count for
//! a `phase_id`, and the announcement of a phase that has started.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::json;
use uuid::Uuid;

use super::dto::{CurrentPhase, PhaseView, admission_of, today_in};
use super::repo;
use crate::core::Actor;
use crate::core::townships::Known;
use crate::domain::FieldErrors;
use crate::domain::campaign::SubmissionKind;
use crate::entities::{campaign, campaign_phase};
use crate::platform::error::ApiError;

/// 409 `submissions_closed` when the township's phase of now does not take
/// `kind` (closed in it, or past its deadline). With no phase covering now,
/// everything is taken.
///
/// Phones work offline: work done at `done_at` (a visit's `visited_at`, a
/// report's `occurred_at`) is taken as well when it was done outside every
/// phase or on a day its phase took the kind, so a visit made while visits
/// were open is not lost because its upload came after they closed.
///
/// The phases are the township's as this replica knows them: one changed
/// through another replica takes effect here within
/// [`crate::core::townships::SETTINGS_TTL`], through this one at once.
pub fn admit(
    township: &Known,
    kind: SubmissionKind,
    now: DateTime<Utc>,
    done_at: Option<DateTime<Utc>>,
) -> Result<(), ApiError> {
    let Some(phase) = township.phase_at(now) else {
        return Ok(());
    };
    let tz = township.zone;
    let Err(refusal) = admission_of(phase).admits(kind, today_in(tz, now)) else {
        return Ok(());
    };
    if let Some(done_at) = done_at.filter(|at| *at < now) {
        let admitted_then = match township.phase_at(done_at) {
            None => true,
            Some(then) => admission_of(then)
                .admits(kind, today_in(tz, done_at))
                .is_ok(),
        };
        if admitted_then {
            return Ok(());
        }
    }
    Err(ApiError::SubmissionsClosed {
        kind,
        phase: phase.name.clone(),
        refusal,
    })
}

/// The township's phase of now with its campaign's name, for `/me`: the
/// phase as [`admit`] sees it, from the replica's township cache. A campaign
/// deleted through another replica meanwhile shows no phase.
pub async fn current_phase(
    db: &impl ConnectionTrait,
    township: &Known,
    now: DateTime<Utc>,
) -> Result<Option<CurrentPhase>, ApiError> {
    let Some(phase) = township.phase_at(now) else {
        return Ok(None);
    };
    let Some(owner) = campaign::Entity::find_by_id(phase.campaign_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let position = township
        .phases
        .iter()
        .filter(|p| p.campaign_id == owner.id)
        .position(|p| p.id == phase.id)
        .unwrap_or_default()
        + 1;
    Ok(Some(CurrentPhase {
        campaign_name: owner.name,
        phase: PhaseView::of(phase.clone(), position, today_in(township.zone, now)),
    }))
}

/// The period stats count for `phase_id` (a phase of the caller's
/// township, 404 otherwise), or `from`/`to` as given. Both at once: 422
/// naming `phase_id`.
pub async fn period(
    db: &impl ConnectionTrait,
    actor: &Actor,
    phase_id: Option<Uuid>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<(Option<DateTime<Utc>>, Option<DateTime<Utc>>), ApiError> {
    let Some(phase_id) = phase_id else {
        return Ok((from, to));
    };
    if from.is_some() || to.is_some() {
        return Err(FieldErrors::single(
            "phase_id",
            "with_from_to",
            "phase_id 不能与 from、to 同时使用",
            "phase_id stands for from and to: send one or the other",
        )
        .into());
    }
    let phase = actor
        .find_in_reach::<campaign_phase::Entity>(db, phase_id)
        .await?;
    Ok((Some(phase.starts_at), Some(phase.ends_at)))
}

/// Announces the phases that have started since the last sweep: one outbox
/// event per phase start, claimed by a conditional update so that replicas
/// sweeping at once announce once. Returns how many were announced.
pub async fn sweep_started(
    db: &sea_orm::DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    const BATCH: u64 = 100;
    let mut announced = 0;
    loop {
        let batch = repo::newly_started(db, now, BATCH).await?;
        let full = batch.len() as u64 == BATCH;
        let mut claimed = 0;
        for phase in batch {
            let txn = crate::platform::db::begin_write(db).await?;
            if repo::claim_start_notice(&txn, &phase, now).await? {
                let owner: Option<campaign::Model> =
                    <campaign::Entity as sea_orm::EntityTrait>::find_by_id(phase.campaign_id)
                        .one(&txn)
                        .await?;
                let admission = admission_of(&phase);
                crate::core::outbox::enqueue(
                    &txn,
                    phase.township_id,
                    "campaign.phase_started",
                    repo::PHASE,
                    phase.id,
                    json!({
                        "campaign_id": phase.campaign_id,
                        "campaign_name": owner.map(|c| c.name).unwrap_or_default(),
                        "name": phase.name,
                        "starts_on": phase.starts_on,
                        "ends_on": phase.ends_on,
                        "open_kinds": admission.open_kinds,
                        "deadlines": admission.deadlines,
                    }),
                )
                .await?;
                claimed += 1;
            }
            txn.commit().await?;
        }
        announced += claimed;
        if !full || claimed == 0 {
            return Ok(announced);
        }
    }
}
