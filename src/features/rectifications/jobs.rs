//! The rectifications feature's periodic jobs.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::repo::{self, SUBJECT_KIND};
use crate::core::jobs::{Job, Ran, RunFuture};
use crate::core::outbox;
use crate::platform::error::ApiError;

/// Flags rectifications past their deadline every five minutes.
pub const OVERDUE: Job = Job {
    name: "overdue rectifications",
    every: std::time::Duration::from_secs(300),
    run: flag_overdue,
};

fn flag_overdue(db: &DatabaseConnection, now: DateTime<Utc>) -> RunFuture<'_> {
    Box::pin(async move { Ok(Ran::notified(sweep_overdue(db, now).await?)) })
}

/// Flags the rectifications that fell overdue since the last sweep: one
/// outbox event per rectification and deadline, claimed by a conditional
/// update so that replicas sweeping at once notify once. A reopened one with
/// a new deadline can fall overdue again. Returns how many were flagged.
pub async fn sweep_overdue(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, ApiError> {
    const BATCH: u64 = 200;
    let mut flagged = 0;
    loop {
        let batch = repo::newly_overdue(db, now, BATCH).await?;
        let full = batch.len() as u64 == BATCH;
        let mut claimed = 0;
        for overdue in batch {
            let txn = crate::platform::db::begin_write(db).await?;
            if repo::claim_overdue_notice(&txn, &overdue).await? {
                outbox::enqueue(
                    &txn,
                    overdue.township_id,
                    "rectification.overdue",
                    SUBJECT_KIND,
                    overdue.id,
                    json!({ "branch_id": overdue.branch_id, "title": overdue.title, "deadline": overdue.deadline }),
                )
                .await?;
                claimed += 1;
            }
            txn.commit().await?;
        }
        flagged += claimed;
        // Another replica may hold the rest of a full batch: stop when this
        // round claimed nothing, so two sweeps never spin on each other.
        if !full || claimed == 0 {
            return Ok(flagged);
        }
    }
}
