//! The campaigns feature's periodic jobs.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::core::jobs::{Job, Ran, RunFuture};

/// Announces each campaign phase once it has started, every five minutes.
pub const PHASE_STARTS: Job = Job {
    name: "campaign phase starts",
    every: std::time::Duration::from_secs(300),
    run: announce_started,
};

fn announce_started(db: &DatabaseConnection, now: DateTime<Utc>) -> RunFuture<'_> {
    Box::pin(async move {
        Ok(Ran::notified(
            super::admission::sweep_started(db, now).await?,
        ))
    })
}
