//! Mediation report request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::core::review::ReviewView;
use crate::domain::mediation::{
    DisputeCategory, EscalationAction, EscalationStatus, MediationOutcome, RiskLevel,
    follow_up_overdue,
};
use crate::domain::personal::{mask, parse_phone};
use crate::domain::text::{self, COMMENT_MAX, DESCRIPTION_MAX, NAME_MAX, SUMMARY_MAX, TITLE_MAX};
use crate::domain::visit::client_time;
use crate::domain::{CoordSystem, FieldErrors, Location, ReviewStatus};
use crate::entities::{mediation_follow_up, mediation_report};

/// Most parties to one dispute.
pub const MAX_PARTIES: usize = 20;
/// Most households one report names.
pub const MAX_HOUSEHOLDS: usize = 20;
pub use crate::domain::MAX_PHOTOS;

/// A party to the dispute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Party {
    #[schema(max_length = 50, example = "李某")]
    pub name: String,
    /// e.g. 申请人, 被申请人, 村民小组长.
    #[schema(max_length = 50)]
    pub role: Option<String>,
    /// Masked (`138****1234`) in lists and for readers who neither wrote the
    /// report nor manage its branch.
    pub phone: Option<String>,
}

/// Where an escalated report stands with the township, and who moved it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EscalationView {
    pub status: EscalationStatus,
    pub reason: Option<String>,
    pub escalated_by: Option<Uuid>,
    pub escalated_at: DateTime<Utc>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// The township's latest note.
    pub note: Option<String>,
}

