//! The township (乡党委): the tenant every row belongs to.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::QualityThresholds;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::entities::{campaign_phase, township};
use crate::platform::error::ApiError;

/// A township's settings; absent keys take their defaults.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, ToSchema)]
#[serde(default)]
pub struct TownshipSettings {
    /// Thresholds of the visit quality flags.
    pub quality: QualityThresholds,
    /// When unsettled disputes are due a follow-up.
    pub mediation: crate::domain::mediation::MediationSettings,
}

impl TownshipSettings {
    /// Reads stored settings; unreadable ones fall back to the defaults.
    pub fn parse(raw: &str) -> Self {
        serde_json::from_str(raw).unwrap_or_default()
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TownshipView {
    pub id: Uuid,
    pub name: String,
    /// IANA time zone of day/week/month buckets.
    #[schema(example = "Asia/Shanghai")]
    pub timezone: String,
    /// Days without a visit after which an assigned household is overdue.
    pub visit_interval_days: i32,
    pub settings: TownshipSettings,
    pub created_at: DateTime<Utc>,
}

impl From<township::Model> for TownshipView {
    fn from(t: township::Model) -> Self {
        TownshipView {
            id: t.id,
            name: t.name,
            timezone: t.timezone,
            visit_interval_days: t.visit_interval_days,
            settings: TownshipSettings::parse(&t.settings),
            created_at: t.created_at,
        }
    }
}

/// What each replica keeps of a township for at most [`SETTINGS_TTL`]: its
/// settings, time zone and campaign phases. Every submission needs them (the
/// flag thresholds, whether its phase takes it), and they rarely change; this
/// replica forgets a township as soon as it changes any of them.
#[derive(Debug, Clone)]
pub struct Known {
    pub settings: TownshipSettings,
    pub zone: chrono_tz::Tz,
    /// Every phase of the township's campaigns, earliest first.
    pub phases: std::sync::Arc<Vec<campaign_phase::Model>>,
}

impl Known {
    /// The phase covering `at`: the earliest to start of those that have
    /// started and not ended (phases of one campaign never overlap).
    pub fn phase_at(&self, at: DateTime<Utc>) -> Option<&campaign_phase::Model> {
        self.phases
            .iter()
            .find(|phase| phase.starts_at <= at && at < phase.ends_at)
    }
}

#[derive(Default)]
pub struct SettingsCache {
    entries: std::sync::Mutex<std::collections::HashMap<Uuid, (std::time::Instant, Known)>>,
}

/// How long a replica may act on a township another replica has changed
/// (its settings, or a campaign phase opened or closed by hand).
pub const SETTINGS_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl SettingsCache {
    pub async fn get(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        township_id: Uuid,
    ) -> Result<TownshipSettings, crate::platform::error::ApiError> {
        Ok(self.known(db, township_id).await?.settings)
    }

    /// The township as this replica knows it, read again when older than
    /// [`SETTINGS_TTL`]: two queries, its row and its phases.
    pub async fn known(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        township_id: Uuid,
    ) -> Result<Known, crate::platform::error::ApiError> {
        if let Some((read_at, known)) = self.lock().get(&township_id)
            && read_at.elapsed() < SETTINGS_TTL
        {
            return Ok(known.clone());
        }
        let township = township::Entity::find_by_id(township_id)
            .one(db)
            .await?
            .ok_or(crate::platform::error::ApiError::NotFound)?;
        let phases = phases_of_township(db, township_id).await?;
        let known = Known {
            settings: TownshipSettings::parse(&township.settings),
            zone: crate::domain::buckets::zone(&township.timezone),
            phases: std::sync::Arc::new(phases),
        };
        self.lock()
            .insert(township_id, (std::time::Instant::now(), known.clone()));
        Ok(known)
    }

    /// Drops what this replica knows of a township (after changing it).
    pub fn forget(&self, township_id: Uuid) {
        self.lock().remove(&township_id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<Uuid, (std::time::Instant, Known)>>
    {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Every phase of the township's campaigns, earliest first.
pub async fn phases_of_township(
    db: &impl ConnectionTrait,
    township_id: Uuid,
) -> Result<Vec<campaign_phase::Model>, ApiError> {
    use campaign_phase::Column as P;
    Ok(campaign_phase::Entity::find()
        .filter(P::TownshipId.eq(township_id))
        .order_by_asc(P::StartsAt)
        .all(db)
        .await?)
}

/// A township by id.
pub async fn by_id(db: &impl ConnectionTrait, id: Uuid) -> Result<township::Model, ApiError> {
    township::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}
