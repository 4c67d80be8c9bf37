//! What is kept and for how long, and the hourly job that removes the rest:
//! - Soft delete. What the API deletes (a household's assignment to a member,
//!   and those a move or deactivation ends) keeps its row, marked `deleted_at`
//!   and invisible to every read, for `DELETED_RETENTION_DAYS`, so a mistaken
//!   removal can be looked into; then the purge removes it.
//! - The audit log, changes and recorded reads alike, for `AUDIT_RETENTION_DAYS`.
//! - Uploads attached to no submission, for `UPLOAD_ORPHAN_HOURS`: a phone
//!   uploads its photos before the submission that carries them, and one never
//!   sent leaves its photos behind; their rows and files go.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QuerySelect, Select,
};

use crate::entities::{assignment, upload, upload_attachment};
use crate::platform::config::Settings;
use crate::platform::error::ApiError;
use crate::platform::storage::Storage;

/// How often each replica purges; a purge that finds nothing costs one
/// indexed delete, and replicas purging at once delete nothing twice.
const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Assignments that have not ended: where every read of them starts.
pub fn live_assignments() -> Select<assignment::Entity> {
    assignment::Entity::find().filter(assignment::Column::DeletedAt.is_null())
}

/// Ends the assignments `condition` picks, keeping their rows until the purge.
pub async fn end_assignments(
    db: &impl ConnectionTrait,
    condition: Condition,
) -> Result<u64, DbErr> {
    let ended = assignment::Entity::update_many()
        .col_expr(assignment::Column::DeletedAt, Expr::value(Utc::now()))
        .filter(assignment::Column::DeletedAt.is_null())
        .filter(condition)
        .exec(db)
        .await?;
    Ok(ended.rows_affected)
}

/// Removes rows deleted longer than `retention` ago; answers how many.
pub async fn purge(db: &impl ConnectionTrait, retention: Duration) -> Result<u64, ApiError> {
    let retention = chrono::Duration::from_std(retention).map_err(anyhow::Error::from)?;
    let cutoff = Utc::now() - retention;
    let purged = assignment::Entity::delete_many()
        .filter(assignment::Column::DeletedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(purged.rows_affected)
}

/// Orphan uploads removed in one pass at most; the next pass takes the rest.
const ORPHANS_PER_PASS: u64 = 1000;

/// Removes uploads attached to nothing and older than `age`: their rows, and
/// their files unless another upload (the same bytes from someone else)
/// still names them. Answers how many uploads went.
///
/// The same bytes stored again in the instant between the check and the
/// removal of a file would lose it; a 48-hour-old orphan's exact bytes
/// arriving in that instant is not worth a lock.
pub async fn purge_orphan_uploads(
    db: &impl ConnectionTrait,
    storage: &Storage,
    age: Duration,
) -> Result<u64, ApiError> {
    let age = chrono::Duration::from_std(age).map_err(anyhow::Error::from)?;
    let cutoff = Utc::now() - age;
    let attached = Query::select()
        .column(upload_attachment::Column::UploadId)
        .from(upload_attachment::Entity)
        .to_owned();
    let orphans: Vec<(uuid::Uuid, String)> = upload::Entity::find()
        .select_only()
        .column(upload::Column::Id)
        .column(upload::Column::StorageKey)
        .filter(upload::Column::CreatedAt.lt(cutoff))
        .filter(upload::Column::Id.not_in_subquery(attached.clone()))
        .limit(ORPHANS_PER_PASS)
        .into_tuple()
        .all(db)
        .await?;
    if orphans.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = orphans.iter().map(|(id, _)| *id).collect();
    // Attached since it was read: it stays.
    let removed = upload::Entity::delete_many()
        .filter(upload::Column::Id.is_in(ids))
        .filter(upload::Column::Id.not_in_subquery(attached))
        .exec(db)
        .await?;
    let mut keys: Vec<String> = orphans.into_iter().map(|(_, key)| key).collect();
    keys.sort();
    keys.dedup();
    let still_named: std::collections::HashSet<String> = upload::Entity::find()
        .select_only()
        .column(upload::Column::StorageKey)
        .filter(upload::Column::StorageKey.is_in(keys.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?
        .into_iter()
        .collect();
    for key in keys.iter().filter(|key| !still_named.contains(*key)) {
        storage
            .delete(key)
            .await
            .map_err(|err| anyhow::anyhow!("removing orphan upload {key}: {err}"))?;
    }
    Ok(removed.rows_affected)
}

/// How long each kind of row is kept.
#[derive(Debug, Clone, Copy)]
pub struct Retention {
    /// Soft-deleted rows (`DELETED_RETENTION_DAYS`).
    pub deleted: Duration,
    /// Audit rows (`AUDIT_RETENTION_DAYS`).
    pub audit: Duration,
    /// Uploads attached to nothing (`UPLOAD_ORPHAN_HOURS`).
    pub orphan_uploads: Duration,
}

impl Retention {
    pub fn of(settings: &Settings) -> Self {
        Retention {
            deleted: settings.deleted_retention,
            audit: settings.audit_retention,
            orphan_uploads: settings.upload_orphan_after,
        }
    }
}

/// What one pass of [`purge_all`] removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub deleted_rows: u64,
    pub audit_rows: u64,
    pub orphan_uploads: u64,
}

/// One pass of every purge: soft-deleted rows, audit rows and orphan uploads
/// past their retention. A failing purge does not keep the others from running.
///
/// # Errors
/// The first failure, after every purge has had its turn.
pub async fn purge_all(
    db: &impl ConnectionTrait,
    storage: &Storage,
    retention: Retention,
) -> Result<Purged, ApiError> {
    let deleted_rows = purge(db, retention.deleted).await;
    let audit_rows = crate::core::audit::purge(db, retention.audit).await;
    let orphan_uploads = purge_orphan_uploads(db, storage, retention.orphan_uploads).await;
    Ok(Purged {
        deleted_rows: deleted_rows?,
        audit_rows: audit_rows?,
        orphan_uploads: orphan_uploads?,
    })
}

/// Purges now and then every hour, for as long as the server runs.
pub fn spawn_purger(db: DatabaseConnection, storage: Storage, retention: Retention) {
    tokio::spawn(async move {
        loop {
            match purge_all(&db, &storage, retention).await {
                Ok(purged) if purged == Purged::default() => {}
                Ok(purged) => tracing::info!(
                    deleted_rows = purged.deleted_rows,
                    audit_rows = purged.audit_rows,
                    orphan_uploads = purged.orphan_uploads,
                    "rows past retention purged"
                ),
                Err(err) => tracing::warn!(error = ?err, "purge failed; retrying later"),
            }
            tokio::time::sleep(PURGE_EVERY).await;
        }
    });
}
