//! Public pledges (公开承诺) and keeping them (践诺): scopes, the status
//! machine, targets and how far a measurable target has come.
//!
//! ```text
//! member:  pending ──approve──▶ approved ──fulfil──▶ fulfilled | not_fulfilled
//!            │ ╲──reject──▶ rejected
//!            └─return─▶ returned ──author edits──▶ pending
//! branch:  approved at once ──fulfil──▶ fulfilled | not_fulfilled
//! ```

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text::{self, DESCRIPTION_MAX};
use super::{FieldErrors, ReviewStatus};

/// Most targets on one pledge.
pub const MAX_TARGETS: usize = 20;
/// Earliest and latest pledge year accepted.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// Largest count a measurable target may ask for.
pub const MAX_METRIC_COUNT: i32 = 100_000;
/// Longest target description.
pub const TARGET_MAX: usize = 500;

/// Whose pledge it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PledgeScope {
    /// 党员承诺: a member's own, reviewed by the secretary.
    Member,
    /// 支部承诺 / 任职承诺: the branch's, published when made.
    Branch,
}

impl PledgeScope {
    pub fn as_str(self) -> &'static str {
        match self {
            PledgeScope::Member => "member",
            PledgeScope::Branch => "branch",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "member" => Some(PledgeScope::Member),
            "branch" => Some(PledgeScope::Branch),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PledgeStatus {
    Pending,
    Approved,
    Returned,
    Rejected,
    Fulfilled,
    NotFulfilled,
}

impl PledgeStatus {
    pub const ALL: [PledgeStatus; 6] = [
        PledgeStatus::Pending,
        PledgeStatus::Approved,
        PledgeStatus::Returned,
        PledgeStatus::Rejected,
        PledgeStatus::Fulfilled,
        PledgeStatus::NotFulfilled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PledgeStatus::Pending => "pending",
            PledgeStatus::Approved => "approved",
            PledgeStatus::Returned => "returned",
            PledgeStatus::Rejected => "rejected",
            PledgeStatus::Fulfilled => "fulfilled",
            PledgeStatus::NotFulfilled => "not_fulfilled",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    /// The status as the review workflow sees it: only `pending` may be decided.
    pub fn as_review(self) -> ReviewStatus {
        match self {
            PledgeStatus::Pending => ReviewStatus::Pending,
            PledgeStatus::Returned => ReviewStatus::Returned,
            PledgeStatus::Rejected => ReviewStatus::Rejected,
            PledgeStatus::Approved | PledgeStatus::Fulfilled | PledgeStatus::NotFulfilled => {
                ReviewStatus::Approved
            }
        }
    }

    /// Whether members of the branch may rate it (群众评议).
    pub fn rateable(self) -> bool {
        matches!(self, PledgeStatus::Approved | PledgeStatus::Fulfilled)
    }
}

/// How a pledge ended (践诺结果).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FulfilOutcome {
    #[default]
    Fulfilled,
    NotFulfilled,
}

impl FulfilOutcome {
    pub fn status(self) -> PledgeStatus {
        match self {
            FulfilOutcome::Fulfilled => PledgeStatus::Fulfilled,
            FulfilOutcome::NotFulfilled => PledgeStatus::NotFulfilled,
        }
    }
}

/// What a measurable target counts: the owner's approved submissions of a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PledgeMetric {
    /// Approved household visits (走访).
    Visits,
    /// Approved mediation reports (矛盾纠纷调解).
    MediationReports,
}

impl PledgeMetric {
    /// The evidence kind a progress entry cites for this metric.
    pub fn evidence_kind(self) -> EvidenceKind {
        match self {
            PledgeMetric::Visits => EvidenceKind::Visit,
            PledgeMetric::MediationReports => EvidenceKind::MediationReport,
        }
    }
}

/// A submission cited as evidence of progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Visit,
    MediationReport,
}

/// A measurable goal: `count` approved submissions of `metric` in the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"metric": "visits", "count": 36}))]
pub struct TargetMetric {
    pub metric: PledgeMetric,
    #[schema(minimum = 1, maximum = 100000)]
    pub count: i32,
}

/// One target (目标 / 措施) of a pledge, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Target {
    #[schema(max_length = 500)]
    pub description: String,
    pub due_date: Option<NaiveDate>,
    /// Present when the target is measured from submissions.
    pub metric: Option<TargetMetric>,
}

