//! Soft delete and its purge. What the API deletes (a household's assignment
//! to a member, and those a move or deactivation ends) keeps its row, marked
//! `deleted_at` and invisible to every read, for `DELETED_RETENTION_DAYS`, so a
//! mistaken removal can be looked into; then the purge removes it.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    Select,
};

use crate::entities::assignment;
use crate::platform::error::ApiError;

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

/// Purges now and then every hour, for as long as the server runs.
pub fn spawn_purger(db: DatabaseConnection, retention: Duration) {
    tokio::spawn(async move {
        loop {
            match purge(&db, retention).await {
                Ok(0) => {}
                Ok(purged) => tracing::info!(purged, "deleted rows past retention purged"),
                Err(err) => tracing::warn!(error = ?err, "purge failed; retrying later"),
            }
            tokio::time::sleep(PURGE_EVERY).await;
        }
    });
}
