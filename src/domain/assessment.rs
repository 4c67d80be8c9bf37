//! The year-end assessment (考核): how a branch's or a member's score is made
//! from its components, so that anyone can redo the sum by hand.
//!
//! A scheme lists components with weights summing to exactly 100 %. Each
//! component has a raw input (a ballot mean, a rate, points entered by the
//! township, hours, a count), one fixed normalisation onto 0–100, and a
//! weighted contribution `normalised × weight ÷ 100`. The total is the sum of
//! the contributions, rounded to two decimals. The normalisations:
//!
//! | normalisation      | raw input                       | 0–100 score                         |
//! |--------------------|---------------------------------|-------------------------------------|
//! | `ballot_mean`      | mean of 1–5 ballot marks        | `(mean − 1) ÷ 4 × 100` (1 → 0, 5 → 100) |
//! | `rate`             | a share 0–1                     | `rate × 100`                        |
//! | `points`           | points 0–100 entered            | as entered                          |
//! | `hours_within_72`  | mean hours until something done | `100 × (1 − hours ÷ 72)`, 0 from 72 h |
//! | `share_of_best`    | a count                         | `count ÷ best count × 100` (best of those scored together) |
//!
//! Fixed scales rather than min–max across branches: a branch's score then
//! depends on what it did, not on how the others did (only `share_of_best`,
//! for counts that have no natural ceiling, compares). A component without
//! input (no ballots cast, no pledges made, no rating entered) scores 0 and
//! says so (`missing`); the weights never shift silently.
//!
//! Ranking is deterministic: total (to the hundredth) descending, then the
//! normalised scores of the components in the scheme's order, descending,
//! then the subject's id ascending. Every subject gets its own rank.

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::FieldErrors;

/// Whom a component scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A branch (党支部), on the 五个好.
    Branch,
    /// A member (党员, secretaries included), on the 五个模范.
    Member,
}

/// One thing a score is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// 党员代表测评: the branch's members' ballots on the 五个好, mean of 1–5.
    RepresentativeBallot,
    /// 任职承诺目标完成情况: mean completion of the branch's published pledges
    /// of the year (fulfilled 100 %, not fulfilled 0 %, open ones their progress).
    PledgeFulfilment,
    /// 乡党委综合评定: points 0–100 entered by the township's admins.
    CommitteeRating,
    /// Households with a non-rejected visit in the year ÷ the branch's households.
    VisitCoverage,
    /// Mediation reports of the year resolved ÷ reports.
    MediationResolution,
    /// Mean hours from a visit's submission to its review, visits reviewed in the year.
    ReviewTurnaround,
    /// Spot-checked items of the year confirmed ÷ verified (1 − discrepancy rate).
    SpotCheckConfirmation,
    /// 五个模范 marked by the branch's secretary, mean of 1–5.
    SecretaryRating,
    /// 五个模范 marked by the member's peers in the branch, mean of 1–5.
    PeerRating,
    /// The member's non-rejected visits in the year, against the most any member made.
    MemberVisits,
}

/// How a raw input becomes a 0–100 score (see the module's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    BallotMean,
    Rate,
    Points,
    HoursWithin72,
    ShareOfBest,
}

/// Hours at and beyond which a turnaround scores 0.
pub const TURNAROUND_CEILING_HOURS: f64 = 72.0;

impl Normalisation {
    /// The rule as written in an explanation.
    pub fn rule(self) -> &'static str {
        match self {
            Normalisation::BallotMean => "(mean - 1) / 4 * 100",
            Normalisation::Rate => "rate * 100",
            Normalisation::Points => "points as entered (0-100)",
            Normalisation::HoursWithin72 => "100 * (1 - hours / 72), 0 from 72 hours",
            Normalisation::ShareOfBest => "count / best count * 100",
        }
    }

    /// `raw` on 0–100; `best` is the largest raw value among those scored
    /// together (only `share_of_best` uses it).
    pub fn apply(self, raw: f64, best: f64) -> f64 {
        let score = match self {
            Normalisation::BallotMean => (raw - 1.0) / 4.0 * 100.0,
            Normalisation::Rate => raw * 100.0,
            Normalisation::Points => raw,
            Normalisation::HoursWithin72 => 100.0 * (1.0 - raw / TURNAROUND_CEILING_HOURS),
            Normalisation::ShareOfBest if best > 0.0 => raw / best * 100.0,
            Normalisation::ShareOfBest => 0.0,
        };
        if score.is_finite() {
            score.clamp(0.0, 100.0)
        } else {
            0.0
        }
    }
}

