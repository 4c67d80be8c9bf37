//! Connecting to SQLite (embedded default) or PostgreSQL, and migrating.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};

use crate::config::Settings;

/// Opens the pool. SQLite gets WAL, foreign keys and a busy timeout, so
/// concurrent writers wait instead of failing.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.is_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)?;
    }
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(settings.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    Ok(Database::connect(options).await?)
}

/// Applies pending migrations; running it again changes nothing.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    Migrator::up(db, None).await?;
    Ok(())
}

/// Begins a transaction that will write. On SQLite it takes the write lock
/// at `BEGIN` (`IMMEDIATE`), so concurrent writers queue on the busy timeout
/// instead of failing when a read would upgrade to a write; PostgreSQL
/// ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Now, to the microsecond: the precision PostgreSQL keeps, so a time read
/// back (e.g. into a cursor) compares equal to the one stored, on SQLite too.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
