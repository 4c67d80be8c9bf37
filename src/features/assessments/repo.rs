//! Assessments in the database, and the raw inputs a computation gathers.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::dto::{Ballot, CommitteeRating, Scheme, store, stored};
use crate::core::Actor;
use crate::domain::assessment::{
    BRANCH_CRITERIA, ComponentKind, MEMBER_CRITERIA, Raw, Scorable, Scored, Subject, ballot_mean,
    round2,
};
use crate::domain::{PledgeStatus, Role};
use crate::entities::{
    assessment, assessment_appeal, assessment_ballot, assessment_committee_rating, assessment_mark,
    assessment_result, assessment_round, assessment_snapshot, branch, pledge, township, user,
    visit,
};
use crate::platform::error::ApiError;

pub const SUBJECT_KIND: &str = "assessment";

/// Who marked: on a member, their branch's secretary or a peer; on a branch,
/// one of its representatives.
pub const RATER_SECRETARY: &str = "secretary";
pub const RATER_PEER: &str = "peer";
pub const RATER_REPRESENTATIVE: &str = "representative";

pub fn subject_code(subject: Subject) -> &'static str {
    match subject {
        Subject::Branch => "branch",
        Subject::Member => "member",
    }
}

/// The instants of `year` in the township's zone: `[1 Jan 00:00, next 1 Jan 00:00)`.
pub fn year_window(year: i32, zone: chrono_tz::Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |y: i32| {
        let midnight = NaiveDate::from_ymd_opt(y, 1, 1)
            .unwrap_or_default()
            .and_time(chrono::NaiveTime::MIN);
        zone.from_local_datetime(&midnight)
            .earliest()
            .map(|at| at.with_timezone(&Utc))
            .unwrap_or_else(|| midnight.and_utc())
    };
    (start(year), start(year + 1))
}

pub async fn insert_assessment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    scheme: &Scheme,
    now: DateTime<Utc>,
) -> Result<assessment::Model, ApiError> {
    assessment::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        year: Set(scheme.year),
        branch_components: Set(store(&scheme.branch)),
        member_components: Set(store(&scheme.member)),
        version: Set(1),
        created_by: Set(actor.user_id),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            ApiError::conflict(
                "year",
                "year_taken",
                "该年度的考核方案已存在",
                "this year already has an assessment scheme",
            )
        } else {
            err.into()
        }
    })
}

/// Replaces the scheme's components (the snapshots keep the weights they were computed with).
pub async fn update_scheme(
    db: &impl ConnectionTrait,
    seen: &assessment::Model,
    scheme: &Scheme,
    now: DateTime<Utc>,
) -> Result<assessment::Model, ApiError> {
    let mut changed: assessment::ActiveModel = seen.clone().into();
    changed.branch_components = Set(store(&scheme.branch));
    changed.member_components = Set(store(&scheme.member));
    changed.version = Set(seen.version + 1);
    changed.updated_at = Set(now);
    Ok(changed.update(db).await?)
}

/// Replaces the committee's rating of each branch named.
pub async fn put_committee_ratings(
    db: &impl ConnectionTrait,
    actor: &Actor,
    assessment_id: Uuid,
    ratings: &[CommitteeRating],
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    use assessment_committee_rating::Column as C;
    assessment_committee_rating::Entity::delete_many()
        .filter(C::AssessmentId.eq(assessment_id))
        .filter(C::BranchId.is_in(ratings.iter().map(|r| r.branch_id)))
        .exec(db)
        .await?;
    let rows = ratings
        .iter()
        .map(|r| assessment_committee_rating::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(actor.township_id),
            assessment_id: Set(assessment_id),
            branch_id: Set(r.branch_id),
            points_hundredths: Set(r.points_hundredths),
            comment: Set(r.comment.clone()),
            rated_by: Set(actor.user_id),
            rated_at: Set(now),
        });
    assessment_committee_rating::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn committee_ratings(
    db: &impl ConnectionTrait,
    assessment_id: Uuid,
) -> Result<Vec<assessment_committee_rating::Model>, ApiError> {
    Ok(assessment_committee_rating::Entity::find()
        .filter(assessment_committee_rating::Column::AssessmentId.eq(assessment_id))
        .order_by_asc(assessment_committee_rating::Column::BranchId)
        .all(db)
        .await?)
}

