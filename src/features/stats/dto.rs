//! Statistics bodies: the township dashboard's figures, defined here once
//! and documented in the OpenAPI descriptions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::buckets::Bucket;
use crate::domain::{ReviewStatus, VisitKind};

/// The period and branch figures are asked for.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsFilter {
    /// A branch of the township (admins); secretaries always get their own.
    pub branch_id: Option<Uuid>,
    /// Count from this time (default: all time).
    pub from: Option<DateTime<Utc>>,
    /// Count before this time (default: now).
    pub to: Option<DateTime<Utc>>,
    /// A campaign phase of the township: count over its days, as `from` and
    /// `to` would (not to be sent with them). Unknown or of another township: 404.
    pub phase_id: Option<Uuid>,
}

/// Figures that add up across branches; rates are derived from them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figures {
    pub members: u64,
    pub households: u64,
    pub households_visited: u64,
    pub visits_by_kind: BTreeMap<String, u64>,
    pub visits_by_status: BTreeMap<String, u64>,
    pub reports: u64,
    pub reports_resolved: u64,
    pub reports_escalated: u64,
    pub pledges: u64,
    pub pledges_fulfilled: u64,
    pub pending_reviews: u64,
    pub oldest_pending_at: Option<DateTime<Utc>>,
    pub rectifications_open: u64,
    pub rectifications_overdue: u64,
}

impl Figures {
    /// Counts `n` visits of a kind and status.
    pub fn add_visits(&mut self, kind: &str, status: &str, n: u64) {
        *self.visits_by_kind.entry(kind.to_owned()).or_default() += n;
        *self.visits_by_status.entry(status.to_owned()).or_default() += n;
    }

    /// Counts `n` pledges of a status: published ones (approved, fulfilled
    /// or not) are the pledges made; fulfilled ones, those kept.
    pub fn add_pledges(&mut self, status: &str, n: u64) {
        if ["approved", "fulfilled", "not_fulfilled"].contains(&status) {
            self.pledges += n;
        }
        if status == "fulfilled" {
            self.pledges_fulfilled += n;
        }
    }

    /// Counts `n` under a rollup's figure name (see [`super::rollup`]).
    pub fn add_rollup(&mut self, name: &str, n: u64) {
        let pending = ReviewStatus::Pending.as_str();
        match name.split('.').collect::<Vec<_>>()[..] {
            ["households"] => self.households += n,
            ["households_visited"] => self.households_visited += n,
            ["visits", kind, status] => {
                self.add_visits(kind, status, n);
                if status == pending {
                    self.pending_reviews += n;
                }
            }
            ["reports"] => self.reports += n,
            ["reports", "resolved"] => self.reports_resolved += n,
            ["reports", "escalated"] => self.reports_escalated += n,
            ["reports", "pending"] => self.pending_reviews += n,
            ["pledges", status] => {
                self.add_pledges(status, n);
                if status == pending {
                    self.pending_reviews += n;
                }
            }
            _ => tracing::warn!(name, "unknown rollup figure"),
        }
    }

    /// Adds `other`'s figures to these.
    pub fn absorb(&mut self, other: &Figures) {
        self.members += other.members;
        self.households += other.households;
        self.households_visited += other.households_visited;
        for (k, n) in &other.visits_by_kind {
            *self.visits_by_kind.entry(k.clone()).or_default() += n;
        }
        for (k, n) in &other.visits_by_status {
            *self.visits_by_status.entry(k.clone()).or_default() += n;
        }
        self.reports += other.reports;
        self.reports_resolved += other.reports_resolved;
        self.reports_escalated += other.reports_escalated;
        self.pledges += other.pledges;
        self.pledges_fulfilled += other.pledges_fulfilled;
        self.pending_reviews += other.pending_reviews;
        self.rectifications_open += other.rectifications_open;
        self.rectifications_overdue += other.rectifications_overdue;
        self.oldest_pending_at = match (self.oldest_pending_at, other.oldest_pending_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Visits counted by `visited_at` in the period, every status included.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitCounts {
    pub total: u64,
    /// Every kind, zero included.
    #[schema(example = json!({"assistance": 12, "condolence": 3, "dispute_screening": 0, "safety_check": 4, "policy_outreach": 1, "other": 0}))]
    pub by_kind: BTreeMap<String, u64>,
    /// Every review status, zero included.
    #[schema(example = json!({"pending": 2, "approved": 17, "returned": 1, "rejected": 0}))]
    pub by_status: BTreeMap<String, u64>,
}

/// Mediation reports counted by `occurred_at` in the period, every status included.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediationCounts {
    pub total: u64,
    /// Reports whose latest outcome (after follow-ups) is `resolved`.
    pub resolved: u64,
    /// `resolved ÷ total`, 0..1 (0 when there are none).
    pub resolution_rate: f64,
    /// Reports escalated to the township.
    pub escalated: u64,
}

/// Published pledges (approved, fulfilled or not fulfilled) made in the period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PledgeCounts {
    pub total: u64,
    pub fulfilled: u64,
    /// `fulfilled ÷ total`, 0..1 (0 when there are none).
    pub fulfilment_rate: f64,
}

/// The township's (or one branch's) figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    pub generated_at: DateTime<Utc>,
    /// The branch these figures are for; `null` for the whole township.
    pub branch_id: Option<Uuid>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Active members and secretaries.
    pub members: u64,
    pub households: u64,
    /// Households with at least one visit in the period that was not rejected.
    pub households_visited: u64,
    /// `households_visited ÷ households`, 0..1 (0 when there are no households).
    pub visit_coverage: f64,
    pub visits: VisitCounts,
    pub mediation: MediationCounts,
    pub pledges: PledgeCounts,
    /// Visits, mediation reports and member pledges waiting for review now (any period).
    pub pending_reviews: u64,
    /// Hours the oldest of those has waited, to 0.1 h; `null` when none waits.
    pub oldest_pending_hours: Option<f64>,
    /// Rectifications (整改) not yet closed, now (any period).
    pub rectifications: RectificationCounts,
}

