//! The township's supervision of the campaign (督导检查, 整改): spot checks
//! that draw a reproducible sample of approved work to verify, and the
//! rectifications (整改事项) that findings become.
//!
//! ```text
//! spot check:     open ──close──▶ closed         (items verified while open)
//! rectification:  open ──report──▶ reported ──close──▶ closed
//!                   ▲                 │
//!                   └──── reopened ◀──┘ reopen (with a comment, maybe a new deadline)
//!                         reopened ──report──▶ reported …
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::FieldErrors;

/// What a spot check samples: approved work of the branches.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SampledKind {
    /// An approved household visit (走访记录).
    Visit,
    /// An approved mediation report (矛盾纠纷调解记录).
    MediationReport,
}

/// What the township found when it checked a sampled item (e.g. by phoning the household).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationOutcome {
    /// The record matches what happened.
    Confirmed,
    /// It does not; the note says how.
    Discrepancy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpotCheckStatus {
    /// Items are being verified; outcomes may still change.
    Open,
    /// Done: outcomes are final.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RectificationStatus {
    /// Assigned; the branch has not reported yet.
    Open,
    /// The branch reported what it did; the township checks it.
    Reported,
    /// The township found the report wanting and sent it back.
    Reopened,
    /// Accepted (销号).
    Closed,
}

macro_rules! codes {
    ($ty:ident { $($variant:ident => $code:literal, $label:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $code),+ }
            }

            pub fn parse(value: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == value)
            }

            /// The Chinese name, for notifications.
            pub fn label(self) -> &'static str {
                match self { $($ty::$variant => $label),+ }
            }
        }
    };
}

codes!(SampledKind {
    Visit => "visit", "走访记录",
    MediationReport => "mediation_report", "矛盾纠纷调解记录",
});

codes!(VerificationOutcome {
    Confirmed => "confirmed", "属实",
    Discrepancy => "discrepancy", "不属实",
});

codes!(SpotCheckStatus {
    Open => "open", "核查中",
    Closed => "closed", "已结束",
});

codes!(RectificationStatus {
    Open => "open", "待整改",
    Reported => "reported", "待验收",
    Reopened => "reopened", "退回整改",
    Closed => "closed", "已销号",
});

/// The largest seed: JavaScript's largest safe integer, so the dashboard
/// reads back and sends again exactly the seed it was shown.
pub const MAX_SEED: u64 = (1 << 53) - 1;

/// A share of each branch's eligible items, in hundredths of a percent
/// (10 % is 1000): whole numbers, so the sample size never depends on how a
/// float rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(u32);

impl Percent {
    /// More than 0, at most 100, to two decimals.
    pub fn parse(field: &str, value: f64) -> Result<Self, FieldErrors> {
        let hundredths = (value * 100.0).round();
        if !value.is_finite() || !(1.0..=10_000.0).contains(&hundredths) || value <= 0.0 {
            return Err(FieldErrors::single(
                field,
                "out_of_range",
                "抽查比例须大于 0 且不超过 100",
                "percent must be more than 0 and at most 100",
            ));
        }
        if (value * 100.0 - hundredths).abs() > 1e-6 {
            return Err(FieldErrors::single(
                field,
                "too_precise",
                "抽查比例最多保留两位小数",
                "percent takes at most two decimals",
            ));
        }
        Ok(Percent(hundredths as u32))
    }

    /// From stored hundredths of a percent.
    pub fn from_hundredths(hundredths: i32) -> Self {
        Percent(u32::try_from(hundredths).unwrap_or(0).min(10_000))
    }

    pub fn hundredths(self) -> i32 {
        i32::try_from(self.0).unwrap_or(10_000)
    }

    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

/// How many of a branch's `eligible` items are drawn: `ceil(percent × n)`,
/// and at least one, so no branch with anything to check is skipped.
pub fn sample_size(eligible: usize, percent: Percent) -> usize {
    if eligible == 0 {
        return 0;
    }
    let n = eligible as u64;
    let drawn = (n * u64::from(percent.0)).div_ceil(10_000);
    usize::try_from(drawn.clamp(1, n)).unwrap_or(eligible)
}

/// An item that may be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Candidate {
    pub branch_id: Uuid,
    pub id: Uuid,
    pub kind: SampledKind,
}

