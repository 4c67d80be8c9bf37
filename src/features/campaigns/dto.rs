//! Campaign and phase request and response bodies.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::FieldErrors;
use crate::domain::campaign::{
    Admission, Days, KindDeadlines, Neighbour, PhaseStatus, SubmissionKind, check_phase,
};
use crate::domain::text::{self, DESCRIPTION_MAX, TITLE_MAX};
use crate::entities::{campaign, campaign_phase};

/// Most phases one campaign may have.
pub const MAX_PHASES: usize = 20;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "name": "2026年创先争优活动", "description": "按照县委统一部署开展",
    "starts_on": "2026-06-01", "ends_on": "2026-12-31",
    "phases": [
        {"name": "动员部署", "starts_on": "2026-06-01", "ends_on": "2026-06-20",
         "open_kinds": ["visit", "mediation_report", "pledge"], "deadlines": {"pledge": "2026-06-15"}},
        {"name": "组织实施", "starts_on": "2026-06-21", "ends_on": "2026-11-30", "open_kinds": ["visit", "mediation_report"]},
        {"name": "总结完善", "starts_on": "2026-12-01", "ends_on": "2026-12-31", "open_kinds": ["visit", "mediation_report"]}
    ]
}))]
pub struct NewCampaignRequest {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// The first day, in the township's time zone.
    pub starts_on: NaiveDate,
    /// The last day (inclusive), in the township's time zone.
    pub ends_on: NaiveDate,
    /// The phases, inside the campaign's days and overlapping none; they are
    /// ordered by their dates.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub phases: Vec<PhaseRequest>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PhaseRequest {
    #[schema(max_length = 100)]
    pub name: String,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    /// The first day, in the township's time zone.
    pub starts_on: NaiveDate,
    /// The last day (inclusive), in the township's time zone; a one-day
    /// phase has `ends_on` equal to `starts_on`.
    pub ends_on: NaiveDate,
    /// The submission kinds the phase takes (default: all three).
    pub open_kinds: Option<Vec<SubmissionKind>>,
    /// The last day each open kind is taken, within the phase (default: none).
    #[serde(default)]
    pub deadlines: KindDeadlines,
}

/// A checked campaign.
#[derive(Debug, Clone)]
pub struct CampaignPlan {
    pub name: String,
    pub description: String,
    pub days: Days,
    pub phases: Vec<PhasePlan>,
}

/// A checked phase.
#[derive(Debug, Clone)]
pub struct PhasePlan {
    pub name: String,
    pub description: String,
    pub days: Days,
    pub admission: Admission,
}

impl NewCampaignRequest {
    /// Checks the campaign and every phase, naming each bad field
    /// (`phases[1].starts_on`).
    pub fn parse(self) -> Result<CampaignPlan, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.take(text::required("name", &self.name, TITLE_MAX));
        let description = errors.take(text::optional(
            "description",
            self.description.as_deref(),
            DESCRIPTION_MAX,
        ));
        let days = errors.take(Days::parse("", self.starts_on, self.ends_on));
        if self.phases.len() > MAX_PHASES {
            errors.add(
                "phases",
                "too_many",
                format!("最多 {MAX_PHASES} 个阶段"),
                format!("at most {MAX_PHASES} phases"),
            );
        }
        let mut phases: Vec<PhasePlan> = Vec::new();
        for (i, phase) in self.phases.into_iter().enumerate() {
            let prefix = format!("phases[{i}].");
            let Some(plan) = errors.take(phase.parse(&prefix)) else {
                continue;
            };
            if let Some(campaign) = days {
                let others: Vec<Neighbour<'_>> = phases.iter().map(PhasePlan::neighbour).collect();
                let found = check_phase(&prefix, plan.days, &plan.admission, campaign, &others);
                if !found.is_empty() {
                    errors.take::<()>(Err(found));
                }
            }
            // Kept even when wrong, so later phases are checked against it.
            phases.push(plan);
        }
        match (name, description, days) {
            (Some(name), Some(description), Some(days)) if errors.is_empty() => {
                phases.sort_by_key(|p| p.days.starts_on);
                Ok(CampaignPlan {
                    name,
                    description: description.unwrap_or_default(),
                    days,
                    phases,
                })
            }
            _ => Err(errors),
        }
    }
}

