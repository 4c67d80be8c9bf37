//! The dashboard's counts, each one grouped query per table over the
//! township (or one branch), folded per branch in memory.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query, QueryStatementBuilder};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Select};
use uuid::Uuid;

use super::dto::{Figures, Metric};
use super::rollup;
use crate::domain::mediation::MediationOutcome;
use crate::domain::supervision::{RectificationStatus, rectification_overdue};
use crate::domain::{ReviewStatus, Role};
use crate::entities::{
    assignment, branch, household, mediation_report, pledge, pledge_progress, rectification, user,
    visit,
};
use crate::platform::error::ApiError;

/// Where figures are counted: a township, perhaps one branch, a period.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    pub township_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Scope {
    fn rows<E: EntityTrait>(&self, township: E::Column, branch: E::Column) -> Select<E> {
        let query = E::find().filter(township.eq(self.township_id));
        match self.branch_id {
            Some(branch_id) => query.filter(branch.eq(branch_id)),
            None => query,
        }
    }

    fn within<E: EntityTrait>(&self, query: Select<E>, at: E::Column) -> Select<E> {
        let query = match self.from {
            Some(from) => query.filter(at.gte(from)),
            None => query,
        };
        match self.to {
            Some(to) => query.filter(at.lt(to)),
            None => query,
        }
    }
}

/// Every figure of the scope, per branch; what waits (reviews, rectifications)
/// as of `now`, whatever the period.
pub async fn figures_by_branch(
    db: &impl ConnectionTrait,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<HashMap<Uuid, Figures>, ApiError> {
    let mut by_branch: HashMap<Uuid, Figures> = HashMap::new();
    for (branch, n) in members(db, scope).await? {
        by_branch.entry(branch).or_default().members = n;
    }
    let mut all_time: HashMap<Uuid, Figures> = HashMap::new();
    for (branch, name, n) in rollup::counts(db, scope.township_id, scope.branch_id).await? {
        all_time
            .entry(branch)
            .or_default()
            .add_rollup(&name, self::n(n));
    }
    if scope.from.is_none() && scope.to.is_none() {
        for (branch, figures) in &all_time {
            by_branch.entry(*branch).or_default().absorb(figures);
        }
    } else {
        counted_in_period(db, scope, &mut by_branch).await?;
        // Reviews wait now, whatever the period.
        for (branch, figures) in &all_time {
            by_branch.entry(*branch).or_default().pending_reviews = figures.pending_reviews;
        }
    }
    for (branch, oldest) in oldest_pending(db, scope).await? {
        by_branch.entry(branch).or_default().oldest_pending_at = oldest;
    }
    for (branch, status, deadline) in unclosed_rectifications(db, scope).await? {
        let figures = by_branch.entry(branch).or_default();
        figures.rectifications_open += 1;
        let overdue = RectificationStatus::parse(&status)
            .is_some_and(|status| rectification_overdue(status, deadline, now));
        figures.rectifications_overdue += u64::from(overdue);
    }
    Ok(by_branch)
}

/// The rectifications of the scope not yet closed (销号), with their status
/// and deadline: tens per township, so they are tallied in memory.
async fn unclosed_rectifications(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(Uuid, String, DateTime<Utc>)>, ApiError> {
    Ok(scope
        .rows::<rectification::Entity>(
            rectification::Column::TownshipId,
            rectification::Column::BranchId,
        )
        .filter(rectification::Column::Status.ne(RectificationStatus::Closed.as_str()))
        .select_only()
        .columns([
            rectification::Column::BranchId,
            rectification::Column::Status,
            rectification::Column::Deadline,
        ])
        .into_tuple()
        .all(db)
        .await?)
}

/// The figures of a period, counted over its rows: rollups are all-time,
/// and which households were visited in a period cannot be summed from them.
async fn counted_in_period(
    db: &impl ConnectionTrait,
    scope: &Scope,
    by_branch: &mut HashMap<Uuid, Figures>,
) -> Result<(), ApiError> {
    for (branch, n) in count_by_branch(
        db,
        scope.rows::<household::Entity>(household::Column::TownshipId, household::Column::BranchId),
        household::Column::BranchId,
    )
    .await?
    {
        by_branch.entry(branch).or_default().households = n;
    }
    for (branch, n) in households_visited(db, scope).await? {
        by_branch.entry(branch).or_default().households_visited = n;
    }
    for (branch, kind, status, n) in visits(db, scope).await? {
        by_branch
            .entry(branch)
            .or_default()
            .add_visits(&kind, &status, n);
    }
    for (branch, outcome, escalated, n) in reports(db, scope).await? {
        let figures = by_branch.entry(branch).or_default();
        figures.reports += n;
        if outcome == MediationOutcome::Resolved.as_str() {
            figures.reports_resolved += n;
        }
        if escalated.is_some() {
            figures.reports_escalated += n;
        }
    }
    for (branch, status, n) in pledges(db, scope).await? {
        by_branch.entry(branch).or_default().add_pledges(&status, n);
    }
    Ok(())
}

fn n(count: i64) -> u64 {
    u64::try_from(count).unwrap_or_default()
}

async fn count_by_branch<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    branch: E::Column,
) -> Result<Vec<(Uuid, u64)>, ApiError> {
    let rows: Vec<(Uuid, i64)> = query
        .select_only()
        .column(branch)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(branch)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(b, c)| (b, n(c))).collect())
}

