//! The notifications feature's periodic jobs.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::core::jobs::{Job, Ran, RunFuture};

/// Sends the daily digests that are due, looking every five minutes.
pub const DIGESTS: Job = Job {
    name: "daily digests",
    every: std::time::Duration::from_secs(300),
    run: send_due,
};

fn send_due(db: &DatabaseConnection, now: DateTime<Utc>) -> RunFuture<'_> {
    Box::pin(async move { Ok(Ran::notified(super::digest::send_due(db, now).await?)) })
}
