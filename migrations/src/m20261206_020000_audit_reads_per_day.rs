//! Recorded reads of personal data, one row per reader, record and day: the
//! day of a read (`read_on`, UTC) and a unique index over reader, action,
//! record and day, so that a list a phone polls all day adds one row per
//! household a day rather than one per poll. Changes keep `read_on` empty and
//! stay outside the index (it is partial). The reads already recorded are
//! given their day and thinned to the first of each day before the index is
//! made. An index over `created_at` serves the purge past the retention.
//! Written out: SQLite and PostgreSQL both take these forms.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    ReadOn,
    CreatedAt,
}

/// The actions that are reads, as `audit::CHANGES_ONLY` leaves them out.
const READS: &str = "('household.viewed', 'user.id_number_viewed')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        if !m.has_column("audit_log", "read_on").await? {
            m.alter_table(
                Table::alter()
                    .table(AuditLog::Table)
                    .add_column(ColumnDef::new(AuditLog::ReadOn).date().null())
                    .to_owned(),
            )
            .await?;
        }
        let db = m.get_connection();
        let day = match m.get_database_backend() {
            DbBackend::Postgres => "(created_at AT TIME ZONE 'UTC')::date",
            _ => "date(created_at)",
        };
        db.execute_unprepared(&format!(
            "UPDATE audit_log SET read_on = {day} \
             WHERE read_on IS NULL AND action IN {READS}"
        ))
        .await?;
        // Finding the other reads of the same day goes through this index,
        // not through the whole log once per row.
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS audit_log_reads_thinning \
             ON audit_log (subject_id, actor_id, read_on)",
        )
        .await?;
        db.execute_unprepared(
            "DELETE FROM audit_log WHERE read_on IS NOT NULL AND EXISTS ( \
               SELECT 1 FROM audit_log AS first \
               WHERE first.subject_id = audit_log.subject_id \
                 AND first.actor_id = audit_log.actor_id \
                 AND first.action = audit_log.action \
                 AND first.read_on = audit_log.read_on \
                 AND first.id < audit_log.id)",
        )
        .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS audit_log_reads_thinning")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS audit_log_read_per_day \
             ON audit_log (actor_id, action, subject_id, read_on) \
             WHERE read_on IS NOT NULL",
        )
        .await?;
        crate::create_index(
            m,
            AuditLog::Table,
            "audit_log_created_at",
            &[AuditLog::CreatedAt],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS audit_log_created_at")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS audit_log_read_per_day")
            .await?;
        m.alter_table(
            Table::alter()
                .table(AuditLog::Table)
                .drop_column(AuditLog::ReadOn)
                .to_owned(),
        )
        .await
    }
}