pub async fn insert_round(
    db: &impl ConnectionTrait,
    actor: &Actor,
    assessment_id: Uuid,
    (opens_at, closes_at): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Result<assessment_round::Model, ApiError> {
    Ok(assessment_round::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        assessment_id: Set(assessment_id),
        opens_at: Set(opens_at),
        closes_at: Set(closes_at),
        created_by: Set(actor.user_id),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

pub async fn rounds_of(
    db: &impl ConnectionTrait,
    assessment_id: Uuid,
) -> Result<Vec<assessment_round::Model>, ApiError> {
    Ok(assessment_round::Entity::find()
        .filter(assessment_round::Column::AssessmentId.eq(assessment_id))
        .order_by_asc(assessment_round::Column::Id)
        .all(db)
        .await?)
}

/// Ballots cast per round (within one branch, if given).
pub async fn ballot_counts(
    db: &impl ConnectionTrait,
    round_ids: &[Uuid],
    branch_id: Option<Uuid>,
) -> Result<HashMap<Uuid, u64>, ApiError> {
    use assessment_ballot::Column as B;
    let mut query = assessment_ballot::Entity::find()
        .select_only()
        .column(B::RoundId)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(B::RoundId.is_in(round_ids.iter().copied()));
    if let Some(branch_id) = branch_id {
        query = query.filter(B::BranchId.eq(branch_id));
    }
    let rows: Vec<(Uuid, i64)> = query.group_by(B::RoundId).into_tuple().all(db).await?;
    Ok(rows
        .into_iter()
        .map(|(id, n)| (id, u64::try_from(n).unwrap_or_default()))
        .collect())
}

/// The rounds among `round_ids` in which `voter_id` has cast a ballot.
pub async fn voted_in(
    db: &impl ConnectionTrait,
    round_ids: &[Uuid],
    voter_id: Uuid,
) -> Result<Vec<Uuid>, ApiError> {
    use assessment_ballot::Column as B;
    Ok(assessment_ballot::Entity::find()
        .select_only()
        .column(B::RoundId)
        .filter(B::RoundId.is_in(round_ids.iter().copied()))
        .filter(B::VoterId.eq(voter_id))
        .into_tuple()
        .all(db)
        .await?)
}

pub fn already_voted() -> ApiError {
    ApiError::conflict(
        "round_id",
        "already_voted",
        "您已在本轮测评中投票",
        "you have already cast your ballot in this round",
    )
}

/// Records that the caller voted (the unique index keeps it to once), then
/// the marks, which carry no voter.
pub async fn cast(
    db: &impl ConnectionTrait,
    actor: &Actor,
    round: &assessment_round::Model,
    ballot: &Ballot,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    assessment_ballot::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        round_id: Set(round.id),
        branch_id: Set(ballot.branch_id),
        voter_id: Set(actor.user_id),
        cast_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            already_voted()
        } else {
            err.into()
        }
    })?;
    let member_role = if actor.role == Role::Secretary {
        RATER_SECRETARY
    } else {
        RATER_PEER
    };
    let mark = |kind: &str, subject: Uuid, role: &str, m: [i16; 5]| assessment_mark::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        assessment_id: Set(round.assessment_id),
        round_id: Set(round.id),
        branch_id: Set(ballot.branch_id),
        subject_kind: Set(kind.to_owned()),
        subject_id: Set(subject),
        rater_role: Set(role.to_owned()),
        mark1: Set(m[0]),
        mark2: Set(m[1]),
        mark3: Set(m[2]),
        mark4: Set(m[3]),
        mark5: Set(m[4]),
    };
    let mut rows = vec![mark(
        "branch",
        ballot.branch_id,
        RATER_REPRESENTATIVE,
        ballot.branch_marks,
    )];
    rows.extend(
        ballot
            .member_marks
            .iter()
            .map(|(member, marks)| mark("member", *member, member_role, *marks)),
    );
    assessment_mark::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The active members and secretaries of a branch.
