//! The state every handler reaches through `web::Data<AppState>`. It holds
//! only platform and core parts, so any feature may take it without a feature
//! ever depending on another, or on the assembly in `app`.

use std::sync::Arc;

use redis::aio::ConnectionManager;
use sea_orm::DatabaseConnection;

use crate::core::change_versions::ChangeVersions;
use crate::core::pipeline::Pipeline;
use crate::core::review::ReviewKinds;
use crate::core::sessions::Sessions;
use crate::core::townships::SettingsCache;
use crate::platform::config::Settings;
use crate::platform::http::metrics::Metrics;
use crate::platform::rate_limit::RateLimiter;
use crate::platform::sealed::IdNumberCipher;
use crate::platform::storage::Storage;
use crate::platform::tokens::TokenKeys;
use crate::platform::wechat::WechatClient;

/// What every handler can reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub limiter: RateLimiter,
    pub wechat: Option<WechatClient>,
    pub redis: Option<ConnectionManager>,
    pub metrics: Arc<Metrics>,
    /// Wakes the notifier when a request commits outbox events.
    pub pipeline: Arc<Pipeline>,
    pub uploads: Storage,
    pub township_settings: SettingsCache,
    pub change_versions: ChangeVersions,
    /// The kinds of submission secretaries review.
    pub review_kinds: ReviewKinds,
    /// Whether access tokens' users may still act, as this replica last read it.
    pub sessions: Sessions,
    /// Seals and opens ID numbers at rest.
    pub id_numbers: IdNumberCipher,
}