async fn members(db: &impl ConnectionTrait, scope: &Scope) -> Result<Vec<(Uuid, u64)>, ApiError> {
    let query = scope
        .rows::<user::Entity>(user::Column::TownshipId, user::Column::BranchId)
        .filter(user::Column::BranchId.is_not_null())
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.is_in([Role::Member.as_str(), Role::Secretary.as_str()]));
    let rows: Vec<(Option<Uuid>, i64)> = query
        .select_only()
        .column(user::Column::BranchId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(user::Column::BranchId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(b, c)| Some((b?, n(c))))
        .collect())
}

async fn households_visited(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(Uuid, u64)>, ApiError> {
    let query = scope.within(
        scope
            .rows::<visit::Entity>(visit::Column::TownshipId, visit::Column::BranchId)
            .filter(visit::Column::Status.ne(ReviewStatus::Rejected.as_str())),
        visit::Column::VisitedAt,
    );
    let rows: Vec<(Uuid, i64)> = query
        .select_only()
        .column(visit::Column::BranchId)
        .column_as(
            Expr::expr(Func::count_distinct(Expr::col(visit::Column::HouseholdId))),
            "n",
        )
        .group_by(visit::Column::BranchId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(b, c)| (b, n(c))).collect())
}

async fn visits(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(Uuid, String, String, u64)>, ApiError> {
    let query = scope.within(
        scope.rows::<visit::Entity>(visit::Column::TownshipId, visit::Column::BranchId),
        visit::Column::VisitedAt,
    );
    let rows: Vec<(Uuid, String, String, i64)> = query
        .select_only()
        .column(visit::Column::BranchId)
        .column(visit::Column::Kind)
        .column(visit::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(visit::Column::BranchId)
        .group_by(visit::Column::Kind)
        .group_by(visit::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(b, k, s, c)| (b, k, s, n(c)))
        .collect())
}

async fn reports(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(Uuid, String, Option<String>, u64)>, ApiError> {
    use mediation_report::Column as C;
    let query = scope.within(
        scope.rows::<mediation_report::Entity>(C::TownshipId, C::BranchId),
        C::OccurredAt,
    );
    let rows: Vec<(Uuid, String, Option<String>, i64)> = query
        .select_only()
        .column(C::BranchId)
        .column(C::LatestOutcome)
        .column(C::EscalationStatus)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(C::BranchId)
        .group_by(C::LatestOutcome)
        .group_by(C::EscalationStatus)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(b, o, e, c)| (b, o, e, n(c)))
        .collect())
}

async fn pledges(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(Uuid, String, u64)>, ApiError> {
    let query = scope.within(
        scope.rows::<pledge::Entity>(pledge::Column::TownshipId, pledge::Column::BranchId),
        pledge::Column::CreatedAt,
    );
    let rows: Vec<(Uuid, String, i64)> = query
        .select_only()
        .column(pledge::Column::BranchId)
        .column(pledge::Column::Status)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(pledge::Column::BranchId)
        .group_by(pledge::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|(b, s, c)| (b, s, n(c))).collect())
}