impl PhaseRequest {
    /// Checks the phase on its own (text, dates); its place in the campaign
    /// is checked with [`check_phase`].
    pub fn parse(self, prefix: &str) -> Result<PhasePlan, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.take(text::required(
            &format!("{prefix}name"),
            &self.name,
            TITLE_MAX,
        ));
        let description = errors.take(text::optional(
            &format!("{prefix}description"),
            self.description.as_deref(),
            DESCRIPTION_MAX,
        ));
        let days = errors.take(Days::parse(prefix, self.starts_on, self.ends_on));
        match (name, description, days) {
            (Some(name), Some(description), Some(days)) if errors.is_empty() => Ok(PhasePlan {
                name,
                description: description.unwrap_or_default(),
                days,
                admission: Admission {
                    open_kinds: self
                        .open_kinds
                        .unwrap_or_else(|| SubmissionKind::ALL.to_vec()),
                    deadlines: self.deadlines,
                },
            }),
            _ => Err(errors),
        }
    }
}

impl PhasePlan {
    pub fn neighbour(&self) -> Neighbour<'_> {
        Neighbour {
            name: &self.name,
            days: self.days,
        }
    }
}

/// Changes to a campaign; absent fields stay. New dates must still hold
/// every phase.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ends_on": "2027-01-31"}))]
pub struct CampaignPatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Empty clears it.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
}

/// Changes to a phase; absent fields stay, `deadlines` is replaced whole.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"open_kinds": ["visit", "mediation_report"], "deadlines": {}}))]
pub struct PhasePatch {
    #[schema(max_length = 100)]
    pub name: Option<String>,
    /// Empty clears it.
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub open_kinds: Option<Vec<SubmissionKind>>,
    pub deadlines: Option<KindDeadlines>,
}

impl PhasePatch {
    /// The phase as it will be: `current` with the patch applied, checked on
    /// its own.
    pub fn apply(self, current: &campaign_phase::Model) -> Result<PhasePlan, FieldErrors> {
        let admission = admission_of(current);
        PhaseRequest {
            name: self.name.unwrap_or_else(|| current.name.clone()),
            description: Some(
                self.description
                    .unwrap_or_else(|| current.description.clone()),
            ),
            starts_on: self.starts_on.unwrap_or(current.starts_on),
            ends_on: self.ends_on.unwrap_or(current.ends_on),
            open_kinds: Some(self.open_kinds.unwrap_or(admission.open_kinds)),
            deadlines: self.deadlines.unwrap_or(admission.deadlines),
        }
        .parse("")
    }
}

/// What a stored phase takes (unreadable columns take everything).
pub fn admission_of(phase: &campaign_phase::Model) -> Admission {
    Admission {
        open_kinds: serde_json::from_value(phase.open_kinds.clone())
            .unwrap_or_else(|_| SubmissionKind::ALL.to_vec()),
        deadlines: serde_json::from_value(phase.deadlines.clone()).unwrap_or_default(),
    }
}

pub fn days_of(phase: &campaign_phase::Model) -> Days {
    Days {
        starts_on: phase.starts_on,
        ends_on: phase.ends_on,
    }
}

/// A phase of a campaign.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PhaseView {
    pub id: Uuid,
    pub campaign_id: Uuid,
    /// 1 for the first phase, by date.
    pub position: usize,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    /// The last day, inclusive.
    pub ends_on: NaiveDate,
    /// The instants the phase covers: local midnight starting `starts_on`,
    /// and the one after `ends_on` (exclusive) — what stats count with
    /// `phase_id`, as `from` and `to`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Where the phase stands today, in the township's time zone.
    pub status: PhaseStatus,
    /// The submission kinds taken while this phase is current.
    pub open_kinds: Vec<SubmissionKind>,
    /// The last day each kind is taken in the phase, where one is set.
    pub deadlines: KindDeadlines,
}