pub async fn members_of(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    branch_id: Uuid,
) -> Result<Vec<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::TownshipId.eq(township_id))
        .filter(user::Column::BranchId.eq(branch_id))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.is_in([Role::Member.as_str(), Role::Secretary.as_str()]))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?)
}

#[derive(Debug, FromQueryResult)]
struct MarkTotals {
    subject_kind: String,
    subject_id: Uuid,
    rater_role: String,
    ballots: i64,
    sum1: Option<i64>,
    sum2: Option<i64>,
    sum3: Option<i64>,
    sum4: Option<i64>,
    sum5: Option<i64>,
}

/// Every mark of the assessment, summed per subject and kind of rater: one query.
async fn mark_totals(
    db: &impl ConnectionTrait,
    assessment_id: Uuid,
) -> Result<HashMap<(Uuid, String), (i64, [i64; 5])>, ApiError> {
    use assessment_mark::Column as K;
    let rows = assessment_mark::Entity::find()
        .select_only()
        .column(K::SubjectKind)
        .column(K::SubjectId)
        .column(K::RaterRole)
        .column_as(Expr::cust("COUNT(*)"), "ballots")
        .column_as(Expr::cust("CAST(SUM(mark1) AS BIGINT)"), "sum1")
        .column_as(Expr::cust("CAST(SUM(mark2) AS BIGINT)"), "sum2")
        .column_as(Expr::cust("CAST(SUM(mark3) AS BIGINT)"), "sum3")
        .column_as(Expr::cust("CAST(SUM(mark4) AS BIGINT)"), "sum4")
        .column_as(Expr::cust("CAST(SUM(mark5) AS BIGINT)"), "sum5")
        .filter(K::AssessmentId.eq(assessment_id))
        .group_by(K::SubjectKind)
        .group_by(K::SubjectId)
        .group_by(K::RaterRole)
        .into_model::<MarkTotals>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let sums = [r.sum1, r.sum2, r.sum3, r.sum4, r.sum5].map(Option::unwrap_or_default);
            let _ = r.subject_kind;
            ((r.subject_id, r.rater_role), (r.ballots, sums))
        })
        .collect())
}

/// A ballot component's raw input: the mean of every mark, with each
/// criterion's mean and the number of ballots behind it.
fn ballot_raw(criteria: &[(&str, &str); 5], totals: Option<&(i64, [i64; 5])>) -> Raw {
    let Some((ballots, sums)) = totals.filter(|(n, _)| *n > 0) else {
        return Raw::missing(json!({ "ballots": 0 }));
    };
    let per_criterion: BTreeMap<&str, f64> = criteria
        .iter()
        .zip(sums)
        .map(|((code, _), sum)| (*code, round2(*sum as f64 / *ballots as f64)))
        .collect();
    let mean = ballot_mean(sums.iter().sum(), ballots * 5);
    Raw {
        value: mean,
        detail: json!({ "ballots": ballots, "criteria": per_criterion }),
    }
}

fn rate_raw(part: u64, whole: u64, detail: serde_json::Value) -> Raw {
    if whole == 0 {
        Raw::missing(detail)
    } else {
        Raw::of(part as f64 / whole as f64, detail)
    }
}

