//! The schema of xianfeng, one file per migration.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_foundation;
mod m20261128_000002_visits;
mod m20261128_000003_notifications;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_foundation::Migration),
            Box::new(m20261128_000002_visits::Migration),
            Box::new(m20261128_000003_notifications::Migration),
        ]
    }
}
