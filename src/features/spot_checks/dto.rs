//! Spot-check request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::FieldErrors;
use crate::domain::supervision::{
    MAX_SEED, Percent, SampledKind, SpotCheckStatus, Tally, VerificationOutcome,
};
use crate::domain::text::{self, SUMMARY_MAX};
use crate::entities::{spot_check, spot_check_item};

/// Most items one check may hold: more than a township can phone, and a
/// sign the period or the percentage is wrong.
pub const MAX_ITEMS: usize = 2_000;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"percent": 10, "from": "2026-10-01T00:00:00+08:00", "to": "2026-11-01T00:00:00+08:00", "kinds": ["visit", "mediation_report"]}))]
pub struct NewSpotCheckRequest {
    /// The share of each branch's approved items to draw, in percent: more
    /// than 0, at most 100, to two decimals. Each branch with anything
    /// eligible gets `ceil(percent × n)` items, at least one.
    #[schema(exclusive_minimum = 0, maximum = 100, example = 10)]
    pub percent: f64,
    /// Items dated (`visited_at`, `occurred_at`) at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Items dated before this time.
    pub to: Option<DateTime<Utc>>,
    /// 0 to 2^53 − 1. The same seed over the same approved items draws the
    /// same sample; drawn at random when absent, and recorded either way.
    #[schema(maximum = 9_007_199_254_740_991_u64)]
    pub seed: Option<u64>,
    /// What to sample; default both.
    pub kinds: Option<Vec<SampledKind>>,
}

/// A checked draw request.
#[derive(Debug, Clone)]
pub struct Draw {
    pub percent: Percent,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub seed: Option<u64>,
    pub kinds: Vec<SampledKind>,
}

impl NewSpotCheckRequest {
    pub fn parse(self) -> Result<Draw, FieldErrors> {
        let mut errors = FieldErrors::new();
        let percent = errors.take(Percent::parse("percent", self.percent));
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to <= from
        {
            errors.add(
                "to",
                "before_from",
                "结束时间须晚于开始时间",
                "`to` must be after `from`",
            );
        }
        if self.seed.is_some_and(|seed| seed > MAX_SEED) {
            errors.add(
                "seed",
                "out_of_range",
                format!("seed 须在 0 到 {MAX_SEED} 之间"),
                format!("seed must be between 0 and {MAX_SEED}"),
            );
        }
        let mut kinds = self.kinds.unwrap_or_else(|| SampledKind::ALL.to_vec());
        kinds.sort();
        kinds.dedup();
        if kinds.is_empty() {
            errors.add(
                "kinds",
                "required",
                "至少选择一类抽查对象",
                "choose at least one kind to sample",
            );
        }
        match percent {
            Some(percent) if errors.is_empty() => Ok(Draw {
                percent,
                from: self.from,
                to: self.to,
                seed: self.seed,
                kinds,
            }),
            _ => Err(errors),
        }
    }
}

/// A spot check (督导检查): how it was drawn, and where it stands.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpotCheckView {
    pub id: Uuid,
    #[schema(example = 10)]
    pub percent: f64,
    /// Draw again with it over the same rows to get the same sample.
    pub seed: u64,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub kinds: Vec<SampledKind>,
    pub status: SpotCheckStatus,
    pub drawn_by: Uuid,
    pub drawn_at: DateTime<Utc>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Items within the caller's reach (a secretary's: their branch's).
    pub sampled: u64,
    /// Of those, how many have an outcome.
    pub verified: u64,
}

impl SpotCheckView {
    pub fn new(check: spot_check::Model, tally: Tally) -> Self {
        SpotCheckView {
            id: check.id,
            percent: Percent::from_hundredths(check.percent_hundredths).as_f64(),
            seed: u64::try_from(check.seed).unwrap_or_default(),
            from: check.period_from,
            to: check.period_to,
            kinds: serde_json::from_value(check.kinds).unwrap_or_default(),
            status: SpotCheckStatus::parse(&check.status).unwrap_or(SpotCheckStatus::Open),
            drawn_by: check.drawn_by,
            drawn_at: check.drawn_at,
            closed_by: check.closed_by,
            closed_at: check.closed_at,
            sampled: tally.sampled,
            verified: tally.verified,
        }
    }
}

/// A spot check with its items within the caller's reach.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpotCheckDetail {
    #[serde(flatten)]
    pub check: SpotCheckView,
    /// By branch name, then kind, then the item's date.
    pub items: Vec<SpotCheckItemView>,
}

