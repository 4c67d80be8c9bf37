//! The township's campaign (创先争优活动) in phases (动员部署, 组织实施,
//! 总结完善 …): the rules of their dates, and which submissions a phase takes.
//!
//! Dates are whole days in the township's time zone; a phase runs from the
//! local midnight starting `starts_on` to the one after `ends_on`. Phases
//! lie within their campaign and never overlap, so at any moment a township
//! is in at most one phase. Outside every phase nothing is restricted.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::FieldErrors;
use super::buckets;

/// What members and secretaries submit, as a phase opens or closes it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    /// Household visits (走访).
    Visit,
    /// Dispute-mediation reports (矛盾纠纷调解记录).
    MediationReport,
    /// Pledges (公开承诺), member and branch ones alike.
    Pledge,
}

impl SubmissionKind {
    pub const ALL: [SubmissionKind; 3] = [
        SubmissionKind::Visit,
        SubmissionKind::MediationReport,
        SubmissionKind::Pledge,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::Visit => "visit",
            SubmissionKind::MediationReport => "mediation_report",
            SubmissionKind::Pledge => "pledge",
        }
    }

    /// The Chinese name, for messages.
    pub fn label(self) -> &'static str {
        match self {
            SubmissionKind::Visit => "走访记录",
            SubmissionKind::MediationReport => "矛盾纠纷调解记录",
            SubmissionKind::Pledge => "承诺",
        }
    }

    /// The English name, for messages.
    pub fn label_en(self) -> &'static str {
        match self {
            SubmissionKind::Visit => "visits",
            SubmissionKind::MediationReport => "mediation reports",
            SubmissionKind::Pledge => "pledges",
        }
    }
}

/// The last day (inclusive, local) each kind is taken within its phase;
/// absent: until the phase ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KindDeadlines {
    #[schema(value_type = Option<String>, format = Date, example = "2026-06-15")]
    pub visit: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub mediation_report: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date, example = "2026-06-15")]
    pub pledge: Option<NaiveDate>,
}

impl KindDeadlines {
    pub fn of(&self, kind: SubmissionKind) -> Option<NaiveDate> {
        match kind {
            SubmissionKind::Visit => self.visit,
            SubmissionKind::MediationReport => self.mediation_report,
            SubmissionKind::Pledge => self.pledge,
        }
    }
}

/// What a phase takes: its open kinds and their deadlines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admission {
    pub open_kinds: Vec<SubmissionKind>,
    pub deadlines: KindDeadlines,
}

/// Why a phase refuses a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The phase does not take this kind at all.
    Closed,
    /// It did, until this day.
    DeadlinePassed(NaiveDate),
}

impl Admission {
    /// Whether a submission of `kind` is taken on local day `day` of the phase.
    pub fn admits(&self, kind: SubmissionKind, day: NaiveDate) -> Result<(), Refusal> {
        if !self.open_kinds.contains(&kind) {
            return Err(Refusal::Closed);
        }
        match self.deadlines.of(kind) {
            Some(last) if day > last => Err(Refusal::DeadlinePassed(last)),
            _ => Ok(()),
        }
    }
}

/// Where a phase stands on a local day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PhaseStatus {
    Upcoming,
    Current,
    Ended,
}

/// A span of whole local days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// Years a campaign may fall in: a typo like 20266 is refused, not stored.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

impl Days {
    /// Checks the dates themselves: within [`YEARS`], the end not before the
    /// start. Fields are named with `prefix` (e.g. `phases[1].`).
    pub fn parse(
        prefix: &str,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    ) -> Result<Days, FieldErrors> {
        let mut errors = FieldErrors::new();
        for (field, day) in [("starts_on", starts_on), ("ends_on", ends_on)] {
            if !YEARS.contains(&day.year()) {
                errors.add(
                    format!("{prefix}{field}"),
                    "out_of_range",
                    format!("日期应在 {} 至 {} 年之间", YEARS.start(), YEARS.end()),
                    format!("the date must fall in {} to {}", YEARS.start(), YEARS.end()),
                );
            }
        }
        if errors.is_empty() && ends_on < starts_on {
            errors.add(
                format!("{prefix}ends_on"),
                "before_starts_on",
                "结束日期不能早于开始日期",
                "ends_on must not be before starts_on",
            );
        }
        errors.finish(|| Days { starts_on, ends_on })
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.starts_on <= day && day <= self.ends_on
    }

