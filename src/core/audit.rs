//! The audit log: who changed what, from what to what, and in which request
//! (written inside the transaction of the change it records), and who was
//! shown personal data whole (`*.viewed`, once per reader, record and day).
//! Township admins read it through `GET /api/v1/audit`; rows older than
//! `AUDIT_RETENTION_DAYS` are purged ([`purge`]).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::Actor;
use crate::entities::audit_log;
use crate::platform::db::Batch;
use crate::platform::error::ApiError;
use crate::platform::http::pagination::Page;

/// What a read of personal data is recorded as.
pub const HOUSEHOLD_VIEWED: &str = "household.viewed";
pub const USER_ID_NUMBER_VIEWED: &str = "user.id_number_viewed";

/// The SQL condition that keeps the rows that are changes, leaving out the
/// recorded reads. Literals, as in the partial index
/// `audit_log_township_changes`, so that PostgreSQL can match the two.
pub const CHANGES_ONLY: &str = "action NOT IN ('household.viewed', 'user.id_number_viewed')";

/// Records `action` (e.g. `household.updated`) by `actor` on a subject.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), ApiError> {
    let mut batch = Batch::default();
    add(
        &mut batch,
        actor,
        action,
        subject_kind,
        subject_id,
        before,
        after,
    );
    Ok(batch.write(db).await?)
}

/// [`record`], as a row of `batch`.
pub fn add(
    batch: &mut Batch,
    actor: &Actor,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) {
    batch.insert(audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        actor_id: Set(Some(actor.user_id)),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        before: Set(before),
        after: Set(after),
        request_id: Set(actor.request_id.clone()),
        created_at: Set(Utc::now()),
        read_on: Set(None),
    });
}

/// Records that `actor` was shown the personal data of subjects whole (a
/// household's details, a user's ID number): one row per reader, subject and
/// day (UTC), so a list polled all day adds a row per subject a day, not one
/// per poll. The rows of a page go in one statement; a subject already on
/// record today is skipped by the unique index `audit_log_read_per_day`.
/// Nothing before or after: the row says who saw what and when (the first
/// time that day), not the data.
pub async fn record_reads(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    subject_kind: &str,
    subject_ids: impl IntoIterator<Item = Uuid>,
) -> Result<(), ApiError> {
    let now = Utc::now();
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<audit_log::ActiveModel> = subject_ids
        .into_iter()
        .filter(|subject_id| seen.insert(*subject_id))
        .map(|subject_id| audit_log::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(actor.township_id),
            actor_id: Set(Some(actor.user_id)),
            action: Set(action.to_owned()),
            subject_kind: Set(subject_kind.to_owned()),
            subject_id: Set(subject_id),
            before: Set(None),
            after: Set(None),
            request_id: Set(actor.request_id.clone()),
            created_at: Set(now),
            read_on: Set(Some(now.date_naive())),
        })
        .collect();
    if !rows.is_empty() {
        // No conflict target: the partial unique index is the only one a
        // read can meet (ids are new), and both SQLite and PostgreSQL take
        // `ON CONFLICT DO NOTHING` without naming it.
        audit_log::Entity::insert_many(rows)
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// Removes audit rows older than `retention`; answers how many.
pub async fn purge(
    db: &impl ConnectionTrait,
    retention: std::time::Duration,
) -> Result<u64, ApiError> {
    let retention = chrono::Duration::from_std(retention).map_err(anyhow::Error::from)?;
    let purged = audit_log::Entity::delete_many()
        .filter(audit_log::Column::CreatedAt.lt(Utc::now() - retention))
        .exec(db)
        .await?;
    Ok(purged.rows_affected)
}

/// The filters of `GET /audit`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// Entries by this user.
    pub actor_id: Option<Uuid>,
    /// Entries about this kind of subject, e.g. `household`, `visit`, `user`.
    pub subject_kind: Option<String>,
    /// Entries about this one subject.
    pub subject_id: Option<Uuid>,
    /// Entries of this action, e.g. `household.updated`, `household.viewed`.
    pub action: Option<String>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
}

/// One entry of the audit log.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    /// `null` for changes made by the system (e.g. a scheduled job).
    pub actor_id: Option<Uuid>,
    #[schema(example = "household.updated")]
    pub action: String,
    #[schema(example = "household")]
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// The subject before the change (personal data masked); `null` for
    /// creations and reads.
    #[schema(value_type = Option<Object>)]
    pub before: Option<Value>,
    /// The subject after the change (personal data masked); `null` for reads.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Value>,
    /// The `X-Request-Id` of the request that made the change.
    pub request_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<audit_log::Model> for AuditEntry {
    fn from(row: audit_log::Model) -> Self {
        AuditEntry {
            id: row.id,
            actor_id: row.actor_id,
            action: row.action,
            subject_kind: row.subject_kind,
            subject_id: row.subject_id,
            before: row.before,
            after: row.after,
            request_id: row.request_id,
            created_at: row.created_at,
        }
    }
}

/// The caller's township's entries matching `filter`, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &AuditFilter,
    page: Page,
) -> Result<(Vec<audit_log::Model>, Option<String>), ApiError> {
    let mut query = actor.scoped::<audit_log::Entity>();
    if let Some(actor_id) = filter.actor_id {
        query = query.filter(audit_log::Column::ActorId.eq(actor_id));
    }
    if let Some(kind) = filter.subject_kind.as_deref().filter(|k| !k.is_empty()) {
        query = query.filter(audit_log::Column::SubjectKind.eq(kind));
    }
    if let Some(subject_id) = filter.subject_id {
        query = query.filter(audit_log::Column::SubjectId.eq(subject_id));
    }
    if let Some(action) = filter.action.as_deref().filter(|a| !a.is_empty()) {
        query = query.filter(audit_log::Column::Action.eq(action));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::Column::CreatedAt.lt(to));
    }
    let rows = page
        .apply_newest_first(query, audit_log::Column::Id)
        .all(db)
        .await?;
    Ok(page.finish(rows, |row| row.id))
}

/// A subject's state as the audit log keeps it.
pub fn snapshot<T: serde::Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}

/// The latest change of the township: the newest audit row that records a
/// change (not a read), written in the transaction of every change. Figures
/// cannot differ while it stays.
pub async fn latest_change(
    db: &impl ConnectionTrait,
    township_id: Uuid,
) -> Result<Option<Uuid>, ApiError> {
    Ok(audit_log::Entity::find()
        .select_only()
        .column(audit_log::Column::Id)
        .filter(audit_log::Column::TownshipId.eq(township_id))
        .filter(Expr::cust(CHANGES_ONLY))
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_changes_only_condition_leaves_out_every_recorded_read() {
        for read in [HOUSEHOLD_VIEWED, USER_ID_NUMBER_VIEWED] {
            assert!(CHANGES_ONLY.contains(&format!("'{read}'")), "{read}");
        }
    }
}