/// What the township recorded on checking an item.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationView {
    pub outcome: VerificationOutcome,
    pub note: Option<String>,
    pub verified_by: Uuid,
    pub verified_at: DateTime<Utc>,
}

/// The sampled record, as the checker needs it to find it and phone about it.
#[derive(Debug, Clone, Default)]
pub struct SubjectSummary {
    pub title: String,
    pub dated_at: Option<DateTime<Utc>>,
    pub member_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
}

/// One sampled item.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SpotCheckItemView {
    pub id: Uuid,
    pub spot_check_id: Uuid,
    pub subject_kind: SampledKind,
    pub subject_id: Uuid,
    pub branch_id: Uuid,
    pub branch_name: String,
    /// The household head (visits) or the report's title.
    #[schema(example = "张大山户（结对帮扶）")]
    pub title: String,
    /// `visited_at` of a visit, `occurred_at` of a report.
    pub dated_at: Option<DateTime<Utc>>,
    /// Who recorded it.
    pub member_id: Option<Uuid>,
    /// The household visited (visits).
    pub household_id: Option<Uuid>,
    /// `null` until verified.
    pub verification: Option<VerificationView>,
    /// The rectification made of a discrepancy, if any.
    pub rectification_id: Option<Uuid>,
}

impl SpotCheckItemView {
    pub fn new(
        item: spot_check_item::Model,
        branch_name: String,
        subject: SubjectSummary,
        rectification_id: Option<Uuid>,
    ) -> Self {
        let verification = match (
            item.outcome.as_deref().and_then(VerificationOutcome::parse),
            item.verified_by,
            item.verified_at,
        ) {
            (Some(outcome), Some(verified_by), Some(verified_at)) => Some(VerificationView {
                outcome,
                note: item.note,
                verified_by,
                verified_at,
            }),
            _ => None,
        };
        SpotCheckItemView {
            id: item.id,
            spot_check_id: item.spot_check_id,
            subject_kind: SampledKind::parse(&item.subject_kind).unwrap_or(SampledKind::Visit),
            subject_id: item.subject_id,
            branch_id: item.branch_id,
            branch_name,
            title: subject.title,
            dated_at: subject.dated_at,
            member_id: subject.member_id,
            household_id: subject.household_id,
            verification,
            rectification_id,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"outcome": "discrepancy", "note": "电话回访户主，称当月无人走访"}))]
pub struct VerificationRequest {
    pub outcome: VerificationOutcome,
    /// What was found; required for a `discrepancy`.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

impl VerificationRequest {
    pub fn parse(self) -> Result<(VerificationOutcome, Option<String>), FieldErrors> {
        let note = text::optional("note", self.note.as_deref(), SUMMARY_MAX)?;
        if self.outcome == VerificationOutcome::Discrepancy && note.is_none() {
            return Err(FieldErrors::single(
                "note",
                "required",
                "核查不属实时须说明情况",
                "a note is required for a discrepancy",
            ));
        }
        Ok((self.outcome, note))
    }
}

/// Verification figures (the whole, or one branch's).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VerificationFigures {
    pub sampled: u64,
    pub verified: u64,
    pub confirmed: u64,
    pub discrepancies: u64,
    /// `verified ÷ sampled`, 0..1 (0 when nothing was sampled).
    pub verification_rate: f64,
    /// `discrepancies ÷ verified`, 0..1 (0 when nothing was verified).
    pub discrepancy_rate: f64,
}

impl From<Tally> for VerificationFigures {
    fn from(t: Tally) -> Self {
        VerificationFigures {
            sampled: t.sampled,
            verified: t.verified,
            confirmed: t.confirmed,
            discrepancies: t.discrepancies,
            verification_rate: t.verification_rate(),
            discrepancy_rate: t.discrepancy_rate(),
        }
    }
}

/// One branch's verification figures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BranchFigures {
    pub branch_id: Uuid,
    pub branch_name: String,
    #[serde(flatten)]
    pub figures: VerificationFigures,
}

/// Verification figures per branch, and all of them added up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FiguresByBranch {
    /// The year they are for (`null`: one check).
    pub year: Option<i32>,
    /// By branch name.
    pub items: Vec<BranchFigures>,
    pub total: VerificationFigures,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct YearQuery {
    /// The year the checks were drawn in, in the township's time zone
    /// (default: this year).
    #[param(minimum = 2000, maximum = 2100)]
    pub year: Option<i32>,
}