impl PhaseView {
    pub fn of(phase: campaign_phase::Model, position: usize, today: NaiveDate) -> Self {
        let admission = admission_of(&phase);
        PhaseView {
            id: phase.id,
            campaign_id: phase.campaign_id,
            position,
            status: days_of(&phase).status_on(today),
            name: phase.name,
            description: phase.description,
            starts_on: phase.starts_on,
            ends_on: phase.ends_on,
            from: phase.starts_at,
            to: phase.ends_at,
            open_kinds: admission.open_kinds,
            deadlines: admission.deadlines,
        }
    }
}

/// A campaign with its phases in order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CampaignView {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub starts_on: NaiveDate,
    /// The last day, inclusive.
    pub ends_on: NaiveDate,
    /// Where the campaign stands today, in the township's time zone.
    pub status: PhaseStatus,
    /// The phase of today, if the campaign is in one.
    pub current_phase_id: Option<Uuid>,
    pub phases: Vec<PhaseView>,
    pub created_by: Uuid,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every change to the campaign or its phases.
    pub version: i32,
}

impl CampaignView {
    /// `phases` in date order.
    pub fn of(c: campaign::Model, phases: Vec<campaign_phase::Model>, today: NaiveDate) -> Self {
        let phases: Vec<PhaseView> = phases
            .into_iter()
            .enumerate()
            .map(|(i, p)| PhaseView::of(p, i + 1, today))
            .collect();
        let days = Days {
            starts_on: c.starts_on,
            ends_on: c.ends_on,
        };
        CampaignView {
            id: c.id,
            name: c.name,
            description: c.description,
            starts_on: c.starts_on,
            ends_on: c.ends_on,
            status: days.status_on(today),
            current_phase_id: phases
                .iter()
                .find(|p| p.status == PhaseStatus::Current)
                .map(|p| p.id),
            phases,
            created_by: c.created_by,
            created_at: c.created_at,
            updated_at: c.updated_at,
            version: c.version,
        }
    }
}

/// The campaign phase of today, as `/me` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CurrentPhase {
    pub campaign_name: String,
    #[serde(flatten)]
    pub phase: PhaseView,
}

/// Today in the township's zone.
pub fn today_in(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    crate::domain::buckets::local_date(now, tz)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn phase(name: &str, from: &str, to: &str) -> PhaseRequest {
        PhaseRequest {
            name: name.into(),
            description: None,
            starts_on: day(from),
            ends_on: day(to),
            open_kinds: None,
            deadlines: KindDeadlines::default(),
        }
    }

    fn fields(errors: FieldErrors) -> Vec<(String, &'static str)> {
        errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn each_bad_phase_is_named_by_its_index() {
        let request = NewCampaignRequest {
            name: "创先争优".into(),
            description: None,
            starts_on: day("2026-06-01"),
            ends_on: day("2026-12-31"),
            phases: vec![
                phase("动员部署", "2026-06-01", "2026-06-30"),
                phase("组织实施", "2026-06-30", "2026-11-30"),
                phase(" ", "2026-12-10", "2026-12-01"),
                phase("总结完善", "2026-12-01", "2027-01-31"),
            ],
        };
        assert_eq!(
            fields(request.parse().unwrap_err()),
            [
                ("phases[1].starts_on".to_owned(), "overlaps"),
                ("phases[2].name".to_owned(), "required"),
                ("phases[2].ends_on".to_owned(), "before_starts_on"),
                ("phases[3].ends_on".to_owned(), "outside_campaign"),
            ]
        );
    }

    #[test]
    fn phases_come_out_in_date_order_and_take_everything_by_default() {
        let request = NewCampaignRequest {
            name: "创先争优".into(),
            description: Some("  ".into()),
            starts_on: day("2026-06-01"),
            ends_on: day("2026-12-31"),
            phases: vec![
                phase("总结完善", "2026-12-01", "2026-12-31"),
                phase("动员部署", "2026-06-01", "2026-06-30"),
            ],
        };
        let plan = request.parse().unwrap();
        assert_eq!(plan.description, "");
        assert_eq!(plan.phases[0].name, "动员部署");
        assert_eq!(plan.phases[1].admission.open_kinds, SubmissionKind::ALL);
    }
}