/// A mediation report as SPEC §5 shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediationReportView {
    pub id: Uuid,
    pub branch_id: Uuid,
    /// The author.
    pub member_id: Uuid,
    pub title: String,
    pub category: DisputeCategory,
    pub parties: Vec<Party>,
    pub description: String,
    /// The phone's time of the dispute or its mediation.
    pub occurred_at: DateTime<Utc>,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    pub location: Option<Location>,
    pub household_ids: Vec<Uuid>,
    pub process: String,
    /// The outcome as reported.
    pub outcome: MediationOutcome,
    pub agreement: Option<String>,
    pub risk_level: RiskLevel,
    pub photo_ids: Vec<Uuid>,
    pub status: ReviewStatus,
    /// The latest decision; `null` while pending.
    pub review: Option<ReviewView>,
    /// Whether it has gone to the township (上报).
    pub escalated: bool,
    /// `null` unless escalated.
    pub escalation: Option<EscalationView>,
    /// The outcome of the latest follow-up (回访), else the reported one.
    pub latest_outcome: MediationOutcome,
    pub follow_up_count: i32,
    /// When the next follow-up is due; `null` once the dispute is settled.
    pub follow_up_due_at: Option<DateTime<Utc>>,
    /// Whether that time has passed.
    pub follow_up_overdue: bool,
    /// Bumped by every change.
    pub version: i32,
    /// When it last entered the review queue.
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MediationReportView {
    /// The report as of `now` (whether its follow-up is overdue).
    pub fn at(r: mediation_report::Model, now: DateTime<Utc>) -> Self {
        let status = ReviewStatus::parse(&r.status).unwrap_or(ReviewStatus::Pending);
        let review = ReviewView::of(
            status,
            r.reviewer_id,
            r.review_decision.as_deref(),
            r.review_comment.clone(),
            r.reviewed_at,
        );
        let escalation = match (
            r.escalation_status
                .as_deref()
                .and_then(EscalationStatus::parse),
            r.escalated_at,
        ) {
            (Some(status), Some(escalated_at)) => Some(EscalationView {
                status,
                reason: r.escalation_reason,
                escalated_by: r.escalated_by,
                escalated_at,
                acknowledged_by: r.acknowledged_by,
                acknowledged_at: r.acknowledged_at,
                resolved_by: r.resolved_by,
                resolved_at: r.resolved_at,
                note: r.escalation_note,
            }),
            _ => None,
        };
        let location = match (r.lat, r.lng) {
            (Some(lat), Some(lng)) => Some(Location {
                lat,
                lng,
                accuracy_m: r.accuracy_m,
                coord_system: r
                    .coord_system
                    .as_deref()
                    .and_then(CoordSystem::parse)
                    .unwrap_or_default(),
            }),
            _ => None,
        };
        let outcome = MediationOutcome::parse(&r.outcome).unwrap_or(MediationOutcome::Unresolved);
        MediationReportView {
            id: r.id,
            branch_id: r.branch_id,
            member_id: r.member_id,
            title: r.title,
            category: DisputeCategory::parse(&r.category).unwrap_or(DisputeCategory::Other),
            parties: serde_json::from_value(r.parties).unwrap_or_default(),
            description: r.description,
            occurred_at: r.occurred_at,
            received_at: r.received_at,
            location,
            household_ids: serde_json::from_value(r.household_ids).unwrap_or_default(),
            process: r.process,
            outcome,
            agreement: r.agreement,
            risk_level: RiskLevel::parse(&r.risk_level).unwrap_or(RiskLevel::Medium),
            photo_ids: serde_json::from_value(r.photo_ids).unwrap_or_default(),
            status,
            review,
            escalated: escalation.is_some(),
            escalation,
            latest_outcome: MediationOutcome::parse(&r.latest_outcome).unwrap_or(outcome),
            follow_up_count: r.follow_up_count,
            follow_up_due_at: r.follow_up_due_at,
            follow_up_overdue: follow_up_overdue(r.follow_up_due_at, now),
            version: r.version,
            submitted_at: r.submitted_at,
            updated_at: r.updated_at,
        }
    }

    /// The same report with the parties' phones masked.
    pub fn masked(mut self) -> Self {
        for party in &mut self.parties {
            party.phone = party.phone.as_deref().map(mask);
        }
        self
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "title": "张家与李家宅基地边界纠纷",
    "category": "land",
    "parties": [{"name": "张某", "role": "申请人", "phone": "13800001111"}, {"name": "李某", "role": "被申请人"}],
    "description": "两户因院墙位置发生争执，多次口角。",
    "occurred_at": "2026-11-27T15:00:00+08:00",
    "location": {"lat": 30.2741, "lng": 120.1551, "coord_system": "gcj02"},
    "household_ids": [],
    "process": "邀请村民小组长到场，查阅原始宅基地登记，双方协商。",
    "outcome": "resolved",
    "agreement": "以登记界址为准，李家院墙后移 0.3 米。",
    "risk_level": "low",
    "photo_ids": []
}))]
pub struct NewReportRequest {
    #[schema(max_length = 100)]
    pub title: String,
    pub category: DisputeCategory,
    /// 1–20 parties.
    #[schema(min_items = 1, max_items = 20)]
    pub parties: Vec<Party>,
    #[schema(max_length = 5000)]
    pub description: String,
    /// The phone's time: at most 30 days ago, at most 10 minutes ahead.
    pub occurred_at: DateTime<Utc>,
    pub location: Option<Location>,
    /// Households of the author's branch the dispute concerns.
    #[serde(default)]
    #[schema(max_items = 20)]
    pub household_ids: Vec<Uuid>,
    /// What was done to mediate (调解过程).
    #[schema(max_length = 5000)]
    pub process: String,
    pub outcome: MediationOutcome,
    /// The agreement reached (调解协议); required when `resolved`.
    #[schema(max_length = 2000)]
    pub agreement: Option<String>,
    pub risk_level: RiskLevel,
    /// Uploads made by the author (`POST /api/v1/uploads`).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub photo_ids: Vec<Uuid>,
}

/// Changes to a returned report; absent fields stay. Editing sends it back to `pending`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ReportPatch {
    #[schema(max_length = 100)]
    pub title: Option<String>,
    pub category: Option<DisputeCategory>,
    pub parties: Option<Vec<Party>>,
    #[schema(max_length = 5000)]
    pub description: Option<String>,
    pub occurred_at: Option<DateTime<Utc>>,
    /// `null` removes the location.
    #[serde(default, deserialize_with = "crate::platform::http::extract::nullable")]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    pub household_ids: Option<Vec<Uuid>>,
    #[schema(max_length = 5000)]
    pub process: Option<String>,
    pub outcome: Option<MediationOutcome>,
    /// `null` or `""` removes it (not allowed while `resolved`).
    #[serde(default, deserialize_with = "crate::platform::http::extract::nullable")]
    #[schema(value_type = Option<String>, max_length = 2000)]
    pub agreement: Option<Option<String>>,
    pub risk_level: Option<RiskLevel>,
    pub photo_ids: Option<Vec<Uuid>>,
}

