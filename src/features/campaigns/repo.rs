//! Campaigns and their phases in the database.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::dto::{CampaignPlan, PhasePlan};
use crate::core::Actor;
use crate::domain::campaign::Days;
use crate::entities::{campaign, campaign_phase, township};
use crate::platform::error::ApiError;
use crate::platform::http::pagination::Page;

pub const CAMPAIGN: &str = "campaign";
pub const PHASE: &str = "campaign_phase";

/// The township's campaigns, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    page: Page,
) -> Result<(Vec<campaign::Model>, Option<String>), ApiError> {
    let rows = page
        .apply_newest_first(actor.scoped::<campaign::Entity>(), campaign::Column::Id)
        .all(db)
        .await?;
    Ok(page.finish(rows, |c| c.id))
}

/// The phases of `campaign_ids`, each campaign's in date order.
pub async fn phases_of(
    db: &impl ConnectionTrait,
    campaign_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<campaign_phase::Model>>, ApiError> {
    let rows = campaign_phase::Entity::find()
        .filter(campaign_phase::Column::CampaignId.is_in(campaign_ids.iter().copied()))
        .order_by_asc(campaign_phase::Column::StartsOn)
        .all(db)
        .await?;
    let mut by_campaign: HashMap<Uuid, Vec<campaign_phase::Model>> = HashMap::new();
    for phase in rows {
        by_campaign
            .entry(phase.campaign_id)
            .or_default()
            .push(phase);
    }
    Ok(by_campaign)
}

/// Holds the township's row until commit, so that two campaigns written at
/// once are checked against each other for overlap (PostgreSQL; SQLite's
/// write transactions run one at a time already, and it ignores the lock).
pub async fn lock_township(db: &impl ConnectionTrait, township_id: Uuid) -> Result<(), ApiError> {
    township::Entity::find_by_id(township_id)
        .lock_exclusive()
        .one(db)
        .await?;
    Ok(())
}

/// Another campaign of the township whose days overlap `days`.
pub async fn overlapping_campaign(
    db: &impl ConnectionTrait,
    actor: &Actor,
    days: Days,
    except: Option<Uuid>,
) -> Result<Option<campaign::Model>, ApiError> {
    use campaign::Column as C;
    let mut query = actor
        .scoped::<campaign::Entity>()
        .filter(C::StartsOn.lte(days.ends_on))
        .filter(C::EndsOn.gte(days.starts_on));
    if let Some(id) = except {
        query = query.filter(C::Id.ne(id));
    }
    Ok(query.one(db).await?)
}

pub async fn insert_campaign(
    db: &impl ConnectionTrait,
    actor: &Actor,
    plan: &CampaignPlan,
    now: DateTime<Utc>,
) -> Result<campaign::Model, ApiError> {
    Ok(campaign::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        name: Set(plan.name.clone()),
        description: Set(plan.description.clone()),
        starts_on: Set(plan.days.starts_on),
        ends_on: Set(plan.days.ends_on),
        version: Set(1),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn insert_phase(
    db: &impl ConnectionTrait,
    owner: &campaign::Model,
    plan: &PhasePlan,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<campaign_phase::Model, ApiError> {
    let (starts_at, ends_at) = plan.days.instants(tz);
    Ok(campaign_phase::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(owner.township_id),
        campaign_id: Set(owner.id),
        name: Set(plan.name.clone()),
        description: Set(plan.description.clone()),
        starts_on: Set(plan.days.starts_on),
        ends_on: Set(plan.days.ends_on),
        starts_at: Set(starts_at),
        ends_at: Set(ends_at),
        open_kinds: Set(serde_json::json!(plan.admission.open_kinds)),
        deadlines: Set(serde_json::json!(plan.admission.deadlines)),
        start_notified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Rewrites a phase as `plan` says. A phase moved to start later is
/// announced again when it starts.
pub async fn update_phase(
    db: &impl ConnectionTrait,
    current: &campaign_phase::Model,
    plan: &PhasePlan,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<campaign_phase::Model, ApiError> {
    let (starts_at, ends_at) = plan.days.instants(tz);
    let mut changed = campaign_phase::ActiveModel::from(current.clone());
    changed.name = Set(plan.name.clone());
    changed.description = Set(plan.description.clone());
    changed.starts_on = Set(plan.days.starts_on);
    changed.ends_on = Set(plan.days.ends_on);
    changed.starts_at = Set(starts_at);
    changed.ends_at = Set(ends_at);
    changed.open_kinds = Set(serde_json::json!(plan.admission.open_kinds));
    changed.deadlines = Set(serde_json::json!(plan.admission.deadlines));
    if starts_at != current.starts_at && starts_at > now {
        changed.start_notified_at = Set(None);
    }
    changed.updated_at = Set(now);
    Ok(changed.update(db).await?)
}

/// Claims the right to change `seen` and its phases: bumps its version,
/// conditional on the one read (and, when given, sets its name, description
/// and days). False when someone changed it meanwhile; on PostgreSQL the
/// row stays locked until commit, so concurrent changes queue.
pub async fn touch(
    db: &impl ConnectionTrait,
    seen: &campaign::Model,
    fields: Option<(&str, &str, Days)>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use campaign::Column as C;
    let mut update = campaign::Entity::update_many()
        .col_expr(C::Version, Expr::col(C::Version).add(1))
        .col_expr(C::UpdatedAt, Expr::value(now));
    if let Some((name, description, days)) = fields {
        update = update
            .col_expr(C::Name, Expr::value(name.to_owned()))
            .col_expr(C::Description, Expr::value(description.to_owned()))
            .col_expr(C::StartsOn, Expr::value(days.starts_on))
            .col_expr(C::EndsOn, Expr::value(days.ends_on));
    }
    let updated = update
        .filter(C::Id.eq(seen.id))
        .filter(C::Version.eq(seen.version))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn delete_phase(db: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    campaign_phase::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Deletes a campaign with its phases.
pub async fn delete_campaign(db: &impl ConnectionTrait, id: Uuid) -> Result<(), ApiError> {
    campaign_phase::Entity::delete_many()
        .filter(campaign_phase::Column::CampaignId.eq(id))
        .exec(db)
        .await?;
    campaign::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

pub async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<campaign::Model, ApiError> {
    campaign::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Phases that have started and not ended, not yet announced, across
/// townships (the background sweep).
pub async fn newly_started(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<campaign_phase::Model>, ApiError> {
    use campaign_phase::Column as P;
    Ok(campaign_phase::Entity::find()
        .filter(P::StartsAt.lte(now))
        .filter(P::EndsAt.gt(now))
        .filter(P::StartNotifiedAt.is_null())
        .order_by_asc(P::StartsAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Claims the announcement of `phase`'s start; false when another replica
/// (or an earlier sweep) already did.
pub async fn claim_start_notice(
    db: &impl ConnectionTrait,
    phase: &campaign_phase::Model,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use campaign_phase::Column as P;
    let updated = campaign_phase::Entity::update_many()
        .col_expr(P::StartNotifiedAt, Expr::value(now))
        .filter(P::Id.eq(phase.id))
        .filter(P::StartsAt.eq(phase.starts_at))
        .filter(P::StartNotifiedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}