    pub fn covers(&self, other: &Days) -> bool {
        self.starts_on <= other.starts_on && other.ends_on <= self.ends_on
    }

    pub fn overlaps(&self, other: &Days) -> bool {
        self.starts_on <= other.ends_on && other.starts_on <= self.ends_on
    }

    pub fn status_on(&self, today: NaiveDate) -> PhaseStatus {
        if today < self.starts_on {
            PhaseStatus::Upcoming
        } else if today > self.ends_on {
            PhaseStatus::Ended
        } else {
            PhaseStatus::Current
        }
    }

    /// The instants the days cover in `tz`: from the local midnight starting
    /// the first to the one after the last (exclusive), as stats `from`/`to`.
    pub fn instants(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.ends_on.succ_opt().unwrap_or(self.ends_on);
        (
            buckets::midnight(self.starts_on, tz).with_timezone(&Utc),
            buckets::midnight(after, tz).with_timezone(&Utc),
        )
    }
}

/// A phase as its neighbours see it, for the overlap rule.
#[derive(Debug, Clone)]
pub struct Neighbour<'a> {
    pub name: &'a str,
    pub days: Days,
}

/// Checks a phase against its campaign and the campaign's other phases:
/// inside the campaign's days, overlapping none, its deadlines within it
/// and only for kinds it opens. Fields are named with `prefix`.
pub fn check_phase(
    prefix: &str,
    days: Days,
    admission: &Admission,
    campaign: Days,
    others: &[Neighbour<'_>],
) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if !campaign.contains(days.starts_on) {
        errors.add(
            format!("{prefix}starts_on"),
            "outside_campaign",
            format!(
                "阶段须在活动期间（{} 至 {}）内",
                campaign.starts_on, campaign.ends_on
            ),
            format!(
                "the phase must lie within the campaign ({} to {})",
                campaign.starts_on, campaign.ends_on
            ),
        );
    }
    if !campaign.contains(days.ends_on) {
        errors.add(
            format!("{prefix}ends_on"),
            "outside_campaign",
            format!(
                "阶段须在活动期间（{} 至 {}）内",
                campaign.starts_on, campaign.ends_on
            ),
            format!(
                "the phase must lie within the campaign ({} to {})",
                campaign.starts_on, campaign.ends_on
            ),
        );
    }
    if let Some(other) = others.iter().find(|o| o.days.overlaps(&days)) {
        errors.add(
            format!("{prefix}starts_on"),
            "overlaps",
            format!(
                "与阶段“{}”（{} 至 {}）时间重叠",
                other.name, other.days.starts_on, other.days.ends_on
            ),
            format!(
                "overlaps the phase “{}” ({} to {})",
                other.name, other.days.starts_on, other.days.ends_on
            ),
        );
    }
    let mut seen = Vec::new();
    for kind in &admission.open_kinds {
        if seen.contains(kind) {
            errors.add(
                format!("{prefix}open_kinds"),
                "duplicate",
                format!("open_kinds 中 {} 重复", kind.as_str()),
                format!("{} appears twice in open_kinds", kind.as_str()),
            );
        }
        seen.push(*kind);
    }
    for kind in SubmissionKind::ALL {
        let Some(deadline) = admission.deadlines.of(kind) else {
            continue;
        };
        let field = format!("{prefix}deadlines.{}", kind.as_str());
        if !admission.open_kinds.contains(&kind) {
            errors.add(
                field,
                "kind_not_open",
                format!("本阶段不接受{}，不能设置截止日期", kind.label()),
                format!("the phase does not take {}", kind.label_en()),
            );
        } else if !days.contains(deadline) {
            errors.add(
                field,
                "outside_phase",
                "截止日期须在阶段期间内",
                "the deadline must fall within the phase",
            );
        }
    }
    errors
}

