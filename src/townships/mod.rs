//! The township (乡党委): the tenant every row belongs to.

pub mod repo;

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