/// The checked content of a report (new, or after an edit).
#[derive(Debug, Clone)]
pub struct ReportContent {
    pub title: String,
    pub category: DisputeCategory,
    pub parties: Vec<Party>,
    pub description: String,
    pub occurred_at: DateTime<Utc>,
    pub location: Option<Location>,
    pub household_ids: Vec<Uuid>,
    pub process: String,
    pub outcome: MediationOutcome,
    pub agreement: Option<String>,
    pub risk_level: RiskLevel,
    pub photo_ids: Vec<Uuid>,
}

impl NewReportRequest {
    pub fn parse(self, now: DateTime<Utc>) -> Result<ReportContent, FieldErrors> {
        let draft = Draft {
            title: self.title,
            category: self.category,
            parties: self.parties,
            description: self.description,
            occurred_at: self.occurred_at,
            location: self.location,
            household_ids: self.household_ids,
            process: self.process,
            outcome: self.outcome,
            agreement: self.agreement,
            risk_level: self.risk_level,
            photo_ids: self.photo_ids,
        };
        draft.parse(now, true)
    }
}

impl ReportPatch {
    /// The content after applying this patch to `current`. A changed
    /// `occurred_at` must again fall in the client-time window.
    pub fn apply(
        self,
        current: ReportContent,
        now: DateTime<Utc>,
    ) -> Result<ReportContent, FieldErrors> {
        let time_changed = self.occurred_at.is_some_and(|at| at != current.occurred_at);
        let draft = Draft {
            title: self.title.unwrap_or(current.title),
            category: self.category.unwrap_or(current.category),
            parties: self.parties.unwrap_or(current.parties),
            description: self.description.unwrap_or(current.description),
            occurred_at: self.occurred_at.unwrap_or(current.occurred_at),
            location: self.location.unwrap_or(current.location),
            household_ids: self.household_ids.unwrap_or(current.household_ids),
            process: self.process.unwrap_or(current.process),
            outcome: self.outcome.unwrap_or(current.outcome),
            agreement: self.agreement.unwrap_or(current.agreement),
            risk_level: self.risk_level.unwrap_or(current.risk_level),
            photo_ids: self.photo_ids.unwrap_or(current.photo_ids),
        };
        draft.parse(now, time_changed)
    }
}

impl From<&MediationReportView> for ReportContent {
    fn from(r: &MediationReportView) -> Self {
        ReportContent {
            title: r.title.clone(),
            category: r.category,
            parties: r.parties.clone(),
            description: r.description.clone(),
            occurred_at: r.occurred_at,
            location: r.location,
            household_ids: r.household_ids.clone(),
            process: r.process.clone(),
            outcome: r.outcome,
            agreement: r.agreement.clone(),
            risk_level: r.risk_level,
            photo_ids: r.photo_ids.clone(),
        }
    }
}

/// A report's fields before checking, from a request or a patched report.
struct Draft {
    title: String,
    category: DisputeCategory,
    parties: Vec<Party>,
    description: String,
    occurred_at: DateTime<Utc>,
    location: Option<Location>,
    household_ids: Vec<Uuid>,
    process: String,
    outcome: MediationOutcome,
    agreement: Option<String>,
    risk_level: RiskLevel,
    photo_ids: Vec<Uuid>,
}

