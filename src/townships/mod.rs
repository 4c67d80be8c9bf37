//! The township (乡党委): the tenant every row belongs to.

pub mod repo;
pub mod routes;

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::QualityThresholds;
use crate::entities::township;

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

/// Township settings as each replica last read them, for at most [`SETTINGS_TTL`]:
/// every check-in needs its township's thresholds, and they rarely change.
pub struct SettingsCache {
    entries:
        std::sync::Mutex<std::collections::HashMap<Uuid, (std::time::Instant, TownshipSettings)>>,
}

/// How long a replica may act on settings another replica has changed.
pub const SETTINGS_TTL: std::time::Duration = std::time::Duration::from_secs(30);

impl Default for SettingsCache {
    fn default() -> Self {
        SettingsCache {
            entries: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }
}

impl SettingsCache {
    pub async fn get(
        &self,
        db: &impl sea_orm::ConnectionTrait,
        township_id: Uuid,
    ) -> Result<TownshipSettings, crate::error::ApiError> {
        if let Some((read_at, settings)) = self.lock().get(&township_id)
            && read_at.elapsed() < SETTINGS_TTL
        {
            return Ok(settings.clone());
        }
        let township = repo::by_id(db, township_id).await?;
        let settings = TownshipSettings::parse(&township.settings);
        self.lock()
            .insert(township_id, (std::time::Instant::now(), settings.clone()));
        Ok(settings)
    }

    /// Drops what this replica knows of a township (after changing it).
    pub fn forget(&self, township_id: Uuid) {
        self.lock().remove(&township_id);
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        std::collections::HashMap<Uuid, (std::time::Instant, TownshipSettings)>,
    > {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