/// Draws [`sample_size`] items from each branch's candidates.
///
/// Reproducible: each branch's candidates are sorted by id, and the branch
/// draws from its own ChaCha20 stream keyed by the seed and the branch id, with
/// uniform choices made here rather than by a library whose algorithm may
/// change. The same seed over the same rows draws the same sample on any
/// database, platform or version; a branch's sample does not move when
/// another branch gains rows. Answers the sample sorted by branch, then id.
pub fn draw(seed: u64, percent: Percent, candidates: Vec<Candidate>) -> Vec<Candidate> {
    let mut by_branch: BTreeMap<Uuid, Vec<Candidate>> = BTreeMap::new();
    for candidate in candidates {
        by_branch
            .entry(candidate.branch_id)
            .or_default()
            .push(candidate);
    }
    let mut sample = Vec::new();
    for (branch_id, mut pool) in by_branch {
        pool.sort_by_key(|c| (c.id, c.kind));
        pool.dedup();
        let wanted = sample_size(pool.len(), percent);
        let mut rng = branch_stream(seed, branch_id);
        // A partial Fisher–Yates shuffle: the first `wanted` places.
        for i in 0..wanted {
            let remaining = (pool.len() - i) as u64;
            let j = i + usize::try_from(below(&mut rng, remaining)).unwrap_or(0);
            pool.swap(i, j);
        }
        let mut drawn = pool[..wanted].to_vec();
        drawn.sort_by_key(|c| (c.id, c.kind));
        sample.extend(drawn);
    }
    sample
}

fn branch_stream(seed: u64, branch_id: Uuid) -> ChaCha20Rng {
    let mut key = Sha256::new();
    key.update(b"xianfeng spot check v1\n");
    key.update(seed.to_be_bytes());
    key.update(branch_id.as_bytes());
    ChaCha20Rng::from_seed(key.finalize().into())
}

/// A uniform number in `0..bound` (`bound` ≥ 1), by rejection: values past
/// the last whole multiple of `bound` would favour the low numbers.
fn below(rng: &mut ChaCha20Rng, bound: u64) -> u64 {
    let bound = bound.max(1);
    let leftover = (u64::MAX - bound + 1) % bound;
    let zone = u64::MAX - leftover;
    loop {
        let x = rng.next_u64();
        if x <= zone {
            return x % bound;
        }
    }
}

/// Verification counts of a branch (or of several, added up).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub sampled: u64,
    pub verified: u64,
    pub confirmed: u64,
    pub discrepancies: u64,
}

impl Tally {
    /// Counts `n` items with `outcome` (`None`: not verified yet).
    pub fn add(&mut self, outcome: Option<VerificationOutcome>, n: u64) {
        self.sampled += n;
        match outcome {
            Some(VerificationOutcome::Confirmed) => {
                self.verified += n;
                self.confirmed += n;
            }
            Some(VerificationOutcome::Discrepancy) => {
                self.verified += n;
                self.discrepancies += n;
            }
            None => {}
        }
    }

    pub fn absorb(&mut self, other: &Tally) {
        self.sampled += other.sampled;
        self.verified += other.verified;
        self.confirmed += other.confirmed;
        self.discrepancies += other.discrepancies;
    }

    /// `verified ÷ sampled`, 0..1 (0 when nothing was sampled).
    pub fn verification_rate(&self) -> f64 {
        rate(self.verified, self.sampled)
    }

    /// `discrepancies ÷ verified`, 0..1 (0 when nothing was verified).
    pub fn discrepancy_rate(&self) -> f64 {
        rate(self.discrepancies, self.verified)
    }
}

/// A fraction to four decimals, as the dashboard's other rates.
fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        ((part as f64 / whole as f64) * 10_000.0).round() / 10_000.0
    }
}

/// What is done to a rectification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectificationStep {
    /// The branch reports what it did.
    Report,
    /// The township accepts it.
    Close,
    /// The township sends it back.
    Reopen,
}