/// Everything a computation scores, branches and members, with the raw
/// inputs of the scheme's components: one grouped query per source.
pub async fn gather(
    db: &impl ConnectionTrait,
    actor: &Actor,
    a: &assessment::Model,
) -> Result<(Vec<Scorable>, Vec<Scorable>), ApiError> {
    let township = township::Entity::find_by_id(actor.township_id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    let (from, to) = year_window(a.year, crate::domain::buckets::zone(&township.timezone));
    let branch_kinds: Vec<ComponentKind> = stored(&a.branch_components)
        .iter()
        .map(|c| c.kind)
        .collect();
    let member_kinds: Vec<ComponentKind> = stored(&a.member_components)
        .iter()
        .map(|c| c.kind)
        .collect();
    let wants = |k: ComponentKind| branch_kinds.contains(&k) || member_kinds.contains(&k);

    let branches = branch::Entity::find()
        .filter(branch::Column::TownshipId.eq(actor.township_id))
        .order_by_asc(branch::Column::Id)
        .all(db)
        .await?;
    let marks = mark_totals(db, a.id).await?;
    let mut by_branch: HashMap<Uuid, HashMap<ComponentKind, Raw>> = HashMap::new();
    let mut put = |branch: Uuid, kind: ComponentKind, raw: Raw| {
        by_branch.entry(branch).or_default().insert(kind, raw);
    };
    for b in &branches {
        put(
            b.id,
            ComponentKind::RepresentativeBallot,
            ballot_raw(
                &BRANCH_CRITERIA,
                marks.get(&(b.id, RATER_REPRESENTATIVE.to_owned())),
            ),
        );
    }
    if wants(ComponentKind::PledgeFulfilment) {
        for (branch, raw) in pledge_completion(db, actor.township_id, a.year).await? {
            put(branch, ComponentKind::PledgeFulfilment, raw);
        }
    }
    if wants(ComponentKind::CommitteeRating) {
        for r in committee_ratings(db, a.id).await? {
            let points = f64::from(r.points_hundredths) / 100.0;
            put(
                r.branch_id,
                ComponentKind::CommitteeRating,
                Raw::of(points, json!({ "points": points, "comment": r.comment })),
            );
        }
    }
    if wants(ComponentKind::VisitCoverage) || wants(ComponentKind::MediationResolution) {
        let scope = crate::features::stats::repo::Scope {
            township_id: actor.township_id,
            branch_id: None,
            from: Some(from),
            to: Some(to),
        };
        for (branch, f) in crate::features::stats::repo::figures_by_branch(db, &scope, to).await? {
            put(
                branch,
                ComponentKind::VisitCoverage,
                rate_raw(
                    f.households_visited,
                    f.households,
                    json!({ "households": f.households, "households_visited": f.households_visited }),
                ),
            );
            put(
                branch,
                ComponentKind::MediationResolution,
                rate_raw(
                    f.reports_resolved,
                    f.reports,
                    json!({ "reports": f.reports, "resolved": f.reports_resolved }),
                ),
            );
        }
    }
    if wants(ComponentKind::ReviewTurnaround) {
        for (branch, raw) in review_turnaround(db, actor.township_id, from, to).await? {
            put(branch, ComponentKind::ReviewTurnaround, raw);
        }
    }
    if wants(ComponentKind::SpotCheckConfirmation) {
        let checks = crate::features::spot_checks::repo::Checks::Drawn { from, to };
        for (branch, t) in crate::features::spot_checks::repo::tallies(db, actor, checks).await? {
            put(
                branch,
                ComponentKind::SpotCheckConfirmation,
                rate_raw(
                    t.confirmed,
                    t.verified,
                    json!({ "sampled": t.sampled, "verified": t.verified, "confirmed": t.confirmed, "discrepancies": t.discrepancies }),
                ),
            );
        }
    }
    let branch_subjects = branches
        .iter()
        .map(|b| Scorable {
            subject_id: b.id,
            name: b.name.clone(),
            branch_id: b.id,
            raw: by_branch.remove(&b.id).unwrap_or_default(),
        })
        .collect();

    let scope = crate::features::stats::repo::Scope {
        township_id: actor.township_id,
        branch_id: None,
        from: Some(from),
        to: Some(to),
    };
    let member_subjects = crate::features::stats::repo::member_figures(db, &scope)
        .await?
        .into_iter()
        .filter_map(|f| {
            let branch_id = f.member.branch_id?;
            let id = f.member.id;
            let mut raw = HashMap::new();
            raw.insert(
                ComponentKind::SecretaryRating,
                ballot_raw(
                    &MEMBER_CRITERIA,
                    marks.get(&(id, RATER_SECRETARY.to_owned())),
                ),
            );
            raw.insert(
                ComponentKind::PeerRating,
                ballot_raw(&MEMBER_CRITERIA, marks.get(&(id, RATER_PEER.to_owned()))),
            );
            raw.insert(
                ComponentKind::MemberVisits,
                Raw::of(
                    f.visits as f64,
                    json!({ "visits": f.visits, "assigned_households": f.assigned_households }),
                ),
            );
            Some(Scorable {
                subject_id: id,
                name: f.member.name,
                branch_id,
                raw,
            })
        })
        .collect();
    Ok((branch_subjects, member_subjects))
}

/// Each branch's published pledges of the year (任职承诺), and their mean
/// completion: fulfilled 100 %, not fulfilled 0 %, still open what the
/// pledge wall shows (measured targets, else the reported percent, else 0).
async fn pledge_completion(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    year: i32,
) -> Result<Vec<(Uuid, Raw)>, ApiError> {
    let published = [
        PledgeStatus::Approved,
        PledgeStatus::Fulfilled,
        PledgeStatus::NotFulfilled,
    ];
    let pledges = pledge::Entity::find()
        .filter(pledge::Column::TownshipId.eq(township_id))
        .filter(pledge::Column::Scope.eq(crate::domain::PledgeScope::Branch.as_str()))
        .filter(pledge::Column::Year.eq(year))
        .filter(pledge::Column::Status.is_in(published.map(PledgeStatus::as_str)))
        .order_by_asc(pledge::Column::Id)
        .all(db)
        .await?;
    let figures = crate::features::pledges::repo::figures(db, &pledges).await?;
    let mut per_branch: BTreeMap<Uuid, Vec<(Uuid, String, i32)>> = BTreeMap::new();
    for p in &pledges {
        let percent = match PledgeStatus::parse(&p.status) {
            Some(PledgeStatus::Fulfilled) => 100,
            Some(PledgeStatus::NotFulfilled) => 0,
            _ => figures.summary(p).progress_percent.unwrap_or(0),
        };
        per_branch.entry(p.branch_id).or_default().push((
            p.id,
            p.status.clone(),
            percent.clamp(0, 100),
        ));
    }
    Ok(per_branch
        .into_iter()
        .map(|(branch, list)| {
            let mean =
                list.iter().map(|(_, _, p)| f64::from(*p)).sum::<f64>() / list.len() as f64 / 100.0;
            let detail = json!({
                "pledges": list.iter().map(|(id, status, percent)| json!({
                    "id": id, "status": status, "completion_percent": percent
                })).collect::<Vec<_>>()
            });
            (branch, Raw::of(mean, detail))
        })
        .collect())
}

/// Mean hours from submission to review of the visits reviewed in the period, per branch.
async fn review_turnaround(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Uuid, Raw)>, ApiError> {
    let rows: Vec<(Uuid, DateTime<Utc>, Option<DateTime<Utc>>)> = visit::Entity::find()
        .select_only()
        .column(visit::Column::BranchId)
        .column(visit::Column::SubmittedAt)
        .column(visit::Column::ReviewedAt)
        .filter(visit::Column::TownshipId.eq(township_id))
        .filter(visit::Column::ReviewedAt.gte(from))
        .filter(visit::Column::ReviewedAt.lt(to))
        .into_tuple()
        .all(db)
        .await?;
    let mut sums: BTreeMap<Uuid, (f64, u64)> = BTreeMap::new();
    for (branch, submitted, reviewed) in rows {
        if let Some(reviewed) = reviewed {
            let hours = (reviewed - submitted).num_seconds().max(0) as f64 / 3600.0;
            let entry = sums.entry(branch).or_default();
            entry.0 += hours;
            entry.1 += 1;
        }
    }
    Ok(sums
        .into_iter()
        .map(|(branch, (hours, n))| {
            let mean = hours / n as f64;
            (
                branch,
                Raw::of(
                    mean,
                    json!({ "reviews": n, "mean_hours": (mean * 10.0).round() / 10.0 }),
                ),
            )
        })
        .collect())
}

/// Stores a computation as the assessment's next version, results and all.
pub async fn insert_snapshot(
    db: &impl ConnectionTrait,
    actor: &Actor,
    a: &assessment::Model,
    branches: &[Scored],
    members: &[Scored],
    now: DateTime<Utc>,
) -> Result<assessment_snapshot::Model, ApiError> {
    let latest: Option<i32> = assessment_snapshot::Entity::find()
        .select_only()
        .column_as(assessment_snapshot::Column::Version.max(), "v")
        .filter(assessment_snapshot::Column::AssessmentId.eq(a.id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    let snapshot = assessment_snapshot::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        assessment_id: Set(a.id),
        version: Set(latest.unwrap_or(0) + 1),
        year: Set(a.year),
        branch_components: Set(a.branch_components.clone()),
        member_components: Set(a.member_components.clone()),
        computed_by: Set(actor.user_id),
        computed_at: Set(now),
        published_by: Set(None),
        published_at: Set(None),
        appeal_until: Set(None),
    }
    .insert(db)
    .await
    .map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            ApiError::conflict(
                "version",
                "computing",
                "正在计算考核结果，请稍后刷新",
                "the assessment is being computed; reload in a moment",
            )
        } else {
            err.into()
        }
    })?;
    let rows: Vec<assessment_result::ActiveModel> = branches
        .iter()
        .map(|s| (Subject::Branch, s))
        .chain(members.iter().map(|s| (Subject::Member, s)))
        .map(|(subject, s)| assessment_result::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(actor.township_id),
            snapshot_id: Set(snapshot.id),
            branch_id: Set(s.branch_id),
            subject_kind: Set(subject_code(subject).to_owned()),
            subject_id: Set(s.subject_id),
            subject_name: Set(s.name.clone()),
            rank: Set(i32::try_from(s.rank).unwrap_or(i32::MAX)),
            total: Set(s.total),
            components: Set(serde_json::to_value(&s.components).unwrap_or_default()),
        })
        .collect();
    for chunk in rows.chunks(500) {
        assessment_result::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(snapshot)
}