macro_rules! kinds {
    ($($variant:ident => $code:literal, $label:literal, $subject:ident, $norm:ident);+ $(;)?) => {
        impl ComponentKind {
            pub const ALL: &'static [ComponentKind] = &[$(ComponentKind::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(ComponentKind::$variant => $code),+ }
            }

            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.as_str() == value)
            }

            /// The Chinese name, for explanations and exports.
            pub fn label(self) -> &'static str {
                match self { $(ComponentKind::$variant => $label),+ }
            }

            /// Whom it scores.
            pub fn subject(self) -> Subject {
                match self { $(ComponentKind::$variant => Subject::$subject),+ }
            }

            pub fn normalisation(self) -> Normalisation {
                match self { $(ComponentKind::$variant => Normalisation::$norm),+ }
            }
        }
    };
}

kinds! {
    RepresentativeBallot => "representative_ballot", "党员代表测评", Branch, BallotMean;
    PledgeFulfilment => "pledge_fulfilment", "任职承诺目标完成情况", Branch, Rate;
    CommitteeRating => "committee_rating", "乡党委综合评定", Branch, Points;
    VisitCoverage => "visit_coverage", "走访覆盖率", Branch, Rate;
    MediationResolution => "mediation_resolution", "矛盾纠纷化解率", Branch, Rate;
    ReviewTurnaround => "review_turnaround", "审核及时性", Branch, HoursWithin72;
    SpotCheckConfirmation => "spot_check_confirmation", "督导抽查属实率", Branch, Rate;
    SecretaryRating => "secretary_rating", "支部书记评价（五个模范）", Member, BallotMean;
    PeerRating => "peer_rating", "党员互评（五个模范）", Member, BallotMean;
    MemberVisits => "member_visits", "走访户次", Member, ShareOfBest;
}

/// The 五个好 a branch is marked on, in the campaign plan's order.
pub const BRANCH_CRITERIA: [(&str, &str); 5] = [
    ("leadership", "领导班子好"),
    ("membership", "党员队伍好"),
    ("mechanism", "工作机制好"),
    ("performance", "工作业绩好"),
    ("reputation", "群众反映好"),
];

/// The 五个模范 a member is marked on, in the campaign plan's order.
pub const MEMBER_CRITERIA: [(&str, &str); 5] = [
    ("study", "自觉学习的模范"),
    ("policy", "执行政策的模范"),
    ("service", "服务群众的模范"),
    ("dedication", "爱岗敬业的模范"),
    ("discipline", "遵纪守法的模范"),
];

/// A weight in hundredths of a percent (40 % is 4000): whole numbers, so
/// "sums to exactly 100 %" never depends on how a float adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Weight(u32);

pub const FULL_WEIGHT: u32 = 10_000;

impl Weight {
    /// More than 0, at most 100, to two decimals.
    pub fn parse(field: &str, value: f64) -> Result<Self, FieldErrors> {
        let hundredths = (value * 100.0).round();
        if !value.is_finite() || value <= 0.0 || !(1.0..=10_000.0).contains(&hundredths) {
            return Err(FieldErrors::single(
                field,
                "out_of_range",
                "权重须大于 0 且不超过 100",
                "weight must be more than 0 and at most 100",
            ));
        }
        if (value * 100.0 - hundredths).abs() > 1e-6 {
            return Err(FieldErrors::single(
                field,
                "too_precise",
                "权重最多保留两位小数",
                "weight takes at most two decimals",
            ));
        }
        Ok(Weight(hundredths as u32))
    }

    pub fn from_hundredths(hundredths: i64) -> Self {
        Weight(u32::try_from(hundredths.clamp(0, i64::from(FULL_WEIGHT))).unwrap_or(0))
    }

    pub fn hundredths(self) -> u32 {
        self.0
    }

