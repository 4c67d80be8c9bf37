//! The ID numbers still stored in plaintext, found without a scan: start-up
//! seals them, and a partial index holds only those rows (none, once sealed),
//! so the check costs the same at a thousand households as at a million.
//! Written out: SQLite and PostgreSQL both take this form, and the query
//! repeats the predicate with the same literals so PostgreSQL can use it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["users", "households"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.get_connection()
                .execute_unprepared(&format!(
                    "CREATE INDEX IF NOT EXISTS {table}_unsealed_id_number ON {table} (id) \
                     WHERE id_number IS NOT NULL AND id_number NOT LIKE 'v1:%'"
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            m.get_connection()
                .execute_unprepared(&format!("DROP INDEX IF EXISTS {table}_unsealed_id_number"))
                .await?;
        }
        Ok(())
    }
}