/// The snapshots of an assessment the caller may see: admins every one,
/// others the published.
pub async fn snapshots_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    assessment_id: Uuid,
) -> Result<Vec<assessment_snapshot::Model>, ApiError> {
    use assessment_snapshot::Column as S;
    let mut query = actor
        .scoped::<assessment_snapshot::Entity>()
        .filter(S::AssessmentId.eq(assessment_id));
    if !actor.is_admin() {
        query = query.filter(S::PublishedAt.is_not_null());
    }
    Ok(query.order_by_desc(S::Version).all(db).await?)
}

/// A snapshot the caller may see: admins any; others a published one.
pub async fn find_snapshot(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<assessment_snapshot::Model, ApiError> {
    let found = actor
        .find_in_reach::<assessment_snapshot::Entity>(db, id)
        .await?;
    if found.published_at.is_none() && !actor.is_admin() {
        return Err(ApiError::NotFound);
    }
    Ok(found)
}

/// Results of a snapshot within the caller's reach, best first: admins
/// every row; secretaries their branch and its members; members their own.
pub async fn results(
    db: &impl ConnectionTrait,
    actor: &Actor,
    snapshot_id: Uuid,
    subject: Option<Subject>,
    branch_id: Option<Uuid>,
) -> Result<Vec<assessment_result::Model>, ApiError> {
    use assessment_result::Column as T;
    let mut query = actor
        .scoped::<assessment_result::Entity>()
        .filter(T::SnapshotId.eq(snapshot_id));
    if actor.role == Role::Member {
        query = query
            .filter(T::SubjectKind.eq("member"))
            .filter(T::SubjectId.eq(actor.user_id));
    }
    if let Some(subject) = subject {
        query = query.filter(T::SubjectKind.eq(subject_code(subject)));
    }
    if let Some(branch_id) = branch_id {
        query = query.filter(T::BranchId.eq(branch_id));
    }
    Ok(query
        .order_by_asc(T::SubjectKind)
        .order_by_asc(T::Rank)
        .all(db)
        .await?)
}

/// Publishes a draft, opening its appeal window; false when it was published meanwhile.
pub async fn publish(
    db: &impl ConnectionTrait,
    actor: &Actor,
    snapshot_id: Uuid,
    now: DateTime<Utc>,
    appeal_until: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use assessment_snapshot::Column as S;
    let updated = assessment_snapshot::Entity::update_many()
        .col_expr(S::PublishedAt, Expr::value(now))
        .col_expr(S::PublishedBy, Expr::value(actor.user_id))
        .col_expr(S::AppealUntil, Expr::value(appeal_until))
        .filter(S::Id.eq(snapshot_id))
        .filter(S::PublishedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub async fn insert_appeal(
    db: &impl ConnectionTrait,
    actor: &Actor,
    snapshot_id: Uuid,
    branch_id: Uuid,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<assessment_appeal::Model, ApiError> {
    assessment_appeal::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        snapshot_id: Set(snapshot_id),
        branch_id: Set(branch_id),
        reason: Set(reason.to_owned()),
        filed_by: Set(actor.user_id),
        filed_at: Set(now),
        answer: Set(None),
        answered_by: Set(None),
        answered_at: Set(None),
    }
    .insert(db)
    .await
    .map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            already_appealed()
        } else {
            err.into()
        }
    })
}

