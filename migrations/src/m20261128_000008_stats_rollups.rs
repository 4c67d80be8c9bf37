//! Rollups for the dashboard, kept by the database itself.
//!
//! Triggers on the counted tables write a delta row (`stats_deltas`: a
//! township, a branch, a figure's name, ±1) in the transaction of every
//! insert, update and delete, so no write path can forget one. Appending
//! rows takes no lock that concurrent check-ins would queue on, unlike a
//! counter updated in place. The server folds deltas into `stats_totals` in
//! the background; a figure is the sum of both, read in one statement, so it
//! is exact at any moment, folded or not.
//!
//! Whether a household has been visited needs a count of its non-rejected
//! visits (`stats_household_visits`, per household and the visits' branch):
//! the `households_visited` delta is written when that count leaves or
//! reaches zero.
//!
//! The oldest submission waiting for review is found per branch by one probe
//! of a partial index holding only pending rows.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A figure a table's rows count towards: its name, and when a row counts,
/// as SQL over the row (`{row}` stands for `NEW` or `OLD`).
struct Figure {
    name: &'static str,
    when: &'static str,
}

/// A table whose rows are counted.
struct Counted {
    table: &'static str,
    /// The columns whose change can move a figure.
    watched: &'static [&'static str],
    figures: &'static [Figure],
}

const ALWAYS: &str = "1 = 1";

/// The tables whose rows wait for review.
const REVIEWED: &[&str] = &["visits", "mediation_reports", "pledges"];

const COUNTED: &[Counted] = &[
    Counted {
        table: "visits",
        watched: &["township_id", "branch_id", "household_id", "kind", "status"],
        figures: &[Figure {
            name: "'visits.' || {row}.kind || '.' || {row}.status",
            when: ALWAYS,
        }],
    },
    Counted {
        table: "mediation_reports",
        watched: &[
            "township_id",
            "branch_id",
            "latest_outcome",
            "escalation_status",
            "status",
        ],
        figures: &[
            Figure {
                name: "'reports'",
                when: ALWAYS,
            },
            Figure {
                name: "'reports.resolved'",
                when: "{row}.latest_outcome = 'resolved'",
            },
            Figure {
                name: "'reports.escalated'",
                when: "{row}.escalation_status IS NOT NULL",
            },
            Figure {
                name: "'reports.pending'",
                when: "{row}.status = 'pending'",
            },
        ],
    },
    Counted {
        table: "pledges",
        watched: &["township_id", "branch_id", "status"],
        figures: &[Figure {
            name: "'pledges.' || {row}.status",
            when: ALWAYS,
        }],
    },
    Counted {
        table: "households",
        watched: &["township_id", "branch_id"],
        figures: &[Figure {
            name: "'households'",
            when: ALWAYS,
        }],
    },
];

/// A visit leaving the count of its household: the household drops out of
/// `households_visited` when its last non-rejected visit goes.
const VISIT_REMOVED: &[&str] = &[
    "UPDATE stats_household_visits SET n = n - 1 \
     WHERE household_id = OLD.household_id AND branch_id = OLD.branch_id \
     AND OLD.status <> 'rejected'",
    "INSERT INTO stats_deltas (township_id, branch_id, name, n) \
     SELECT OLD.township_id, OLD.branch_id, 'households_visited', -1 \
     WHERE OLD.status <> 'rejected' AND (SELECT n FROM stats_household_visits \
     WHERE household_id = OLD.household_id AND branch_id = OLD.branch_id) = 0",
];

/// A visit joining the count of its household: the household joins
/// `households_visited` with its first non-rejected visit.
const VISIT_ADDED: &[&str] = &[
    "INSERT INTO stats_household_visits (household_id, branch_id, n) \
     SELECT NEW.household_id, NEW.branch_id, 1 WHERE NEW.status <> 'rejected' \
     ON CONFLICT (household_id, branch_id) DO UPDATE SET n = stats_household_visits.n + 1",
    "INSERT INTO stats_deltas (township_id, branch_id, name, n) \
     SELECT NEW.township_id, NEW.branch_id, 'households_visited', 1 \
     WHERE NEW.status <> 'rejected' AND (SELECT n FROM stats_household_visits \
     WHERE household_id = NEW.household_id AND branch_id = NEW.branch_id) = 1",
];

impl Counted {
    /// The statements that take a row out of (`OLD`, -1) or put it into
    /// (`NEW`, +1) the figures; the same SQL in SQLite and PostgreSQL.
    fn statements(&self, row: &str) -> Vec<String> {
        let sign = if row == "OLD" { -1 } else { 1 };
        let mut statements: Vec<String> = self
            .figures
            .iter()
            .map(|f| {
                format!(
                    "INSERT INTO stats_deltas (township_id, branch_id, name, n) \
                     SELECT {row}.township_id, {row}.branch_id, {name}, {sign} WHERE {when}",
                    name = f.name.replace("{row}", row),
                    when = f.when.replace("{row}", row),
                )
            })
            .collect();
        if self.table == "visits" {
            let extra = if row == "OLD" {
                VISIT_REMOVED
            } else {
                VISIT_ADDED
            };
            statements.extend(extra.iter().map(|s| (*s).to_owned()));
        }
        statements
    }