/// Why a step cannot be taken (409).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RectificationRefusal {
    /// Reported already: the township decides next.
    AlreadyReported,
    /// Close or reopen before the branch reported.
    NotReported,
    /// Closed is final.
    Closed,
}

/// The status after `step` from `current`.
pub fn rectification_step(
    current: RectificationStatus,
    step: RectificationStep,
) -> Result<RectificationStatus, RectificationRefusal> {
    use RectificationStatus as S;
    use RectificationStep as Step;
    match (current, step) {
        (S::Closed, _) => Err(RectificationRefusal::Closed),
        (S::Open | S::Reopened, Step::Report) => Ok(S::Reported),
        (S::Open | S::Reopened, Step::Close | Step::Reopen) => {
            Err(RectificationRefusal::NotReported)
        }
        (S::Reported, Step::Report) => Err(RectificationRefusal::AlreadyReported),
        (S::Reported, Step::Close) => Ok(S::Closed),
        (S::Reported, Step::Reopen) => Ok(S::Reopened),
    }
}

impl RectificationStatus {
    /// Whether the branch owes a report: the deadline runs only then.
    pub fn awaits_report(self) -> bool {
        matches!(
            self,
            RectificationStatus::Open | RectificationStatus::Reopened
        )
    }
}

/// Whether a rectification is overdue at `now`: the branch still owes a
/// report and the deadline has passed.
pub fn rectification_overdue(
    status: RectificationStatus,
    deadline: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    status.awaits_report() && deadline < now
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percent(value: f64) -> Percent {
        Percent::parse("percent", value).unwrap()
    }

    fn candidates(branch: u128, n: u128) -> Vec<Candidate> {
        (1..=n)
            .map(|i| Candidate {
                branch_id: Uuid::from_u128(branch),
                id: Uuid::from_u128(branch << 64 | i),
                kind: SampledKind::Visit,
            })
            .collect()
    }

    #[test]
    fn percent_is_more_than_zero_at_most_a_hundred_to_two_decimals() {
        assert_eq!(percent(10.0), Percent(1000));
        assert_eq!(percent(0.01), Percent(1));
        assert_eq!(percent(100.0), Percent(10_000));
        assert_eq!(percent(12.34).as_f64(), 12.34);
        for bad in [0.0, -5.0, 100.01, 1e9, f64::NAN, f64::INFINITY, 0.004] {
            assert!(Percent::parse("percent", bad).is_err(), "{bad}");
        }
        assert_eq!(
            Percent::parse("percent", 10.005).unwrap_err().into_vec()[0].code,
            "too_precise"
        );
    }

    #[test]
    fn a_branch_with_anything_eligible_gets_at_least_one() {
        assert_eq!(sample_size(0, percent(10.0)), 0);
        assert_eq!(sample_size(1, percent(10.0)), 1);
        assert_eq!(sample_size(9, percent(10.0)), 1);
        assert_eq!(sample_size(10, percent(10.0)), 1);
        assert_eq!(sample_size(11, percent(10.0)), 2, "ceil, never floor");
        assert_eq!(sample_size(30, percent(10.0)), 3, "no float drift");
        assert_eq!(sample_size(3, percent(33.33)), 1);
        assert_eq!(sample_size(7, percent(100.0)), 7);
    }

    #[test]
    fn the_same_seed_draws_the_same_sample_whatever_the_input_order() {
        let mut pool = candidates(1, 40);
        pool.extend(candidates(2, 3));
        let first = draw(42, percent(10.0), pool.clone());
        pool.reverse();
        let again = draw(42, percent(10.0), pool.clone());
        let other = draw(43, percent(10.0), pool);

        assert_eq!(first, again);
        assert_eq!(first.len(), 4 + 1);
        assert_ne!(first, other);
    }

    #[test]
    fn a_branchs_sample_stays_when_another_branch_grows() {
        let small = draw(7, percent(20.0), candidates(1, 20));
        let mut pool = candidates(1, 20);
        pool.extend(candidates(2, 50));
        let grown = draw(7, percent(20.0), pool);
        let branch_one: Vec<_> = grown
            .into_iter()
            .filter(|c| c.branch_id == Uuid::from_u128(1))
            .collect();
        assert_eq!(small, branch_one);
    }

    /// The stream is pinned: an upgrade that changed it would silently
    /// redraw every recorded check differently.
    #[test]
    fn the_sample_of_a_seed_is_pinned() {
        let drawn: Vec<u128> = draw(20_261_128, percent(10.0), candidates(1, 50))
            .into_iter()
            .map(|c| c.id.as_u128() & 0xffff)
            .collect();
        assert_eq!(drawn, PINNED);
    }

    const PINNED: [u128; 5] = [6, 15, 21, 36, 37];

    #[test]
    fn draws_are_spread_over_the_pool() {
        let mut hits = [0u32; 10];
        for seed in 0..2_000 {
            for c in draw(seed, percent(10.0), candidates(1, 10)) {
                hits[(c.id.as_u128() & 0xffff) as usize - 1] += 1;
            }
        }
        for (i, n) in hits.iter().enumerate() {
            assert!((140..=260).contains(n), "item {i} drawn {n} times of 2000");
        }
    }

    #[test]
    fn below_is_within_its_bound() {
        let mut rng = branch_stream(1, Uuid::nil());
        for bound in [1, 2, 3, 7, 1 << 40, u64::MAX] {
            for _ in 0..100 {
                assert!(below(&mut rng, bound) < bound);
            }
        }
    }

    #[test]
    fn rates_follow_their_definitions() {
        let mut tally = Tally::default();
        tally.add(None, 2);
        tally.add(Some(VerificationOutcome::Confirmed), 5);
        tally.add(Some(VerificationOutcome::Discrepancy), 1);
        assert_eq!(
            tally,
            Tally {
                sampled: 8,
                verified: 6,
                confirmed: 5,
                discrepancies: 1
            }
        );
        assert_eq!(tally.verification_rate(), 0.75);
        assert_eq!(tally.discrepancy_rate(), 0.1667);
        assert_eq!(Tally::default().discrepancy_rate(), 0.0);
    }

    #[test]
    fn rectifications_move_as_drawn() {
        use RectificationRefusal as No;
        use RectificationStatus::*;
        use RectificationStep::*;
        assert_eq!(rectification_step(Open, Report), Ok(Reported));
        assert_eq!(rectification_step(Reopened, Report), Ok(Reported));
        assert_eq!(rectification_step(Reported, Close), Ok(Closed));
        assert_eq!(rectification_step(Reported, Reopen), Ok(Reopened));
        assert_eq!(
            rectification_step(Reported, Report),
            Err(No::AlreadyReported)
        );
        assert_eq!(rectification_step(Open, Close), Err(No::NotReported));
        assert_eq!(rectification_step(Reopened, Reopen), Err(No::NotReported));
        for step in [Report, Close, Reopen] {
            assert_eq!(rectification_step(Closed, step), Err(No::Closed));
        }
    }

    #[test]
    fn only_work_still_owed_is_overdue() {
        let deadline = DateTime::from_timestamp(1_764_300_000, 0).unwrap();
        let later = deadline + chrono::Duration::seconds(1);
        assert!(rectification_overdue(
            RectificationStatus::Open,
            deadline,
            later
        ));
        assert!(rectification_overdue(
            RectificationStatus::Reopened,
            deadline,
            later
        ));
        assert!(!rectification_overdue(
            RectificationStatus::Open,
            deadline,
            deadline
        ));
        assert!(!rectification_overdue(
            RectificationStatus::Reported,
            deadline,
            later
        ));
        assert!(!rectification_overdue(
            RectificationStatus::Closed,
            deadline,
            later
        ));
    }

    #[test]
    fn names_round_trip() {
        for s in RectificationStatus::ALL {
            assert_eq!(RectificationStatus::parse(s.as_str()), Some(*s));
        }
        for k in SampledKind::ALL {
            assert_eq!(SampledKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(VerificationOutcome::parse("maybe"), None);
    }
}
