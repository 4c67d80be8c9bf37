//! The mediation feature's periodic jobs.

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use serde_json::json;

use super::repo::{self, SUBJECT_KIND};
use crate::core::jobs::{Job, Ran, RunFuture};
use crate::core::outbox;
use crate::platform::error::ApiError;

/// Flags lapsed mediation follow-ups every five minutes.
pub const OVERDUE_FOLLOW_UPS: Job = Job {
    name: "overdue follow-ups",
    every: std::time::Duration::from_secs(300),
    run: flag_overdue,
};

fn flag_overdue(db: &DatabaseConnection, now: DateTime<Utc>) -> RunFuture<'_> {
    Box::pin(async move { Ok(Ran::notified(sweep_overdue(db, now).await?)) })
}

/// Flags the follow-ups that fell overdue since the last sweep: one outbox
/// event per report and due time, claimed by a conditional update so that
/// replicas sweeping at once notify once. Returns how many were flagged.
pub async fn sweep_overdue(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut flagged = 0;
    for report in repo::newly_overdue(db, now, 200).await? {
        let txn = crate::platform::db::begin_write(db).await?;
        if repo::claim_overdue_notice(&txn, &report).await? {
            outbox::enqueue(
                &txn,
                report.township_id,
                "mediation.follow_up_overdue",
                SUBJECT_KIND,
                report.id,
                json!({ "branch_id": report.branch_id, "member_id": report.member_id, "title": report.title, "due_at": report.follow_up_due_at }),
            )
            .await?;
            flagged += 1;
        }
        txn.commit().await?;
    }
    Ok(flagged)
}