impl Draft {
    /// Every field checked, every problem named; `check_time` is false for an
    /// edit that keeps the original `occurred_at` (it may since have aged).
    fn parse(self, now: DateTime<Utc>, check_time: bool) -> Result<ReportContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let title = errors.take(text::required("title", &self.title, TITLE_MAX));
        let parties = errors.take(parse_parties(self.parties));
        let description = errors.take(text::required(
            "description",
            &self.description,
            DESCRIPTION_MAX,
        ));
        let occurred_at = if check_time {
            errors.take(client_time("occurred_at", self.occurred_at, now))
        } else {
            Some(self.occurred_at)
        };
        let location = match self.location {
            Some(at) => errors.take(Location::parse("location", at)).map(Some),
            None => Some(None),
        };
        let household_ids = errors.take(unique_ids(
            "household_ids",
            self.household_ids,
            MAX_HOUSEHOLDS,
        ));
        let process = errors.take(text::required("process", &self.process, DESCRIPTION_MAX));
        let agreement = errors.take(text::optional(
            "agreement",
            self.agreement.as_deref(),
            SUMMARY_MAX,
        ));
        if self.outcome == MediationOutcome::Resolved && matches!(agreement, Some(None)) {
            errors.add(
                "agreement",
                "required",
                "调解成功时须填写调解协议",
                "an agreement is required when the outcome is resolved",
            );
        }
        let photo_ids = errors.take(unique_ids("photo_ids", self.photo_ids, MAX_PHOTOS));
        match (
            title,
            parties,
            description,
            occurred_at,
            location,
            household_ids,
            process,
            agreement,
            photo_ids,
        ) {
            (
                Some(title),
                Some(parties),
                Some(description),
                Some(occurred_at),
                Some(location),
                Some(household_ids),
                Some(process),
                Some(agreement),
                Some(photo_ids),
            ) if errors.is_empty() => Ok(ReportContent {
                title,
                category: self.category,
                parties,
                description,
                occurred_at,
                location,
                household_ids,
                process,
                outcome: self.outcome,
                agreement,
                risk_level: self.risk_level,
                photo_ids,
            }),
            _ => Err(errors),
        }
    }
}

fn parse_parties(parties: Vec<Party>) -> Result<Vec<Party>, FieldErrors> {
    if parties.is_empty() || parties.len() > MAX_PARTIES {
        return Err(FieldErrors::single(
            "parties",
            "count",
            format!("当事人须为 1 到 {MAX_PARTIES} 人"),
            format!("between 1 and {MAX_PARTIES} parties"),
        ));
    }
    let mut errors = FieldErrors::new();
    let parsed: Vec<Party> = parties
        .into_iter()
        .enumerate()
        .filter_map(|(i, party)| {
            let name = errors.take(text::required(
                &format!("parties[{i}].name"),
                &party.name,
                NAME_MAX,
            ));
            let role = errors.take(text::optional(
                &format!("parties[{i}].role"),
                party.role.as_deref(),
                NAME_MAX,
            ));
            let phone = match party.phone.as_deref().map(str::trim) {
                None | Some("") => Some(None),
                Some(phone) => errors
                    .take(parse_phone(&format!("parties[{i}].phone"), phone))
                    .map(Some),
            };
            Some(Party {
                name: name?,
                role: role?,
                phone: phone?,
            })
        })
        .collect();
    errors.finish(|| parsed)
}

/// At most `max` ids, repeats dropped, order kept.
fn unique_ids(field: &str, ids: Vec<Uuid>, max: usize) -> Result<Vec<Uuid>, FieldErrors> {
    if ids.len() > max {
        return Err(FieldErrors::single(
            field,
            "too_many",
            format!("{field} 最多 {max} 项"),
            format!("at most {max} items in {field}"),
        ));
    }
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(unique)
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "双方矛盾激化，需乡综治中心协调"}))]
pub struct EscalateRequest {
    /// Why the township must step in.
    #[schema(max_length = 500)]
    pub reason: String,
}

impl EscalateRequest {
    pub fn parse(self) -> Result<String, FieldErrors> {
        text::required("reason", &self.reason, COMMENT_MAX)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"action": "acknowledge", "note": "已转乡综治中心，三日内组织联合调解"}))]
pub struct EscalationRequest {
    pub action: EscalationAction,
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"visited_at": "2026-12-04T10:00:00+08:00", "note": "双方已按协议履行，关系缓和", "outcome": "resolved", "satisfaction": 5}))]
pub struct NewFollowUpRequest {
    /// The phone's time of the follow-up visit.
    pub visited_at: DateTime<Utc>,
    #[schema(max_length = 2000)]
    pub note: String,
    /// Where the dispute stands now.
    pub outcome: MediationOutcome,
    /// The parties' satisfaction, 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub satisfaction: Option<i64>,
}

/// A checked follow-up.
#[derive(Debug, Clone)]
pub struct FollowUpContent {
    pub visited_at: DateTime<Utc>,
    pub note: String,
    pub outcome: MediationOutcome,
    pub satisfaction: Option<i16>,
}

