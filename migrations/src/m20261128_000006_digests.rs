//! Daily digests: one row per township, kind and local day, claimed by the
//! replica that sends it, so any number of replicas send each digest once.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(DigestRuns::Table)
                .if_not_exists()
                .col(uuid(DigestRuns::TownshipId))
                .col(string(DigestRuns::Kind))
                .col(string(DigestRuns::Day))
                .col(integer(DigestRuns::Events))
                .col(timestamp_with_time_zone(DigestRuns::RanAt))
                .primary_key(
                    Index::create()
                        .col(DigestRuns::TownshipId)
                        .col(DigestRuns::Kind)
                        .col(DigestRuns::Day),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(DigestRuns::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum DigestRuns {
    Table,
    TownshipId,
    Kind,
    /// The township's local date, `YYYY-MM-DD`.
    Day,
    /// How many outbox events the run wrote.
    Events,
    RanAt,
}