    /// In percent, e.g. `40.0`.
    pub fn percent(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// A component of a scheme with its weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Component {
    pub kind: ComponentKind,
    pub weight: Weight,
}

/// Checks one subject's component list as sent (`kind` code and weight in
/// percent): at least one, known kinds of that subject, none twice, each
/// weight in (0, 100], and the weights summing to exactly 100. Errors name
/// `field[i].kind`, `field[i].weight`, or `field` itself for the sum.
pub fn parse_components(
    field: &str,
    subject: Subject,
    sent: &[(String, f64)],
) -> Result<Vec<Component>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if sent.is_empty() {
        errors.add(
            field,
            "required",
            format!("{field} 至少包含一项考核内容"),
            format!("{field} needs at least one component"),
        );
    }
    let mut components = Vec::with_capacity(sent.len());
    let mut seen = HashSet::new();
    let mut sum: u32 = 0;
    for (i, (code, weight)) in sent.iter().enumerate() {
        let kind_field = format!("{field}[{i}].kind");
        let kind = match ComponentKind::parse(code) {
            Some(kind) if kind.subject() != subject => {
                errors.add(
                    &kind_field,
                    "wrong_subject",
                    format!("{code} 不能用于该考核对象"),
                    format!("{code} does not score this subject"),
                );
                None
            }
            Some(kind) if !seen.insert(kind) => {
                errors.add(
                    &kind_field,
                    "duplicate",
                    format!("{code} 重复"),
                    format!("{code} appears twice"),
                );
                None
            }
            Some(kind) => Some(kind),
            None => {
                errors.add(
                    &kind_field,
                    "unknown",
                    format!("未知的考核内容：{code}"),
                    format!("unknown component: {code}"),
                );
                None
            }
        };
        let weight = errors.take(Weight::parse(&format!("{field}[{i}].weight"), *weight));
        if let Some(w) = weight {
            sum = sum.saturating_add(w.hundredths());
        }
        if let (Some(kind), Some(weight)) = (kind, weight) {
            components.push(Component { kind, weight });
        }
    }
    if errors.is_empty() && sum != FULL_WEIGHT {
        errors.add(
            field,
            "weights_sum",
            format!(
                "{field} 的权重合计须为 100（现为 {}）",
                f64::from(sum) / 100.0
            ),
            format!(
                "the weights of {field} must sum to 100 (they sum to {})",
                f64::from(sum) / 100.0
            ),
        );
    }
    errors.finish(|| components)
}

/// A component's raw input for one subject: the number the normalisation
/// takes (`None`: nothing to score), and what it was made of, for the
/// explanation (e.g. `{"ballots": 12, "criteria": {...}}`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Raw {
    pub value: Option<f64>,
    pub detail: Value,
}

impl Raw {
    pub fn of(value: f64, detail: Value) -> Self {
        Raw {
            value: Some(value),
            detail,
        }
    }

    pub fn missing(detail: Value) -> Self {
        Raw {
            value: None,
            detail,
        }
    }
}

/// One subject to score, with the raw inputs of its components.
#[derive(Debug, Clone)]
pub struct Scorable {
    pub subject_id: Uuid,
    pub name: String,
    /// The branch it belongs to (a branch: itself).
    pub branch_id: Uuid,
    pub raw: HashMap<ComponentKind, Raw>,
}

/// A component's part in a score, as the explanation shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComponentScore {
    pub kind: ComponentKind,
    /// Its Chinese name.
    pub label: String,
    /// In percent of the total.
    pub weight: f64,
    /// The raw input, `null` when there was none.
    pub raw: Option<f64>,
    /// What the raw input was made of.
    #[schema(value_type = Object)]
    pub detail: Value,
    pub normalisation: Normalisation,
    /// The normalisation written out.
    pub rule: String,
    /// 0–100, to two decimals.
    pub normalised: f64,
    /// `normalised × weight ÷ 100`, to two decimals.
    pub contribution: f64,
    /// No input: scored 0.
    pub missing: bool,
}

/// One subject's score.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub subject_id: Uuid,
    pub name: String,
    pub branch_id: Uuid,
    /// 1 for the best; every subject its own.
    pub rank: u32,
    /// 0–100, to two decimals.
    pub total: f64,
    pub components: Vec<ComponentScore>,
}

/// To two decimals.
pub fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

fn hundredths(value: f64) -> i64 {
    (value * 100.0).round() as i64
}