/// Checks that the campaign's days still hold every phase (after a change
/// of its dates), naming the first phase that falls outside.
pub fn check_holds(campaign: Days, phases: &[Neighbour<'_>]) -> FieldErrors {
    let mut errors = FieldErrors::new();
    if let Some(early) = phases
        .iter()
        .find(|p| p.days.starts_on < campaign.starts_on)
    {
        errors.add(
            "starts_on",
            "phase_outside",
            format!("阶段“{}”将超出活动期间", early.name),
            format!("the phase “{}” would fall outside the campaign", early.name),
        );
    }
    if let Some(late) = phases.iter().find(|p| p.days.ends_on > campaign.ends_on) {
        errors.add(
            "ends_on",
            "phase_outside",
            format!("阶段“{}”将超出活动期间", late.name),
            format!("the phase “{}” would fall outside the campaign", late.name),
        );
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn days(a: &str, b: &str) -> Days {
        Days::parse("", day(a), day(b)).unwrap()
    }

    fn fields(errors: FieldErrors) -> Vec<(String, &'static str)> {
        errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    fn all_open() -> Admission {
        Admission {
            open_kinds: SubmissionKind::ALL.to_vec(),
            deadlines: KindDeadlines::default(),
        }
    }

    #[test]
    fn a_one_day_phase_is_fine_and_an_end_before_the_start_is_not() {
        assert!(Days::parse("", day("2026-06-01"), day("2026-06-01")).is_ok());
        let wrong = Days::parse("phases[0].", day("2026-06-02"), day("2026-06-01")).unwrap_err();
        assert_eq!(
            fields(wrong),
            [("phases[0].ends_on".to_owned(), "before_starts_on")]
        );
        let far = Days::parse("", day("1999-12-31"), day("3000-01-01")).unwrap_err();
        assert_eq!(fields(far).len(), 2);
    }

    #[test]
    fn a_phase_must_lie_within_its_campaign_and_overlap_none() {
        let campaign = days("2026-06-01", "2026-12-31");
        let first = Neighbour {
            name: "动员部署",
            days: days("2026-06-01", "2026-06-15"),
        };
        let errors = check_phase(
            "",
            days("2026-06-15", "2027-01-01"),
            &all_open(),
            campaign,
            std::slice::from_ref(&first),
        );
        assert_eq!(
            fields(errors),
            [
                ("ends_on".to_owned(), "outside_campaign"),
                ("starts_on".to_owned(), "overlaps"),
            ]
        );
        let next_day = check_phase(
            "",
            days("2026-06-16", "2026-09-30"),
            &all_open(),
            campaign,
            &[first],
        );
        assert!(next_day.is_empty());
    }

    #[test]
    fn deadlines_only_for_open_kinds_and_within_the_phase() {
        let phase = days("2026-06-01", "2026-06-30");
        let admission = Admission {
            open_kinds: vec![SubmissionKind::Pledge],
            deadlines: KindDeadlines {
                visit: Some(day("2026-06-10")),
                mediation_report: None,
                pledge: Some(day("2026-07-10")),
            },
        };
        let errors = check_phase("", phase, &admission, phase, &[]);
        assert_eq!(
            fields(errors),
            [
                ("deadlines.visit".to_owned(), "kind_not_open"),
                ("deadlines.pledge".to_owned(), "outside_phase"),
            ]
        );
    }

    #[test]
    fn a_closed_kind_is_refused_and_a_deadline_closes_it_the_day_after() {
        let admission = Admission {
            open_kinds: vec![SubmissionKind::Visit, SubmissionKind::Pledge],
            deadlines: KindDeadlines {
                visit: None,
                mediation_report: None,
                pledge: Some(day("2026-06-15")),
            },
        };
        assert_eq!(
            admission.admits(SubmissionKind::MediationReport, day("2026-06-10")),
            Err(Refusal::Closed)
        );
        assert_eq!(
            admission.admits(SubmissionKind::Pledge, day("2026-06-15")),
            Ok(())
        );
        assert_eq!(
            admission.admits(SubmissionKind::Pledge, day("2026-06-16")),
            Err(Refusal::DeadlinePassed(day("2026-06-15")))
        );
        assert_eq!(
            admission.admits(SubmissionKind::Visit, day("2026-06-16")),
            Ok(())
        );
    }

    #[test]
    fn a_phase_covers_local_days_from_midnight_to_midnight() {
        let (from, to) = days("2026-06-01", "2026-06-30").instants(chrono_tz::Asia::Shanghai);
        assert_eq!(from.to_rfc3339(), "2026-05-31T16:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-06-30T16:00:00+00:00");
    }

    #[test]
    fn shrinking_a_campaign_names_the_phase_left_outside() {
        let phases = [Neighbour {
            name: "总结完善",
            days: days("2026-11-01", "2026-12-31"),
        }];
        let errors = check_holds(days("2026-06-01", "2026-11-30"), &phases);
        assert_eq!(fields(errors), [("ends_on".to_owned(), "phase_outside")]);
    }
}