impl Target {
    /// Checks one target; fields are named `targets[i].…`.
    pub fn parse(index: usize, raw: Target) -> Result<Target, FieldErrors> {
        let prefix = format!("targets[{index}]");
        let mut errors = FieldErrors::new();
        let description = errors.take(text::required(
            &format!("{prefix}.description"),
            &raw.description,
            TARGET_MAX,
        ));
        if let Some(metric) = raw.metric
            && !(1..=MAX_METRIC_COUNT).contains(&metric.count)
        {
            errors.add(
                format!("{prefix}.metric.count"),
                "out_of_range",
                format!("目标数量应在 1 到 {MAX_METRIC_COUNT} 之间"),
                format!("count must be between 1 and {MAX_METRIC_COUNT}"),
            );
        }
        match description {
            Some(description) if errors.is_empty() => Ok(Target {
                description,
                due_date: raw.due_date,
                metric: raw.metric,
            }),
            _ => Err(errors),
        }
    }
}

/// Checks a pledge's targets: 1 to [`MAX_TARGETS`], each valid.
pub fn parse_targets(raw: Vec<Target>) -> Result<Vec<Target>, FieldErrors> {
    if raw.is_empty() || raw.len() > MAX_TARGETS {
        return Err(FieldErrors::single(
            "targets",
            if raw.is_empty() {
                "required"
            } else {
                "too_many"
            },
            format!("承诺目标应有 1 到 {MAX_TARGETS} 项"),
            format!("a pledge needs 1 to {MAX_TARGETS} targets"),
        ));
    }
    let mut errors = FieldErrors::new();
    let parsed: Vec<Target> = raw
        .into_iter()
        .enumerate()
        .filter_map(|(i, t)| errors.take(Target::parse(i, t)))
        .collect();
    errors.finish(|| parsed)
}

/// Checks the pledge year.
pub fn parse_year(year: i32) -> Result<i32, FieldErrors> {
    if YEARS.contains(&year) {
        Ok(year)
    } else {
        Err(FieldErrors::single(
            "year",
            "out_of_range",
            format!("年度应在 {} 到 {} 之间", YEARS.start(), YEARS.end()),
            format!("year must be between {} and {}", YEARS.start(), YEARS.end()),
        ))
    }
}

/// Checks the text of a pledge: its title and content (measures).
pub fn parse_text(title: &str, content: &str) -> Result<(String, String), FieldErrors> {
    let mut errors = FieldErrors::new();
    let title = errors.take(text::required("title", title, text::TITLE_MAX));
    let content = errors.take(text::required("content", content, DESCRIPTION_MAX));
    match (title, content) {
        (Some(title), Some(content)) if errors.is_empty() => Ok((title, content)),
        _ => Err(errors),
    }
}

/// The days a pledge runs: from `period_start` (default 1 January of `year`)
/// through `period_end` (default 31 December), both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// China keeps one time zone, UTC+8 (every township's `Asia/Shanghai`); a
/// pledge's days begin at its midnight.
const CHINA_OFFSET_SECS: i64 = 8 * 3600;

impl Period {
    /// Checks a period: `period_end` not before `period_start`, and both in a sane year.
    pub fn parse(
        year: i32,
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
    ) -> Result<Period, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, date) in [("period_start", start), ("period_end", end)] {
            if let Some(date) = date
                && !YEARS.contains(&date.year())
            {
                errors.add(
                    field,
                    "out_of_range",
                    "日期超出允许范围",
                    "date out of range",
                );
            }
        }
        let year_start = NaiveDate::from_ymd_opt(year, 1, 1);
        let year_end = NaiveDate::from_ymd_opt(year, 12, 31);
        let (Some(start), Some(end)) = (start.or(year_start), end.or(year_end)) else {
            errors.add("year", "out_of_range", "年度无效", "invalid year");
            return Err(errors);
        };
        if end < start {
            errors.add(
                "period_end",
                "before_start",
                "结束日期不能早于开始日期",
                "period_end must not be before period_start",
            );
        }
        errors.finish(|| Period { start, end })
    }

    /// The instants that count: `[start 00:00, end+1 00:00)` in UTC+8.
    pub fn window(self) -> (DateTime<Utc>, DateTime<Utc>) {
        (
            china_midnight(self.start),
            china_midnight(self.end.succ_opt().unwrap_or(self.end)),
        )
    }
}