/// Scores and ranks `subjects` under `components`.
pub fn score(components: &[Component], subjects: Vec<Scorable>) -> Vec<Scored> {
    let best: HashMap<ComponentKind, f64> = components
        .iter()
        .map(|c| {
            let best = subjects
                .iter()
                .filter_map(|s| s.raw.get(&c.kind).and_then(|r| r.value))
                .fold(0.0_f64, f64::max);
            (c.kind, best)
        })
        .collect();
    let mut scored: Vec<Scored> = subjects
        .into_iter()
        .map(|subject| {
            let mut exact_total = 0.0;
            let parts = components
                .iter()
                .map(|c| {
                    let raw = subject.raw.get(&c.kind).cloned().unwrap_or_default();
                    let normalisation = c.kind.normalisation();
                    let normalised = raw.value.map_or(0.0, |v| {
                        normalisation.apply(v, best.get(&c.kind).copied().unwrap_or(0.0))
                    });
                    let contribution = normalised * c.weight.percent() / 100.0;
                    exact_total += contribution;
                    ComponentScore {
                        kind: c.kind,
                        label: c.kind.label().to_owned(),
                        weight: c.weight.percent(),
                        raw: raw.value.map(|v| (v * 10_000.0).round() / 10_000.0),
                        detail: raw.detail,
                        normalisation,
                        rule: normalisation.rule().to_owned(),
                        normalised: round2(normalised),
                        contribution: round2(contribution),
                        missing: raw.value.is_none(),
                    }
                })
                .collect();
            Scored {
                subject_id: subject.subject_id,
                name: subject.name,
                branch_id: subject.branch_id,
                rank: 0,
                total: round2(exact_total),
                components: parts,
            }
        })
        .collect();
    scored.sort_by(ranking);
    for (i, s) in scored.iter_mut().enumerate() {
        s.rank = u32::try_from(i + 1).unwrap_or(u32::MAX);
    }
    scored
}

