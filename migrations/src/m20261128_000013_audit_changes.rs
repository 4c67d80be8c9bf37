//! The township's latest change, without its recorded reads: a partial index
//! over the audit rows that are changes, so that the dashboards' change
//! version skips the `*.viewed` rows a member opening a household writes.
//! Written out: SQLite and PostgreSQL both take this form, and the query
//! repeats the predicate with the same literals so PostgreSQL can use it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS audit_log_township_changes \
                 ON audit_log (township_id, created_at, id) \
                 WHERE action NOT IN ('household.viewed', 'user.id_number_viewed')",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection()
            .execute_unprepared("DROP INDEX IF EXISTS audit_log_township_changes")
            .await?;
        Ok(())
    }
}
