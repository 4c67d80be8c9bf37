//! Connecting to SQLite (embedded default) or PostgreSQL, and migrating.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use migrations::{Migrator, MigratorTrait};
use sea_orm::sea_query::{
    Alias, CommonTableExpression, Expr, InsertStatement, LikeExpr, Query, SubQueryStatement,
    UpdateStatement, WithClause,
};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, QueryTrait, SqliteTransactionMode,
    Statement, TransactionOptions, TransactionTrait,
};

use crate::platform::config::Settings;

/// A pooled connection idle this long is pinged before it is handed out, so
/// one that dropped meanwhile (a restart of the database) is replaced; one
/// in steady use goes straight to its statement. Pinging every one cost a
/// round trip more for each statement (bench/README.md, `bench/visits`).
const IDLE_BEFORE_PING: Duration = Duration::from_secs(5);

/// Opens the pool. SQLite gets WAL, foreign keys and a busy timeout, so
/// concurrent writers wait instead of failing.
pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    if settings.is_sqlite() {
        std::fs::create_dir_all(&settings.data_dir)?;
        if settings.database_url == crate::platform::config::sqlite_url(&settings.data_dir) {
            keep_private(&settings.data_dir.join("xianfeng.db"))?;
        }
    }
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(settings.database_max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .test_before_acquire_if_idle_for(IDLE_BEFORE_PING)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
        });
    Ok(Database::connect(options).await?)
}

/// The embedded database holds members' names and phones: readable by the
/// server's user only. SQLite gives its `-wal` and `-shm` files the database
/// file's mode; ones an earlier version left open to others are closed too.
fn keep_private(database: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(database)?;
        for suffix in ["", "-wal", "-shm"] {
            let path = std::path::PathBuf::from(format!("{}{suffix}", database.display()));
            if let Ok(metadata) = std::fs::metadata(&path)
                && metadata.permissions().mode() & 0o077 != 0
            {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = database;
    Ok(())
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

/// A `LIKE` pattern for text containing `text` as written: `%` and `_` in
/// it match themselves, not any run or any one character, so a search for
/// `50%` does not list everything. The escape character is `!`, named in an
/// `ESCAPE` clause: SQLite has no escape character without one, and a `\`
/// would need quoting differently on PostgreSQL.
pub fn containing(text: &str) -> LikeExpr {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '!' | '%' | '_') {
            pattern.push('!');
        }
        pattern.push(c);
    }
    pattern.push('%');
    LikeExpr::new(pattern).escape('!')
}

/// Rows a change writes beside itself (the submission, its history entry,
/// outbox event, audit row, the idempotency answer), sent together. On
/// PostgreSQL they go as one statement, each row a data-modifying common
/// table expression, so a check-in pays one round trip for all of them
/// rather than one each; on SQLite, where a statement costs no round trip,
/// one after another. Either way inside the caller's transaction
/// ([`Batch::write`]), or as a change of its own ([`Batch::commit`]).
///
/// The rows of one batch cannot see each other while they are written (one
/// statement, one snapshot), so a batch holds writes that only add rows or
/// change rows written by earlier statements; foreign keys are checked when
/// the statement ends, as for separate ones.
#[derive(Default)]
pub struct Batch(Vec<SubQueryStatement>);

impl Batch {
    /// Adds the insert of `row`, every column set.
    pub fn insert<A: ActiveModelTrait>(&mut self, row: A) {
        let statement = <A::Entity as EntityTrait>::insert(row).into_query();
        self.0.push(SubQueryStatement::InsertStatement(statement));
    }

    /// Adds an insert built by the caller (several rows, or `ON CONFLICT`).
    pub fn insert_statement(&mut self, statement: InsertStatement) {
        self.0.push(SubQueryStatement::InsertStatement(statement));
    }

    /// Adds an update.
    pub fn update(&mut self, statement: UpdateStatement) {
        self.0.push(SubQueryStatement::UpdateStatement(statement));
    }

    /// Writes the batch through `db`.
    pub async fn write(self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        let backend = db.get_database_backend();
        if backend != DbBackend::Postgres || self.0.len() < 2 {
            for statement in self.0 {
                db.execute_raw(statement_for(backend, &statement)).await?;
            }
            return Ok(());
        }
        let mut with = WithClause::new();
        for (n, statement) in self.0.into_iter().enumerate() {
            with.cte(
                CommonTableExpression::new()
                    .query(statement)
                    .table_name(Alias::new(format!("w{n}")))
                    .to_owned(),
            );
        }
        let query = with.query(Query::select().expr(Expr::val(1)).to_owned());
        db.execute(&query).await?;
        Ok(())
    }

    /// Writes the batch as a change of its own, committed when this
    /// returns: on PostgreSQL as its one statement, which commits alone (no
    /// `BEGIN` or `COMMIT` round trips); on SQLite in a write transaction.
    /// A row that fails leaves none written.
    pub async fn commit(self, db: &DatabaseConnection) -> Result<(), DbErr> {
        if db.get_database_backend() == DbBackend::Postgres {
            return self.write(db).await;
        }
        let txn = begin_write(db).await?;
        self.write(&txn).await?;
        txn.commit().await
    }
}

fn statement_for(backend: DbBackend, statement: &SubQueryStatement) -> Statement {
    match statement {
        SubQueryStatement::InsertStatement(s) => backend.build(s),
        SubQueryStatement::UpdateStatement(s) => backend.build(s),
        SubQueryStatement::DeleteStatement(s) => backend.build(s),
        SubQueryStatement::SelectStatement(s) => backend.build(s),
        SubQueryStatement::WithStatement(s) => backend.build(s),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{ExprTrait, PostgresQueryBuilder, SqliteQueryBuilder};

    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn the_embedded_database_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("xianfeng-db-mode-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        // A database an earlier version left readable by others.
        std::fs::write(dir.join("xianfeng.db"), b"").unwrap();
        std::fs::set_permissions(
            dir.join("xianfeng.db"),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
        let data_dir = dir.display().to_string();
        let settings = Settings::from_lookup(|name| match name {
            "DATA_DIR" => Some(data_dir.clone()),
            _ => None,
        })
        .unwrap();

        let db = connect(&settings).await.unwrap();
        migrate(&db).await.unwrap();

        for file in ["xianfeng.db", "xianfeng.db-wal", "xianfeng.db-shm"] {
            let mode = std::fs::metadata(dir.join(file))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{file}");
        }
        db.close().await.ok();
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn wildcards_in_searched_text_are_escaped() {
        let query = Query::select()
            .expr(Expr::val(1))
            .and_where(Expr::col(Alias::new("name")).like(containing("5!0%_x")))
            .to_owned();
        for sql in [
            query.to_string(SqliteQueryBuilder),
            query.to_string(PostgresQueryBuilder),
        ] {
            assert!(
                sql.ends_with(r#""name" LIKE '%5!!0!%!_x%' ESCAPE '!'"#),
                "{sql}"
            );
        }
    }
}