pub fn already_appealed() -> ApiError {
    ApiError::conflict(
        "branch_id",
        "already_appealed",
        "本支部已对该结果提出申诉",
        "your branch has already objected to this result",
    )
}

pub async fn appeal_of(
    db: &impl ConnectionTrait,
    snapshot_id: Uuid,
    branch_id: Uuid,
) -> Result<Option<assessment_appeal::Model>, ApiError> {
    Ok(assessment_appeal::Entity::find()
        .filter(assessment_appeal::Column::SnapshotId.eq(snapshot_id))
        .filter(assessment_appeal::Column::BranchId.eq(branch_id))
        .one(db)
        .await?)
}

pub async fn appeals(
    db: &impl ConnectionTrait,
    actor: &Actor,
    snapshot_id: Uuid,
) -> Result<Vec<assessment_appeal::Model>, ApiError> {
    Ok(actor
        .scoped::<assessment_appeal::Entity>()
        .filter(assessment_appeal::Column::SnapshotId.eq(snapshot_id))
        .order_by_asc(assessment_appeal::Column::Id)
        .all(db)
        .await?)
}

/// Answers an appeal; false when it was answered meanwhile.
pub async fn answer(
    db: &impl ConnectionTrait,
    actor: &Actor,
    appeal_id: Uuid,
    text: &str,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use assessment_appeal::Column as P;
    let updated = assessment_appeal::Entity::update_many()
        .col_expr(P::Answer, Expr::value(text.to_owned()))
        .col_expr(P::AnsweredBy, Expr::value(actor.user_id))
        .col_expr(P::AnsweredAt, Expr::value(now))
        .filter(P::Id.eq(appeal_id))
        .filter(P::AnsweredAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}