    /// The triggers for insert, delete and a change of a watched column.
    fn triggers(&self, backend: DbBackend) -> Vec<String> {
        let table = self.table;
        let removed = self.statements("OLD");
        let added = self.statements("NEW");
        let changed = [removed.clone(), added.clone()].concat();
        let events = [
            ("insert", "INSERT", added),
            ("delete", "DELETE", removed),
            ("update", "UPDATE", changed),
        ];
        let mut sql = Vec::new();
        for (suffix, event, body) in events {
            let name = format!("stats_{table}_{suffix}");
            let differs = if backend == DbBackend::Postgres {
                "IS DISTINCT FROM"
            } else {
                "IS NOT"
            };
            let when = if event == "UPDATE" {
                let any = self
                    .watched
                    .iter()
                    .map(|c| format!("OLD.{c} {differs} NEW.{c}"))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                format!(" WHEN ({any})")
            } else {
                String::new()
            };
            let body = body.join("; ");
            if backend == DbBackend::Postgres {
                sql.push(format!(
                    "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN {body}; RETURN NULL; END $$"
                ));
                sql.push(format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} \
                     EXECUTE FUNCTION {name}()"
                ));
            } else {
                sql.push(format!(
                    "CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{when} \
                     BEGIN {body}; END"
                ));
            }
        }
        sql
    }

    fn dropped(&self, backend: DbBackend) -> Vec<String> {
        ["insert", "delete", "update"]
            .iter()
            .flat_map(|suffix| {
                let name = format!("stats_{}_{suffix}", self.table);
                if backend == DbBackend::Postgres {
                    vec![
                        format!("DROP TRIGGER IF EXISTS {name} ON {}", self.table),
                        format!("DROP FUNCTION IF EXISTS {name}()"),
                    ]
                } else {
                    vec![format!("DROP TRIGGER IF EXISTS {name}")]
                }
            })
            .collect()
    }
}

/// Counts every figure afresh from the counted tables, replacing the
/// rollups: run by the migration over existing rows, and by
/// `xianfeng stats rebuild` after rows were changed behind the triggers' back
/// (a restore of one table, say). Run it in a transaction.
pub async fn recount(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for table in ["stats_deltas", "stats_totals", "stats_household_visits"] {
        db.execute_unprepared(&format!("DELETE FROM {table}"))
            .await?;
    }
    db.execute_unprepared(
        "INSERT INTO stats_household_visits (household_id, branch_id, n) \
         SELECT household_id, branch_id, COUNT(*) FROM visits \
         WHERE status <> 'rejected' GROUP BY household_id, branch_id",
    )
    .await?;
    db.execute_unprepared(
        "INSERT INTO stats_deltas (township_id, branch_id, name, n) \
         SELECT township_id, branch_id, 'households_visited', COUNT(DISTINCT household_id) \
         FROM visits WHERE status <> 'rejected' GROUP BY township_id, branch_id",
    )
    .await?;
    for counted in COUNTED {
        for figure in counted.figures {
            let name = figure.name.replace("{row}", counted.table);
            let when = figure.when.replace("{row}", counted.table);
            db.execute_unprepared(&format!(
                "INSERT INTO stats_deltas (township_id, branch_id, name, n) \
                 SELECT township_id, branch_id, name, COUNT(*) FROM \
                 (SELECT township_id, branch_id, {name} AS name FROM {table} WHERE {when}) AS c \
                 GROUP BY township_id, branch_id, name",
                table = counted.table,
            ))
            .await?;
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StatsTotals::Table)
                .if_not_exists()
                .col(uuid(StatsTotals::TownshipId))
                .col(uuid(StatsTotals::BranchId))
                .col(string(StatsTotals::Name))
                .col(big_integer(StatsTotals::N))
                .primary_key(
                    Index::create()
                        .col(StatsTotals::TownshipId)
                        .col(StatsTotals::BranchId)
                        .col(StatsTotals::Name),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StatsDeltas::Table)
                .if_not_exists()
                .col(big_pk_auto(StatsDeltas::Seq))
                .col(uuid(StatsDeltas::TownshipId))
                .col(uuid(StatsDeltas::BranchId))
                .col(string(StatsDeltas::Name))
                .col(big_integer(StatsDeltas::N))
                .to_owned(),
        )
        .await?;
        crate::create_index(
            m,
            StatsDeltas::Table,
            "idx_stats_deltas_township",
            &[StatsDeltas::TownshipId, StatsDeltas::BranchId],
            false,
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StatsHouseholdVisits::Table)
                .if_not_exists()
                .col(uuid(StatsHouseholdVisits::HouseholdId))
                .col(uuid(StatsHouseholdVisits::BranchId))
                .col(big_integer(StatsHouseholdVisits::N))
                .primary_key(
                    Index::create()
                        .col(StatsHouseholdVisits::HouseholdId)
                        .col(StatsHouseholdVisits::BranchId),
                )
                .to_owned(),
        )
        .await?;
        let db = m.get_connection();
        let backend = db.get_database_backend();
        for table in REVIEWED {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {table}_pending_by_branch \
                 ON {table} (township_id, branch_id, submitted_at) WHERE status = 'pending'"
            ))
            .await?;
        }
        for counted in COUNTED {
            for sql in counted.triggers(backend) {
                db.execute_unprepared(&sql).await?;
            }
        }
        recount(db).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        let backend = db.get_database_backend();
        for counted in COUNTED {
            for sql in counted.dropped(backend) {
                db.execute_unprepared(&sql).await?;
            }
        }
        for table in REVIEWED {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {table}_pending_by_branch"))
                .await?;
        }
        m.drop_table(
            Table::drop()
                .table(StatsHouseholdVisits::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_table(
            Table::drop()
                .table(StatsDeltas::Table)
                .if_exists()
                .to_owned(),
        )
        .await?;
        m.drop_table(
            Table::drop()
                .table(StatsTotals::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum StatsTotals {
    Table,
    TownshipId,
    BranchId,
    Name,
    N,
}

#[derive(DeriveIden, Clone, Copy)]
enum StatsDeltas {
    Table,
    Seq,
    TownshipId,
    BranchId,
    Name,
    N,
}

#[derive(DeriveIden, Clone, Copy)]
enum StatsHouseholdVisits {
    Table,
    HouseholdId,
    BranchId,
    N,
}