fn china_midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc() - Duration::seconds(CHINA_OFFSET_SECS)
}

/// Percent (0..=100) of `count` reached by `done`.
pub fn percent_of(done: i64, count: i32) -> i32 {
    if count <= 0 {
        return 0;
    }
    let percent = done.saturating_mul(100) / i64::from(count);
    i32::try_from(percent.clamp(0, 100)).unwrap_or(100)
}

/// A pledge's overall progress for the wall: the facts when it has measurable
/// targets (their mean completion), else the owner's latest reported percent;
/// a fulfilled pledge is complete.
pub fn overall_percent(
    status: PledgeStatus,
    measured: &[i32],
    reported: Option<i32>,
) -> Option<i32> {
    if status == PledgeStatus::Fulfilled {
        return Some(100);
    }
    if !measured.is_empty() {
        let sum: i64 = measured.iter().map(|p| i64::from(*p)).sum();
        let mean = sum / i64::try_from(measured.len()).unwrap_or(1);
        return Some(i32::try_from(mean).unwrap_or(100));
    }
    reported
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(description: &str, metric: Option<TargetMetric>) -> Target {
        Target {
            description: description.into(),
            due_date: None,
            metric,
        }
    }

    #[test]
    fn targets_are_one_to_twenty_and_each_is_named() {
        assert_eq!(
            parse_targets(vec![]).unwrap_err().into_vec()[0].field,
            "targets"
        );
        assert!(parse_targets(vec![target("走访", None); 21]).is_err());
        let errors = parse_targets(vec![
            target("走访", None),
            target(" ", None),
            target(
                "走访",
                Some(TargetMetric {
                    metric: PledgeMetric::Visits,
                    count: 0,
                }),
            ),
        ])
        .unwrap_err()
        .into_vec();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["targets[1].description", "targets[2].metric.count"]
        );
    }

    #[test]
    fn period_defaults_to_the_year_and_must_not_end_before_it_starts() {
        let period = Period::parse(2026, None, None).unwrap();
        assert_eq!(period.start, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap());
        assert_eq!(period.end, NaiveDate::from_ymd_opt(2026, 12, 31).unwrap());
        let start = NaiveDate::from_ymd_opt(2026, 6, 1);
        let end = NaiveDate::from_ymd_opt(2026, 5, 31);
        let errors = Period::parse(2026, start, end).unwrap_err().into_vec();
        assert_eq!(errors[0].field, "period_end");
    }

    #[test]
    fn window_runs_from_china_midnight_to_the_midnight_after_the_last_day() {
        let period = Period::parse(2026, None, None).unwrap();
        let (from, until) = period.window();
        assert_eq!(from.to_rfc3339(), "2025-12-31T16:00:00+00:00");
        assert_eq!(until.to_rfc3339(), "2026-12-31T16:00:00+00:00");
    }

    #[test]
    fn year_must_be_sane() {
        assert!(parse_year(2026).is_ok());
        assert!(parse_year(1999).is_err());
        assert!(parse_year(2101).is_err());
    }

    #[test]
    fn measured_progress_wins_over_reported_and_fulfilled_is_complete() {
        assert_eq!(percent_of(12, 36), 33);
        assert_eq!(percent_of(50, 36), 100);
        assert_eq!(
            overall_percent(PledgeStatus::Approved, &[50, 100], Some(10)),
            Some(75)
        );
        assert_eq!(
            overall_percent(PledgeStatus::Approved, &[], Some(10)),
            Some(10)
        );
        assert_eq!(overall_percent(PledgeStatus::Approved, &[], None), None);
        assert_eq!(
            overall_percent(PledgeStatus::Fulfilled, &[0], None),
            Some(100)
        );
    }

    #[test]
    fn only_published_pledges_are_rated() {
        assert!(PledgeStatus::Approved.rateable());
        assert!(PledgeStatus::Fulfilled.rateable());
        assert!(!PledgeStatus::Pending.rateable());
        assert!(!PledgeStatus::NotFulfilled.rateable());
    }
}
