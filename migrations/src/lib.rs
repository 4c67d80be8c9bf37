//! The schema of xianfeng, one file per migration.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_foundation;
mod m20261128_000002_visits;
mod m20261128_000003_notifications;
mod m20261128_000004_mediation;
mod m20261128_000005_pledges;
mod m20261128_000006_digests;
mod m20261128_000007_wechat_consents;
mod m20261128_000008_stats_rollups;
mod m20261128_000009_supervision;
mod m20261128_000010_campaigns;
mod m20261128_000011_assessments;
mod m20261128_000012_soft_delete;
mod m20261128_000013_audit_changes;
mod m20261128_000014_unsealed_id_numbers;
mod m20261206_010000_user_token_version;
mod m20261206_020000_audit_reads_per_day;
mod m20261206_030000_upload_indexes;

pub use m20261128_000008_stats_rollups::recount as recount_stats;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000002_visits::Migration),
            Box::new(m20261128_000003_notifications::Migration),
            Box::new(m20261128_000004_mediation::Migration),
            Box::new(m20261128_000005_pledges::Migration),
            Box::new(m20261128_000006_digests::Migration),
            Box::new(m20261128_000007_wechat_consents::Migration),
            Box::new(m20261128_000008_stats_rollups::Migration),
            Box::new(m20261128_000009_supervision::Migration),
            Box::new(m20261128_000010_campaigns::Migration),
            Box::new(m20261128_000011_assessments::Migration),
            Box::new(m20261128_000012_soft_delete::Migration),
            Box::new(m20261128_000013_audit_changes::Migration),
            Box::new(m20261128_000014_unsealed_id_numbers::Migration),
            Box::new(m20261206_010000_user_token_version::Migration),
            Box::new(m20261206_020000_audit_reads_per_day::Migration),
            Box::new(m20261206_030000_upload_indexes::Migration),
        ]
    }
}

/// Creates an index over `columns` of `table` unless it exists; shared by the
/// migrations so each reads as a list of tables and indexes.
pub(crate) async fn create_index<T: IntoIden + Copy, C: IntoIden + Copy>(
    m: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[C],
    unique: bool,
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table).if_not_exists();
    for column in columns {
        statement.col(*column);
    }
    if unique {
        statement.unique();
    }
    m.create_index(statement.to_owned()).await
}
