//! `xianfeng backup PATH` and `xianfeng restore PATH`.
//!
//! On SQLite a backup is taken online with `VACUUM INTO`: one consistent
//! snapshot, while the server keeps serving. A restore writes the backup over
//! the database file and must run with the server stopped. On PostgreSQL the
//! database's own tools do both (`pg_dump` / `pg_restore`); the commands say how.
//!
//! Keep `DATA_DIR/id_number_key` (or `ID_NUMBER_KEY`) with the backups: the
//! ID numbers in them are sealed under it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::platform::config::Settings;

/// How to back up a PostgreSQL database, printed instead of doing it.
pub const PG_DUMP_HINT: &str = "on PostgreSQL, back up with the database's own tool: \
    pg_dump --format=custom --file PATH \"$DATABASE_URL\" \
    (restore into an empty database with: pg_restore --no-owner --dbname \"$DATABASE_URL\" PATH)";

/// Writes a consistent copy of the SQLite database to `path` (which must not
/// exist yet) while `db` stays in use.
pub async fn backup(
    settings: &Settings,
    db: &DatabaseConnection,
    path: &Path,
) -> anyhow::Result<()> {
    if !settings.is_sqlite() {
        bail!("{PG_DUMP_HINT}");
    }
    if path.exists() {
        bail!(
            "{} already exists; a backup never overwrites",
            path.display()
        );
    }
    let target = path
        .to_str()
        .context("the backup path is not valid UTF-8")?;
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        "VACUUM INTO ?",
        [target.into()],
    ))
    .await
    .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Replaces the SQLite database with the backup at `path`. Run with the
/// server stopped: open connections would keep writing to the old file.
pub async fn restore(settings: &Settings, path: &Path) -> anyhow::Result<()> {
    if !settings.is_sqlite() {
        bail!("{PG_DUMP_HINT}");
    }
    let database = sqlite_file(&settings.database_url)?;
    check_backup(path).await?;
    // Copy beside the database, then rename: a crash midway leaves the old
    // database whole rather than half of each.
    let staging = database.with_extension("db.restoring");
    std::fs::copy(path, &staging).with_context(|| format!("copying {}", path.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", database.display()));
        if side.exists() {
            std::fs::remove_file(&side).with_context(|| format!("removing {}", side.display()))?;
        }
    }
    std::fs::rename(&staging, &database)
        .with_context(|| format!("replacing {}", database.display()))?;
    Ok(())
}

/// A backup must be a whole SQLite database of ours before it replaces one.
async fn check_backup(path: &Path) -> anyhow::Result<()> {
    if !path.is_file() {
        bail!("{} is not a file", path.display());
    }
    let url = format!("sqlite://{}?mode=ro", path.display());
    let db = sea_orm::Database::connect(&url)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    let backend = db.get_database_backend();
    let integrity = db
        .query_one_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
        .await?
        .and_then(|row| row.try_get_by_index::<String>(0).ok());
    let migrated = db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT count(*) FROM seaql_migrations",
        ))
        .await
        .is_ok();
    db.close().await.ok();
    if integrity.as_deref() != Some("ok") || !migrated {
        bail!("{} is not an intact xianfeng database", path.display());
    }
    Ok(())
}

/// The file of a `sqlite:` URL.
fn sqlite_file(url: &str) -> anyhow::Result<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .context("DATABASE_URL is not a sqlite: URL")?;
    let file = rest.split('?').next().unwrap_or(rest);
    if file.is_empty() || file == ":memory:" {
        bail!("DATABASE_URL names no database file");
    }
    Ok(PathBuf::from(file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_file_of_a_sqlite_url() {
        assert_eq!(
            sqlite_file("sqlite://./data/xianfeng.db?mode=rwc").unwrap(),
            PathBuf::from("./data/xianfeng.db")
        );
        assert_eq!(
            sqlite_file("sqlite:/srv/x.db").unwrap(),
            PathBuf::from("/srv/x.db")
        );
        assert!(sqlite_file("sqlite::memory:").is_err());
    }
}