/// Rectifications (整改) assigned and not yet closed, as of now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RectificationCounts {
    /// Open, reported and awaiting the township's check, or reopened.
    pub open: u64,
    /// Of those, the ones past their deadline with no report (open or reopened).
    pub overdue: u64,
}

fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
    }
}

impl Overview {
    pub fn of(
        figures: Figures,
        branch_id: Option<Uuid>,
        filter: &StatsFilter,
        now: DateTime<Utc>,
    ) -> Self {
        let mut by_kind: BTreeMap<String, u64> = VisitKind::ALL
            .iter()
            .map(|k| (k.as_str().to_owned(), 0))
            .collect();
        by_kind.extend(figures.visits_by_kind);
        let mut by_status: BTreeMap<String, u64> = [
            ReviewStatus::Pending,
            ReviewStatus::Approved,
            ReviewStatus::Returned,
            ReviewStatus::Rejected,
        ]
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
        by_status.extend(figures.visits_by_status);
        Overview {
            generated_at: now,
            branch_id,
            from: filter.from,
            to: filter.to,
            members: figures.members,
            households: figures.households,
            households_visited: figures.households_visited,
            visit_coverage: rate(figures.households_visited, figures.households),
            visits: VisitCounts {
                total: by_status.values().sum(),
                by_kind,
                by_status,
            },
            mediation: MediationCounts {
                total: figures.reports,
                resolved: figures.reports_resolved,
                resolution_rate: rate(figures.reports_resolved, figures.reports),
                escalated: figures.reports_escalated,
            },
            pledges: PledgeCounts {
                total: figures.pledges,
                fulfilled: figures.pledges_fulfilled,
                fulfilment_rate: rate(figures.pledges_fulfilled, figures.pledges),
            },
            pending_reviews: figures.pending_reviews,
            oldest_pending_hours: figures.oldest_pending_at.map(|at| {
                let hours = (now - at).num_seconds().max(0) as f64 / 3600.0;
                (hours * 10.0).round() / 10.0
            }),
            rectifications: RectificationCounts {
                open: figures.rectifications_open,
                overdue: figures.rectifications_overdue,
            },
        }
    }
}

/// Rows of a stats table, all at once (a township has tens of branches and
/// at most some thousands of members: no paging).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rows<T> {
    pub items: Vec<T>,
}

/// One branch's row of the supervisor's table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BranchRow {
    pub branch_id: Uuid,
    pub name: String,
    pub kind: String,
    #[serde(flatten)]
    pub figures: Overview,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BranchOrder {
    /// Lowest coverage first, then the longest-waiting review.
    #[default]
    Worst,
    /// Most pending reviews first.
    Pending,
    Name,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BranchesQuery {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Default `worst`.
    #[param(inline)]
    pub sort: Option<BranchOrder>,
    /// A campaign phase of the township: count over its days, as `from` and
    /// `to` would (not to be sent with them). Unknown or of another township: 404.
    pub phase_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Visits by `visited_at`, every status.
    #[default]
    Visits,
    /// Mediation reports by `occurred_at`, every status.
    MediationReports,
    /// Pledge progress entries (践诺) by when they were posted.
    PledgeProgress,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TimeseriesQuery {
    /// Default `visits`.
    pub metric: Option<Metric>,
    /// Default `day`. Buckets are in the township's time zone; weeks start on Monday.
    pub bucket: Option<Bucket>,
    /// Default: the start of the bucket 29 days, 11 weeks or 11 months before `to`'s.
    pub from: Option<DateTime<Utc>>,
    /// Default: now.
    pub to: Option<DateTime<Utc>>,
    pub branch_id: Option<Uuid>,
    /// A campaign phase of the township: count over its days, as `from` and
    /// `to` would (not to be sent with them). Unknown or of another township: 404.
    pub phase_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Point {
    /// The bucket's local midnight, with the township's offset.
    #[schema(value_type = String, example = "2026-11-23T00:00:00+08:00")]
    pub bucket_start: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Series {
    pub metric: Metric,
    pub bucket: Bucket,
    pub items: Vec<Point>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MembersQuery {
    /// Admins: one branch (default every branch); secretaries always get their own.
    pub branch_id: Option<Uuid>,
    /// Visits counted from this time (default: all time).
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// A campaign phase of the township: count over its days, as `from` and
    /// `to` would (not to be sent with them). Unknown or of another township: 404.
    pub phase_id: Option<Uuid>,
}

/// A member's visiting, for spotting who lags.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberRow {
    pub member_id: Uuid,
    pub name: String,
    pub role: String,
    pub branch_id: Uuid,
    /// Households assigned to them (党员包户).
    pub assigned_households: u64,
    /// Their visits in the period that were not rejected.
    pub visits: u64,
    /// Their latest visit that was not rejected, of any time.
    pub last_visited_at: Option<DateTime<Utc>>,
    /// Whole days since then; `null` if they never visited.
    pub days_since_last_visit: Option<i64>,
}