impl NewFollowUpRequest {
    pub fn parse(self, now: DateTime<Utc>) -> Result<FollowUpContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let visited_at = errors.take(client_time("visited_at", self.visited_at, now));
        let note = errors.take(text::required("note", &self.note, SUMMARY_MAX));
        let satisfaction = match self.satisfaction {
            None => Some(None),
            Some(score @ 1..=5) => i16::try_from(score).ok().map(Some),
            Some(_) => {
                errors.add(
                    "satisfaction",
                    "out_of_range",
                    "满意度须为 1 到 5",
                    "satisfaction must be between 1 and 5",
                );
                None
            }
        };
        match (visited_at, note, satisfaction) {
            (Some(visited_at), Some(note), Some(satisfaction)) if errors.is_empty() => {
                Ok(FollowUpContent {
                    visited_at,
                    note,
                    outcome: self.outcome,
                    satisfaction,
                })
            }
            _ => Err(errors),
        }
    }
}

/// A follow-up visit (回访) on a report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FollowUpView {
    pub id: Uuid,
    pub report_id: Uuid,
    pub author_id: Uuid,
    pub visited_at: DateTime<Utc>,
    pub note: String,
    pub outcome: MediationOutcome,
    pub satisfaction: Option<i16>,
    pub created_at: DateTime<Utc>,
}

impl From<mediation_follow_up::Model> for FollowUpView {
    fn from(f: mediation_follow_up::Model) -> Self {
        FollowUpView {
            id: f.id,
            report_id: f.report_id,
            author_id: f.author_id,
            visited_at: f.visited_at,
            note: f.note,
            outcome: MediationOutcome::parse(&f.outcome).unwrap_or(MediationOutcome::Unresolved),
            satisfaction: f.satisfaction,
            created_at: f.created_at,
        }
    }
}

/// Whether a report's next follow-up is due or overdue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FollowUpState {
    /// Not settled: a follow-up is due (overdue or not).
    Due,
    /// The due time has passed.
    Overdue,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportFilter {
    pub status: Option<ReviewStatus>,
    pub category: Option<DisputeCategory>,
    pub outcome: Option<MediationOutcome>,
    pub risk_level: Option<RiskLevel>,
    pub escalated: Option<bool>,
    pub escalation_status: Option<EscalationStatus>,
    pub branch_id: Option<Uuid>,
    pub member_id: Option<Uuid>,
    /// Reports with `occurred_at` at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Reports with `occurred_at` before this time.
    pub to: Option<DateTime<Utc>>,
    #[param(inline)]
    pub follow_up: Option<FollowUpState>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EscalationFilter {
    /// Default: every status, open first.
    pub status: Option<EscalationStatus>,
    pub branch_id: Option<Uuid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(outcome: MediationOutcome, agreement: Option<&str>) -> NewReportRequest {
        NewReportRequest {
            title: "宅基地纠纷".into(),
            category: DisputeCategory::Land,
            parties: vec![Party {
                name: "张某".into(),
                role: None,
                phone: Some("13800001111".into()),
            }],
            description: "院墙位置争执".into(),
            occurred_at: crate::platform::db::now(),
            location: None,
            household_ids: vec![],
            process: "现场调解".into(),
            outcome,
            agreement: agreement.map(str::to_owned),
            risk_level: RiskLevel::Low,
            photo_ids: vec![],
        }
    }

    fn fields(errors: FieldErrors) -> Vec<String> {
        errors.into_vec().into_iter().map(|e| e.field).collect()
    }

    #[test]
    fn resolved_needs_an_agreement() {
        let now = crate::platform::db::now();
        let err = request(MediationOutcome::Resolved, Some("  "))
            .parse(now)
            .unwrap_err();
        assert_eq!(fields(err), ["agreement"]);
        assert!(
            request(MediationOutcome::Unresolved, None)
                .parse(now)
                .is_ok()
        );
        assert!(
            request(MediationOutcome::Resolved, Some("后移院墙"))
                .parse(now)
                .is_ok()
        );
    }

    #[test]
    fn every_bad_party_field_is_named() {
        let mut bad = request(MediationOutcome::Unresolved, None);
        bad.parties = vec![
            Party {
                name: " ".into(),
                role: Some("x".repeat(51)),
                phone: Some("123".into()),
            },
            Party {
                name: "李某".into(),
                role: None,
                phone: Some(String::new()),
            },
        ];
        let err = bad.parse(crate::platform::db::now()).unwrap_err();
        assert_eq!(
            fields(err),
            ["parties[0].name", "parties[0].role", "parties[0].phone"]
        );
    }
}
