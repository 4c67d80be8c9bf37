//! Assessment request and response bodies.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::FieldErrors;
use crate::domain::assessment::{
    BRANCH_CRITERIA, Component, ComponentKind, ComponentScore, MEMBER_CRITERIA, Normalisation,
    Subject, Weight, parse_components, parse_marks,
};
use crate::domain::text::{self, COMMENT_MAX, SUMMARY_MAX};
use crate::entities::{assessment, assessment_appeal, assessment_result, assessment_snapshot};

/// One component as sent: its kind and its weight in percent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct ComponentRequest {
    /// E.g. `representative_ballot`, `pledge_fulfilment`, `committee_rating`.
    pub kind: String,
    /// Percent of the total, more than 0, at most two decimals; a list's
    /// weights sum to exactly 100.
    pub weight: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "year": 2026,
    "branch_components": [
        {"kind": "representative_ballot", "weight": 40},
        {"kind": "pledge_fulfilment", "weight": 30},
        {"kind": "committee_rating", "weight": 30}
    ],
    "member_components": [
        {"kind": "secretary_rating", "weight": 40},
        {"kind": "peer_rating", "weight": 40},
        {"kind": "member_visits", "weight": 20}
    ]
}))]
pub struct NewAssessmentRequest {
    pub year: i32,
    /// Branch components: `representative_ballot` (党员代表测评, 五个好),
    /// `pledge_fulfilment` (任职承诺), `committee_rating` (乡党委综合评定),
    /// `visit_coverage`, `mediation_resolution`, `review_turnaround`,
    /// `spot_check_confirmation`.
    pub branch_components: Vec<ComponentRequest>,
    /// Member components: `secretary_rating` and `peer_rating` (五个模范),
    /// `member_visits`.
    pub member_components: Vec<ComponentRequest>,
}

/// A checked scheme.
#[derive(Debug, Clone)]
pub struct Scheme {
    pub year: i32,
    pub branch: Vec<Component>,
    pub member: Vec<Component>,
}

fn pairs(sent: &[ComponentRequest]) -> Vec<(String, f64)> {
    sent.iter().map(|c| (c.kind.clone(), c.weight)).collect()
}

impl NewAssessmentRequest {
    pub fn parse(self) -> Result<Scheme, FieldErrors> {
        let mut errors = FieldErrors::new();
        let year = errors.take(crate::domain::pledge::parse_year(self.year));
        let branch = errors.take(parse_components(
            "branch_components",
            Subject::Branch,
            &pairs(&self.branch_components),
        ));
        let member = errors.take(parse_components(
            "member_components",
            Subject::Member,
            &pairs(&self.member_components),
        ));
        match (year, branch, member) {
            (Some(year), Some(branch), Some(member)) => Ok(Scheme {
                year,
                branch,
                member,
            }),
            _ => Err(errors),
        }
    }
}

/// A component as stored with a scheme or snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredComponent {
    pub kind: ComponentKind,
    pub weight_hundredths: u32,
}

pub fn store(components: &[Component]) -> serde_json::Value {
    serde_json::json!(
        components
            .iter()
            .map(|c| StoredComponent {
                kind: c.kind,
                weight_hundredths: c.weight.hundredths(),
            })
            .collect::<Vec<_>>()
    )
}

pub fn stored(value: &serde_json::Value) -> Vec<Component> {
    serde_json::from_value::<Vec<StoredComponent>>(value.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|c| Component {
            kind: c.kind,
            weight: Weight::from_hundredths(i64::from(c.weight_hundredths)),
        })
        .collect()
}

/// A component of a scheme, with how it is normalised.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComponentView {
    pub kind: ComponentKind,
    pub label: String,
    /// Percent of the total.
    pub weight: f64,
    pub normalisation: Normalisation,
    pub rule: String,
}

pub fn component_views(value: &serde_json::Value) -> Vec<ComponentView> {
    stored(value)
        .into_iter()
        .map(|c| ComponentView {
            kind: c.kind,
            label: c.kind.label().to_owned(),
            weight: c.weight.percent(),
            normalisation: c.kind.normalisation(),
            rule: c.kind.normalisation().rule().to_owned(),
        })
        .collect()
}

/// A year's assessment scheme (考核方案).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: Uuid,
    pub year: i32,
    pub branch_components: Vec<ComponentView>,
    pub member_components: Vec<ComponentView>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<assessment::Model> for AssessmentView {
    fn from(a: assessment::Model) -> Self {
        AssessmentView {
            id: a.id,
            year: a.year,
            branch_components: component_views(&a.branch_components),
            member_components: component_views(&a.member_components),
            version: a.version,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommitteeRatingRequest {
    pub branch_id: Uuid,
    /// 0 to 100, at most two decimals.
    pub points: f64,
    #[schema(max_length = 500)]
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"ratings": [{"branch_id": "0193a6b0-0000-7000-8000-000000000001", "points": 90, "comment": "班子团结，工作扎实"}]}))]
pub struct CommitteeRatingsRequest {
    /// The township committee's rating (乡党委综合评定) of each branch named;
    /// one already entered is replaced.
    pub ratings: Vec<CommitteeRatingRequest>,
}

