//! Soft delete of household assignments: an ended assignment keeps its row,
//! marked `deleted_at`, until the purge removes it after the retention period.
//! Only live rows must be unique per household and member, so a member can be
//! assigned again while an ended assignment waits for the purge.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Assignments::Table)
                .add_column(timestamp_with_time_zone_null(Assignments::DeletedAt))
                .to_owned(),
        )
        .await?;
        m.drop_index(
            Index::drop()
                .name("assignments_household_member")
                .table(Assignments::Table)
                .to_owned(),
        )
        .await?;
        // A partial index, written out: SQLite and PostgreSQL both take this form.
        let db = m.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX IF NOT EXISTS assignments_household_member_live \
             ON assignments (household_id, member_id) WHERE deleted_at IS NULL",
        )
        .await?;
        db.execute_unprepared(
            "CREATE INDEX IF NOT EXISTS assignments_deleted_at \
             ON assignments (deleted_at) WHERE deleted_at IS NOT NULL",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared("DELETE FROM assignments WHERE deleted_at IS NOT NULL")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS assignments_deleted_at")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS assignments_household_member_live")
            .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX assignments_household_member ON assignments (household_id, member_id)",
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Assignments::Table)
                .drop_column(Assignments::DeletedAt)
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Assignments {
    Table,
    DeletedAt,
}