/// When the oldest submission still waiting for review was submitted, per
/// branch of the scope: for each branch and kind, one probe of an index that
/// holds only pending rows, however many rows there are.
async fn oldest_pending(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<(Uuid, Option<DateTime<Utc>>)>, ApiError> {
    let waiting = |table: &str| {
        let column = |name: &str| Expr::col((Alias::new(table), Alias::new(name)));
        let oldest = Query::select()
            .expr(column("submitted_at").min())
            .from(Alias::new(table))
            .and_where(column("township_id").equals((branch::Entity, branch::Column::TownshipId)))
            .and_where(column("branch_id").equals((branch::Entity, branch::Column::Id)))
            // A literal, not a bound value: PostgreSQL matches a partial
            // index's predicate only against a constant it can see.
            .and_where(column("status").eq(Expr::cust("'pending'")))
            .to_owned();
        Expr::SubQuery(None, Box::new(oldest.into_sub_query_statement()))
    };
    let kinds = ["visits", "mediation_reports", "pledges"];
    let mut query = Query::select();
    query
        .column((branch::Entity, branch::Column::Id))
        .from(branch::Entity)
        .and_where(Expr::col((branch::Entity, branch::Column::TownshipId)).eq(scope.township_id));
    if let Some(branch_id) = scope.branch_id {
        query.and_where(Expr::col((branch::Entity, branch::Column::Id)).eq(branch_id));
    }
    for table in kinds {
        query.expr_as(waiting(table), Alias::new(table));
    }
    let mut oldest = Vec::new();
    for row in db.query_all(&query).await? {
        let mut at: Vec<DateTime<Utc>> = Vec::new();
        for table in kinds {
            at.extend(row.try_get::<Option<DateTime<Utc>>>("", table)?);
        }
        oldest.push((row.try_get("", "id")?, at.into_iter().min()));
    }
    Ok(oldest)
}

/// The times the series of `metric` counts, within the scope and period.
pub async fn times(
    db: &impl ConnectionTrait,
    scope: &Scope,
    metric: Metric,
) -> Result<Vec<DateTime<Utc>>, ApiError> {
    macro_rules! times_of {
        ($entity:ident, $at:ident) => {
            scope
                .within(
                    scope.rows::<$entity::Entity>(
                        $entity::Column::TownshipId,
                        $entity::Column::BranchId,
                    ),
                    $entity::Column::$at,
                )
                .select_only()
                .column($entity::Column::$at)
                .into_tuple()
                .all(db)
                .await?
        };
    }
    Ok(match metric {
        Metric::Visits => times_of!(visit, VisitedAt),
        Metric::MediationReports => times_of!(mediation_report, OccurredAt),
        Metric::PledgeProgress => times_of!(pledge_progress, CreatedAt),
    })
}

/// A member's visiting figures.
pub struct MemberFigures {
    pub member: user::Model,
    pub assigned_households: u64,
    pub visits: u64,
    pub last_visited_at: Option<DateTime<Utc>>,
}

/// Active members and secretaries of the scope with their visits in the
/// period and their latest visit of any time (rejected visits not counted).
pub async fn member_figures(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<Vec<MemberFigures>, ApiError> {
    let members = scope
        .rows::<user::Entity>(user::Column::TownshipId, user::Column::BranchId)
        .filter(user::Column::BranchId.is_not_null())
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.is_in([Role::Member.as_str(), Role::Secretary.as_str()]))
        .all(db)
        .await?;
    let not_rejected = || {
        scope
            .rows::<visit::Entity>(visit::Column::TownshipId, visit::Column::BranchId)
            .filter(visit::Column::Status.ne(ReviewStatus::Rejected.as_str()))
    };
    let counts: HashMap<Uuid, i64> = scope
        .within(not_rejected(), visit::Column::VisitedAt)
        .select_only()
        .column(visit::Column::MemberId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(visit::Column::MemberId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let last: HashMap<Uuid, Option<DateTime<Utc>>> = not_rejected()
        .select_only()
        .column(visit::Column::MemberId)
        .column_as(visit::Column::VisitedAt.max(), "last")
        .group_by(visit::Column::MemberId)
        .into_tuple::<(Uuid, Option<DateTime<Utc>>)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    let assigned: HashMap<Uuid, i64> = scope
        .rows::<assignment::Entity>(assignment::Column::TownshipId, assignment::Column::BranchId)
        .filter(assignment::Column::DeletedAt.is_null())
        .select_only()
        .column(assignment::Column::MemberId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(assignment::Column::MemberId)
        .into_tuple::<(Uuid, i64)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(members
        .into_iter()
        .map(|member| MemberFigures {
            assigned_households: n(assigned.get(&member.id).copied().unwrap_or_default()),
            visits: n(counts.get(&member.id).copied().unwrap_or_default()),
            last_visited_at: last.get(&member.id).copied().flatten(),
            member,
        })
        .collect())
}