/// A checked committee rating.
#[derive(Debug, Clone)]
pub struct CommitteeRating {
    pub branch_id: Uuid,
    pub points_hundredths: i32,
    pub comment: Option<String>,
}

impl CommitteeRatingsRequest {
    pub fn parse(self) -> Result<Vec<CommitteeRating>, FieldErrors> {
        let mut errors = FieldErrors::new();
        if self.ratings.is_empty() {
            errors.add(
                "ratings",
                "required",
                "ratings 不能为空",
                "ratings must not be empty",
            );
        }
        let mut parsed = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.ratings.into_iter().enumerate() {
            let hundredths = (r.points * 100.0).round();
            if !r.points.is_finite() || !(0.0..=10_000.0).contains(&hundredths) {
                errors.add(
                    format!("ratings[{i}].points"),
                    "out_of_range",
                    "评定分须在 0 到 100 之间",
                    "points are 0 to 100",
                );
            }
            if !seen.insert(r.branch_id) {
                errors.add(
                    format!("ratings[{i}].branch_id"),
                    "duplicate",
                    "同一支部重复评定",
                    "this branch appears twice",
                );
            }
            let comment = errors.take(
                text::optional("comment", r.comment.as_deref(), COMMENT_MAX)
                    .map_err(|e| e.nested(&format!("ratings[{i}]"))),
            );
            parsed.push(CommitteeRating {
                branch_id: r.branch_id,
                points_hundredths: hundredths as i32,
                comment: comment.flatten(),
            });
        }
        errors.finish(|| parsed)
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommitteeRatingView {
    pub branch_id: Uuid,
    pub points: f64,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"closes_at": "2026-12-20T18:00:00+08:00"}))]
pub struct NewRoundRequest {
    /// When ballots may first be cast; now when absent.
    pub opens_at: Option<DateTime<Utc>>,
    /// When the round closes: after `opens_at` and in the future.
    pub closes_at: DateTime<Utc>,
}

impl NewRoundRequest {
    pub fn parse(self, now: DateTime<Utc>) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldErrors> {
        let opens_at = self.opens_at.unwrap_or(now).trunc_subsecs(6);
        let closes_at = self.closes_at.trunc_subsecs(6);
        if closes_at <= now || closes_at <= opens_at {
            return Err(FieldErrors::single(
                "closes_at",
                "not_after_opening",
                "截止时间须晚于开始时间和当前时间",
                "closes_at must be after opens_at and in the future",
            ));
        }
        Ok((opens_at, closes_at))
    }
}

/// A ballot round (测评轮次).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RoundView {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    /// Ballots may be cast now.
    pub open: bool,
    /// Whether the caller has cast their ballot in it.
    pub voted: bool,
    /// Ballots cast (township admins: all; secretaries: their branch's;
    /// members: not shown).
    pub ballots_cast: Option<u64>,
}

/// One member's marks on the 五个模范.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MemberRatingRequest {
    pub member_id: Uuid,
    /// `study`, `policy`, `service`, `dedication`, `discipline`: each 1 to 5.
    #[schema(value_type = Object)]
    pub scores: HashMap<String, i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "branch_id": "0193a6b0-0000-7000-8000-000000000001",
    "scores": {"leadership": 5, "membership": 4, "mechanism": 4, "performance": 5, "reputation": 4},
    "member_ratings": [{"member_id": "0193a6b0-0000-7000-8000-000000000002",
        "scores": {"study": 5, "policy": 5, "service": 4, "dedication": 5, "discipline": 5}}]
}))]
pub struct BallotRequest {
    /// The caller's own branch.
    pub branch_id: Uuid,
    /// The branch on the 五个好 — `leadership` (领导班子好), `membership`
    /// (党员队伍好), `mechanism` (工作机制好), `performance` (工作业绩好),
    /// `reputation` (群众反映好) — each 1 to 5.
    #[schema(value_type = Object)]
    pub scores: HashMap<String, i32>,
    /// Fellow members of the branch on the 五个模范 (never oneself); a
    /// secretary's marks count as the secretary's rating, a member's as peers'.
    #[serde(default)]
    pub member_ratings: Vec<MemberRatingRequest>,
}

/// A checked ballot.
#[derive(Debug, Clone)]
pub struct Ballot {
    pub branch_id: Uuid,
    pub branch_marks: [i16; 5],
    pub member_marks: Vec<(Uuid, [i16; 5])>,
}

