//! The rollups behind the dashboard's all-time figures.
//!
//! The database keeps them (migration `stats_rollups`): triggers append a
//! delta row for each change, in its transaction; [`fold`] moves deltas into
//! the totals. A figure is totals plus unfolded deltas, summed in one
//! statement, so it is exact whether or not a fold has run, and reading it
//! costs the number of branches and figure names, not the number of visits.

use std::collections::BTreeMap;
use std::time::Duration;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Query, UnionType};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryOrder,
    QuerySelect, TransactionTrait,
};
use uuid::Uuid;

use crate::entities::{stats_delta, stats_total};
use crate::platform::error::ApiError;

/// Deltas moved per fold transaction.
const FOLD_BATCH: u64 = 10_000;
/// Pause between folds when the last one caught up.
const FOLD_EVERY: Duration = Duration::from_secs(1);
/// Folded deltas after which their dead rows are vacuumed away.
const VACUUM_AFTER: usize = 5_000;

/// Every figure of a township (or one branch): `(branch, name, count)`.
pub async fn counts(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    branch_id: Option<Uuid>,
) -> Result<Vec<(Uuid, String, i64)>, ApiError> {
    let part = |table: Alias| {
        let mut select = Query::select();
        select
            .columns([Alias::new("branch_id"), Alias::new("name"), Alias::new("n")])
            .from(table)
            .and_where(Expr::col(Alias::new("township_id")).eq(township_id));
        if let Some(branch_id) = branch_id {
            select.and_where(Expr::col(Alias::new("branch_id")).eq(branch_id));
        }
        select
    };
    let both = part(Alias::new("stats_totals"))
        .union(UnionType::All, part(Alias::new("stats_deltas")))
        .to_owned();
    let summed = Query::select()
        .columns([Alias::new("branch_id"), Alias::new("name")])
        .expr_as(Expr::cust("CAST(SUM(n) AS BIGINT)"), Alias::new("n"))
        .from_subquery(both, Alias::new("figures"))
        .group_by_columns([Alias::new("branch_id"), Alias::new("name")])
        .to_owned();
    let mut counts = Vec::new();
    for row in db.query_all(&summed).await? {
        counts.push((
            row.try_get::<Uuid>("", "branch_id")?,
            row.try_get::<String>("", "name")?,
            row.try_get::<i64>("", "n")?,
        ));
    }
    Ok(counts)
}

/// Folds the oldest deltas into the totals, in one transaction; answers how
/// many were folded. Safe on several replicas at once: a delta is folded by
/// the transaction whose `DELETE … RETURNING` removed it, and by no other.
pub async fn fold(db: &DatabaseConnection) -> Result<usize, ApiError> {
    use stats_delta::Column as D;
    let txn = crate::platform::db::begin_write(db).await?;
    // The batch as a range of the key, not `seq IN (subquery)`: a planner
    // that last saw the table empty joins that in a loop over every row.
    let batch: Vec<i64> = stats_delta::Entity::find()
        .select_only()
        .column(D::Seq)
        .order_by_asc(D::Seq)
        .limit(FOLD_BATCH)
        .into_tuple()
        .all(&txn)
        .await?;
    let Some(last) = batch.last() else {
        return Ok(0);
    };
    let moved = Query::delete()
        .from_table(stats_delta::Entity)
        .and_where(Expr::col(D::Seq).lte(*last))
        .returning(Query::returning().columns([D::TownshipId, D::BranchId, D::Name, D::N]))
        .to_owned();
    let rows = txn.query_all(&moved).await?;
    let folded = rows.len();
    // Sorted, so that two folders lock totals in the same order.
    let mut sums: BTreeMap<(Uuid, Uuid, String), i64> = BTreeMap::new();
    for row in rows {
        let key = (
            row.try_get::<Uuid>("", "township_id")?,
            row.try_get::<Uuid>("", "branch_id")?,
            row.try_get::<String>("", "name")?,
        );
        *sums.entry(key).or_default() += row.try_get::<i64>("", "n")?;
    }
    let sums: Vec<_> = sums.into_iter().filter(|(_, n)| *n != 0).collect();
    for chunk in sums.chunks(500) {
        use stats_total::Column as T;
        stats_total::Entity::insert_many(chunk.iter().map(|((township, branch, name), n)| {
            stats_total::ActiveModel {
                township_id: Set(*township),
                branch_id: Set(*branch),
                name: Set(name.clone()),
                n: Set(*n),
            }
        }))
        .on_conflict(
            OnConflict::columns([T::TownshipId, T::BranchId, T::Name])
                .value(
                    T::N,
                    Expr::col((stats_total::Entity, T::N))
                        .add(Expr::col((Alias::new("excluded"), T::N))),
                )
                .to_owned(),
        )
        .exec(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(folded)
}

/// Counts every figure afresh from the raw rows, in one transaction.
pub async fn rebuild(db: &DatabaseConnection) -> Result<(), ApiError> {
    let txn = db.begin().await?;
    migrations::recount_stats(&txn).await?;
    txn.commit().await?;
    Ok(())
}

/// Folds deltas in the background until the process ends.
pub fn spawn_folder(db: DatabaseConnection) {
    tokio::spawn(async move {
        let mut since_vacuum = 0;
        loop {
            match fold(&db).await {
                Ok(n) if n as u64 == FOLD_BATCH => {
                    since_vacuum += n;
                    continue;
                }
                Ok(n) => since_vacuum += n,
                Err(err) => tracing::warn!(error = %err, "stats fold failed; retrying"),
            }
            if since_vacuum >= VACUUM_AFTER && vacuum(&db).await {
                since_vacuum = 0;
            }
            tokio::time::sleep(FOLD_EVERY).await;
        }
    });
}

/// On PostgreSQL, folded deltas stay behind as dead rows that every read of
/// the deltas still steps over until a vacuum; autovacuum comes too seldom
/// for a table that churns all day, so the folder vacuums it itself.
async fn vacuum(db: &DatabaseConnection) -> bool {
    if db.get_database_backend() != DbBackend::Postgres {
        return true;
    }
    match db.execute_unprepared("VACUUM stats_deltas").await {
        Ok(_) => true,
        Err(err) => {
            tracing::warn!(error = %err, "stats deltas vacuum failed");
            false
        }
    }
}