/// The ranking order: total, then each component's score in the scheme's
/// order, then id — all on hundredths, so equal-looking totals compare equal.
fn ranking(a: &Scored, b: &Scored) -> Ordering {
    hundredths(b.total)
        .cmp(&hundredths(a.total))
        .then_with(|| {
            a.components
                .iter()
                .zip(&b.components)
                .map(|(x, y)| hundredths(y.normalised).cmp(&hundredths(x.normalised)))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
        .then_with(|| a.subject_id.cmp(&b.subject_id))
}

/// The mean of ballot marks, from their sum and count; `None` without any.
pub fn ballot_mean(sum: i64, marks: i64) -> Option<f64> {
    (marks > 0).then(|| sum as f64 / marks as f64)
}

/// Checks five 1–5 marks sent for `criteria` under `field` (e.g.
/// `scores.leadership`); answers them in the criteria's order.
pub fn parse_marks(
    field: &str,
    criteria: &[(&str, &str); 5],
    sent: &HashMap<String, i32>,
) -> Result<[i16; 5], FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut marks = [0_i16; 5];
    for (i, (code, _)) in criteria.iter().enumerate() {
        match sent.get(*code) {
            Some(mark @ 1..=5) => marks[i] = *mark as i16,
            Some(_) => errors.add(
                format!("{field}.{code}"),
                "out_of_range",
                "评分须为 1 到 5",
                "a mark is 1 to 5",
            ),
            None => errors.add(
                format!("{field}.{code}"),
                "required",
                format!("缺少 {code} 的评分"),
                format!("{code} is required"),
            ),
        }
    }
    let mut unknown: Vec<&String> = sent
        .keys()
        .filter(|code| !criteria.iter().any(|(c, _)| c == code))
        .collect();
    unknown.sort();
    for code in unknown {
        errors.add(
            format!("{field}.{code}"),
            "unknown",
            format!("未知的评价项：{code}"),
            format!("unknown criterion: {code}"),
        );
    }
    errors.finish(|| marks)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn components(list: &[(ComponentKind, u32)]) -> Vec<Component> {
        list.iter()
            .map(|(kind, percent)| Component {
                kind: *kind,
                weight: Weight(percent * 100),
            })
            .collect()
    }

    fn branch(id: u128, name: &str, raw: &[(ComponentKind, Option<f64>)]) -> Scorable {
        Scorable {
            subject_id: Uuid::from_u128(id),
            name: name.into(),
            branch_id: Uuid::from_u128(id),
            raw: raw
                .iter()
                .map(|(k, v)| {
                    (
                        *k,
                        Raw {
                            value: *v,
                            detail: json!({}),
                        },
                    )
                })
                .collect(),
        }
    }

    fn sent(list: &[(&str, f64)]) -> Vec<(String, f64)> {
        list.iter().map(|(k, w)| ((*k).to_owned(), *w)).collect()
    }

    fn fields(errors: FieldErrors) -> Vec<(String, String)> {
        errors
            .into_vec()
            .into_iter()
            .map(|e| (e.field, e.code.to_owned()))
            .collect()
    }

    /// The campaign plan's three parts, 40 / 30 / 30:
    ///
    /// 红旗村 — ballots mean 4.2 → (4.2 − 1) ÷ 4 × 100 = 80;
    ///          pledges 0.75 → 75; committee 90.
    ///          total = 80 × 0.4 + 75 × 0.3 + 90 × 0.3 = 32 + 22.5 + 27 = 81.5
    /// 东山村 — ballots mean 4.6 → 90; pledges 0.5 → 50; committee 85.
    ///          total = 36 + 15 + 25.5 = 76.5
    /// 乡机关 — ballots mean 3.0 → 50; pledges 1.0 → 100; committee 80.
    ///          total = 20 + 30 + 24 = 74
    /// Ranks: 红旗村 1, 东山村 2, 乡机关 3.
    #[test]
    fn the_hand_computed_example() {
        use ComponentKind::*;
        let scheme = components(&[
            (RepresentativeBallot, 40),
            (PledgeFulfilment, 30),
            (CommitteeRating, 30),
        ]);
        let scored = score(
            &scheme,
            vec![
                branch(
                    3,
                    "乡机关",
                    &[
                        (RepresentativeBallot, Some(3.0)),
                        (PledgeFulfilment, Some(1.0)),
                        (CommitteeRating, Some(80.0)),
                    ],
                ),
                branch(
                    1,
                    "红旗村",
                    &[
                        (RepresentativeBallot, Some(4.2)),
                        (PledgeFulfilment, Some(0.75)),
                        (CommitteeRating, Some(90.0)),
                    ],
                ),
                branch(
                    2,
                    "东山村",
                    &[
                        (RepresentativeBallot, Some(4.6)),
                        (PledgeFulfilment, Some(0.5)),
                        (CommitteeRating, Some(85.0)),
                    ],
                ),
            ],
        );
        let table: Vec<(&str, u32, f64)> = scored
            .iter()
            .map(|s| (s.name.as_str(), s.rank, s.total))
            .collect();
        assert_eq!(
            table,
            [
                ("红旗村", 1, 81.5),
                ("东山村", 2, 76.5),
                ("乡机关", 3, 74.0)
            ]
        );
        let hongqi = &scored[0].components;
        let parts: Vec<(f64, f64, f64)> = hongqi
            .iter()
            .map(|c| (c.weight, c.normalised, c.contribution))
            .collect();
        assert_eq!(
            parts,
            [(40.0, 80.0, 32.0), (30.0, 75.0, 22.5), (30.0, 90.0, 27.0)]
        );
        assert_eq!(hongqi[0].raw, Some(4.2));
        assert_eq!(hongqi[0].rule, "(mean - 1) / 4 * 100");
    }

    #[test]
    fn ties_fall_to_the_first_component_then_the_id() {
        use ComponentKind::*;
        let scheme = components(&[(RepresentativeBallot, 50), (CommitteeRating, 50)]);
        // Both total 75: A has 100 / 50, B 50 / 100; A wins on the ballot.
        // C and D are equal in everything: the smaller id first.
        let scored = score(
            &scheme,
            vec![
                branch(
                    9,
                    "D",
                    &[
                        (RepresentativeBallot, Some(3.0)),
                        (CommitteeRating, Some(50.0)),
                    ],
                ),
                branch(
                    2,
                    "B",
                    &[
                        (RepresentativeBallot, Some(3.0)),
                        (CommitteeRating, Some(100.0)),
                    ],
                ),
                branch(
                    1,
                    "A",
                    &[
                        (RepresentativeBallot, Some(5.0)),
                        (CommitteeRating, Some(50.0)),
                    ],
                ),
                branch(
                    8,
                    "C",
                    &[
                        (RepresentativeBallot, Some(3.0)),
                        (CommitteeRating, Some(50.0)),
                    ],
                ),
            ],
        );
        let order: Vec<(&str, u32)> = scored.iter().map(|s| (s.name.as_str(), s.rank)).collect();
        assert_eq!(order, [("A", 1), ("B", 2), ("C", 3), ("D", 4)]);
    }

    #[test]
    fn a_component_without_input_scores_zero_and_says_so() {
        use ComponentKind::*;
        let scheme = components(&[(RepresentativeBallot, 60), (CommitteeRating, 40)]);
        let scored = score(
            &scheme,
            vec![branch(1, "A", &[(CommitteeRating, Some(100.0))])],
        );
        assert_eq!(scored[0].total, 40.0);
        assert!(scored[0].components[0].missing);
        assert_eq!(scored[0].components[0].contribution, 0.0);
        assert!(!scored[0].components[1].missing);
    }

    #[test]
    fn normalisations_follow_their_fixed_scales() {
        use Normalisation::*;
        assert_eq!(BallotMean.apply(1.0, 0.0), 0.0);
        assert_eq!(BallotMean.apply(5.0, 0.0), 100.0);
        assert_eq!(Rate.apply(0.8125, 0.0), 81.25);
        assert_eq!(Points.apply(120.0, 0.0), 100.0, "clamped");
        assert_eq!(HoursWithin72.apply(18.0, 0.0), 75.0);
        assert_eq!(HoursWithin72.apply(100.0, 0.0), 0.0);
        assert_eq!(ShareOfBest.apply(30.0, 40.0), 75.0);
        assert_eq!(ShareOfBest.apply(0.0, 0.0), 0.0, "nobody did any");
    }

    #[test]
    fn the_best_count_is_that_of_the_subjects_scored_together() {
        use ComponentKind::*;
        let scheme = components(&[(MemberVisits, 100)]);
        let scored = score(
            &scheme,
            vec![
                branch(1, "甲", &[(MemberVisits, Some(40.0))]),
                branch(2, "乙", &[(MemberVisits, Some(10.0))]),
            ],
        );
        assert_eq!(scored[0].total, 100.0);
        assert_eq!(scored[1].total, 25.0);
    }

    #[test]
    fn weights_must_sum_to_exactly_one_hundred() {
        let off = parse_components(
            "branch_components",
            Subject::Branch,
            &sent(&[("representative_ballot", 40.0), ("committee_rating", 59.99)]),
        );
        assert_eq!(
            fields(off.unwrap_err()),
            [("branch_components".into(), "weights_sum".into())]
        );
        let thirds = parse_components(
            "branch_components",
            Subject::Branch,
            &sent(&[
                ("representative_ballot", 33.33),
                ("committee_rating", 33.33),
                ("pledge_fulfilment", 33.34),
            ]),
        )
        .unwrap();
        assert_eq!(
            thirds.iter().map(|c| c.weight.hundredths()).sum::<u32>(),
            FULL_WEIGHT
        );
    }

    #[test]
    fn each_bad_component_is_named() {
        let bad = parse_components(
            "member_components",
            Subject::Member,
            &sent(&[
                ("committee_rating", 50.0),
                ("peer_rating", 0.0),
                ("nonsense", 10.0),
                ("secretary_rating", 20.0),
                ("secretary_rating", 20.001),
            ]),
        );
        assert_eq!(
            fields(bad.unwrap_err()),
            [
                ("member_components[0].kind".into(), "wrong_subject".into()),
                ("member_components[1].weight".into(), "out_of_range".into()),
                ("member_components[2].kind".into(), "unknown".into()),
                ("member_components[4].kind".into(), "duplicate".into()),
                ("member_components[4].weight".into(), "too_precise".into()),
            ]
        );
        let none = parse_components("member_components", Subject::Member, &[]);
        assert_eq!(
            fields(none.unwrap_err()),
            [("member_components".into(), "required".into())]
        );
    }

    #[test]
    fn marks_are_five_criteria_of_one_to_five() {
        let mut sent: HashMap<String, i32> = BRANCH_CRITERIA
            .iter()
            .map(|(c, _)| ((*c).to_owned(), 4))
            .collect();
        assert_eq!(
            parse_marks("scores", &BRANCH_CRITERIA, &sent).unwrap(),
            [4; 5]
        );
        sent.insert("leadership".into(), 6);
        sent.remove("reputation");
        sent.insert("study".into(), 3);
        let errors = fields(parse_marks("scores", &BRANCH_CRITERIA, &sent).unwrap_err());
        assert!(errors.contains(&("scores.leadership".into(), "out_of_range".into())));
        assert!(errors.contains(&("scores.reputation".into(), "required".into())));
        assert!(errors.contains(&("scores.study".into(), "unknown".into())));
    }
}