impl BallotRequest {
    pub fn parse(self) -> Result<Ballot, FieldErrors> {
        let mut errors = FieldErrors::new();
        let branch_marks = errors.take(parse_marks("scores", &BRANCH_CRITERIA, &self.scores));
        let mut member_marks = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, rating) in self.member_ratings.into_iter().enumerate() {
            if !seen.insert(rating.member_id) {
                errors.add(
                    format!("member_ratings[{i}].member_id"),
                    "duplicate",
                    "同一党员重复评价",
                    "this member appears twice",
                );
            }
            let field = format!("member_ratings[{i}].scores");
            if let Some(marks) = errors.take(parse_marks(&field, &MEMBER_CRITERIA, &rating.scores))
            {
                member_marks.push((rating.member_id, marks));
            }
        }
        match branch_marks {
            Some(branch_marks) if errors.is_empty() => Ok(Ballot {
                branch_id: self.branch_id,
                branch_marks,
                member_marks,
            }),
            _ => Err(errors),
        }
    }
}

/// What the voter hears back: that the ballot counted, never whose it is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BallotReceipt {
    pub round_id: Uuid,
    pub branch_id: Uuid,
    pub members_rated: usize,
    pub cast_at: DateTime<Utc>,
}

/// A frozen result: one computation of the year's assessment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SnapshotView {
    pub id: Uuid,
    pub assessment_id: Uuid,
    pub year: i32,
    /// 1, 2, …: each computation makes the next; earlier ones stay readable.
    pub version: i32,
    /// The weights as they were when computed.
    pub branch_components: Vec<ComponentView>,
    pub member_components: Vec<ComponentView>,
    pub computed_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
    /// Objections may be filed until then.
    pub appeal_until: Option<DateTime<Utc>>,
    pub appeal_open: bool,
}

impl SnapshotView {
    pub fn at(s: assessment_snapshot::Model, now: DateTime<Utc>) -> Self {
        SnapshotView {
            id: s.id,
            assessment_id: s.assessment_id,
            year: s.year,
            version: s.version,
            branch_components: component_views(&s.branch_components),
            member_components: component_views(&s.member_components),
            computed_at: s.computed_at,
            published_at: s.published_at,
            appeal_until: s.appeal_until,
            appeal_open: s.appeal_until.is_some_and(|until| now < until),
        }
    }
}

/// One branch's or member's score with its explanation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResultView {
    pub subject_kind: Subject,
    pub subject_id: Uuid,
    pub name: String,
    pub branch_id: Uuid,
    /// Among the subjects of its kind in the township.
    pub rank: i32,
    /// 0–100: the sum of the contributions.
    pub total: f64,
    pub components: Vec<ComponentScore>,
}

impl From<assessment_result::Model> for ResultView {
    fn from(r: assessment_result::Model) -> Self {
        ResultView {
            subject_kind: if r.subject_kind == "branch" {
                Subject::Branch
            } else {
                Subject::Member
            },
            subject_id: r.subject_id,
            name: r.subject_name,
            branch_id: r.branch_id,
            rank: r.rank,
            total: r.total,
            components: serde_json::from_value(r.components).unwrap_or_default(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// `branch` or `member`; both when absent.
    pub subject: Option<Subject>,
    /// One branch (and its members) within reach.
    pub branch_id: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PublishRequest {
    /// Days branches have to object, 1 to 30 (default 7).
    pub appeal_days: Option<i64>,
}

pub const DEFAULT_APPEAL_DAYS: i64 = 7;

impl PublishRequest {
    pub fn parse(self) -> Result<i64, FieldErrors> {
        let days = self.appeal_days.unwrap_or(DEFAULT_APPEAL_DAYS);
        if !(1..=30).contains(&days) {
            return Err(FieldErrors::single(
                "appeal_days",
                "out_of_range",
                "申诉期须为 1 到 30 天",
                "appeal_days is 1 to 30",
            ));
        }
        Ok(days)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"reason": "本支部承诺事项已于12月完成，佐证材料未计入"}))]
pub struct AppealRequest {
    #[schema(max_length = 2000)]
    pub reason: String,
}

impl AppealRequest {
    pub fn parse(self) -> Result<String, FieldErrors> {
        text::required("reason", &self.reason, SUMMARY_MAX)
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"answer": "经复核，已在第2版结果中计入"}))]
pub struct AnswerRequest {
    #[schema(max_length = 2000)]
    pub answer: String,
}

impl AnswerRequest {
    pub fn parse(self) -> Result<String, FieldErrors> {
        text::required("answer", &self.answer, SUMMARY_MAX)
    }
}

/// A branch's objection to a published result (申诉) and the township's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppealView {
    pub id: Uuid,
    pub snapshot_id: Uuid,
    pub branch_id: Uuid,
    pub reason: String,
    pub filed_by: Uuid,
    pub filed_at: DateTime<Utc>,
    pub answer: Option<String>,
    pub answered_by: Option<Uuid>,
    pub answered_at: Option<DateTime<Utc>>,
}

impl From<assessment_appeal::Model> for AppealView {
    fn from(a: assessment_appeal::Model) -> Self {
        AppealView {
            id: a.id,
            snapshot_id: a.snapshot_id,
            branch_id: a.branch_id,
            reason: a.reason,
            filed_by: a.filed_by,
            filed_at: a.filed_at,
            answer: a.answer,
            answered_by: a.answered_by,
            answered_at: a.answered_at,
        }
    }
}
