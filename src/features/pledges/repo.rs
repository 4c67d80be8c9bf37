//! Pledges in the database: the wall and its figures (a fixed number of
//! queries for any page), progress, comments, ratings and status changes.

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, JoinType, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::dto::*;
use crate::core::Actor;
use crate::core::access::PledgeOwner;
use crate::domain::pledge::{EvidenceKind, PledgeMetric, overall_percent, percent_of};
use crate::domain::{FieldErrors, PledgeScope, PledgeStatus};
use crate::entities::{pledge, pledge_comment, pledge_progress, pledge_rating};
use crate::platform::error::ApiError;
use crate::platform::http::pagination::PageParams;

pub const SUBJECT_KIND: &str = "pledge";

/// Where the submissions of an evidence kind live, for counting and citing.
/// Each table has `id`, `township_id`, `branch_id` and `status` columns.
struct EvidenceSource {
    table: &'static str,
    /// The member who submitted it.
    author: &'static str,
    /// When it happened (the client's time), for the pledge's period.
    at: &'static str,
}

/// The table behind each evidence kind.
fn source_of(kind: EvidenceKind) -> EvidenceSource {
    match kind {
        EvidenceKind::Visit => EvidenceSource {
            table: "visits",
            author: "member_id",
            at: "visited_at",
        },
        EvidenceKind::MediationReport => EvidenceSource {
            table: "mediation_reports",
            author: "member_id",
            at: "occurred_at",
        },
    }
}

/// A pledge the caller may read, or 404.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<pledge::Model, ApiError> {
    actor.find_submission::<pledge::Entity>(db, id).await
}

/// Whose pledge it is, for the owner rules.
pub fn owner_of(p: &pledge::Model) -> PledgeOwner {
    PledgeOwner {
        branch_id: p.branch_id,
        scope: scope_and_status(p).0,
        author_id: p.author_id,
    }
}

/// A page of the wall: branch pledges first, then members', newest first in
/// each; the cursor carries both keys.
#[derive(Debug, Clone, Copy)]
pub struct WallPage {
    pub limit: u64,
    pub after: Option<(PledgeScope, Uuid)>,
}

impl WallPage {
    pub fn parse(params: &PageParams) -> Result<Self, ApiError> {
        let limit = params.limit()?;
        let after = match params.cursor.as_deref() {
            None | Some("") => None,
            Some(cursor) => {
                Some(decode_cursor(cursor).ok_or_else(|| ApiError::BadRequest("cursor".into()))?)
            }
        };
        Ok(WallPage { limit, after })
    }
}

fn encode_cursor(scope: PledgeScope, id: Uuid) -> String {
    let mut bytes = Vec::with_capacity(17);
    bytes.push(match scope {
        PledgeScope::Branch => b'b',
        PledgeScope::Member => b'm',
    });
    bytes.extend_from_slice(id.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

fn decode_cursor(cursor: &str) -> Option<(PledgeScope, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let (scope, id) = bytes.split_first()?;
    let scope = match scope {
        b'b' => PledgeScope::Branch,
        b'm' => PledgeScope::Member,
        _ => return None,
    };
    Some((scope, Uuid::from_slice(id).ok()?))
}

/// The wall within reach: members see their own pledges and the published
/// ones of their branch; secretaries their branch's; township admins all.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &PledgeFilter,
    page: WallPage,
) -> Result<(Vec<pledge::Model>, Option<String>), ApiError> {
    let mut query = actor.scoped_submissions::<pledge::Entity>();
    if let Some(scope) = filter.scope {
        query = query.filter(pledge::Column::Scope.eq(scope.as_str()));
    }
    if let Some(branch_id) = filter.branch_id {
        query = query.filter(pledge::Column::BranchId.eq(branch_id));
    }
    if let Some(member_id) = filter.member_id {
        query = query
            .filter(pledge::Column::Scope.eq(PledgeScope::Member.as_str()))
            .filter(pledge::Column::AuthorId.eq(member_id));
    }
    if let Some(year) = filter.year {
        query = query.filter(pledge::Column::Year.eq(year));
    }
    if let Some(status) = filter.status {
        query = query.filter(pledge::Column::Status.eq(status.as_str()));
    }
    // 'branch' sorts before 'member', so the scope's own order puts branch
    // pledges first.
    if let Some((scope, id)) = page.after {
        query = query.filter(
            Condition::any()
                .add(pledge::Column::Scope.gt(scope.as_str()))
                .add(
                    Condition::all()
                        .add(pledge::Column::Scope.eq(scope.as_str()))
                        .add(pledge::Column::Id.lt(id)),
                ),
        );
    }
    let mut rows = query
        .order_by_asc(pledge::Column::Scope)
        .order_by_desc(pledge::Column::Id)
        .limit(page.limit + 1)
        .all(db)
        .await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(usize::try_from(page.limit).unwrap_or(usize::MAX));
    let next = if more {
        rows.last()
            .map(|p| encode_cursor(scope_and_status(p).0, p.id))
    } else {
        None
    };
    Ok((rows, next))
}

/// What the wall shows beside each pledge, read for a whole page at once.
#[derive(Debug, Default)]
pub struct Figures {
    names: HashMap<Uuid, String>,
    ratings: HashMap<Uuid, RatingSummary>,
    comments: HashMap<Uuid, i64>,
    achieved: HashMap<(Uuid, PledgeMetric), i64>,
}

#[derive(Debug, FromQueryResult)]
struct RatingTotals {
    pledge_id: Uuid,
    total: Option<i64>,
    count: i64,
}

#[derive(Debug, FromQueryResult)]
struct CommentCount {
    pledge_id: Uuid,
    count: i64,
}

/// Names, rating summaries, comment counts and measured completion of
/// `pledges`: at most five queries however many there are.
pub async fn figures(
    db: &impl ConnectionTrait,
    pledges: &[pledge::Model],
) -> Result<Figures, ApiError> {
    if pledges.is_empty() {
        return Ok(Figures::default());
    }
    let ids: Vec<Uuid> = pledges.iter().map(|p| p.id).collect();
    let names = crate::core::directory::user_names(db, pledges.iter().map(|p| p.author_id)).await?;
    let ratings = pledge_rating::Entity::find()
        .select_only()
        .column(pledge_rating::Column::PledgeId)
        .column_as(pledge_rating::Column::Score.sum(), "total")
        .column_as(pledge_rating::Column::Id.count(), "count")
        .filter(pledge_rating::Column::PledgeId.is_in(ids.iter().copied()))
        .group_by(pledge_rating::Column::PledgeId)
        .into_model::<RatingTotals>()
        .all(db)
        .await?
        .into_iter()
        .map(|r| {
            (
                r.pledge_id,
                RatingSummary::from_totals(r.total.unwrap_or(0), r.count),
            )
        })
        .collect();
    let comments = pledge_comment::Entity::find()
        .select_only()
        .column(pledge_comment::Column::PledgeId)
        .column_as(pledge_comment::Column::Id.count(), "count")
        .filter(pledge_comment::Column::PledgeId.is_in(ids.iter().copied()))
        .group_by(pledge_comment::Column::PledgeId)
        .into_model::<CommentCount>()
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.pledge_id, c.count))
        .collect();
    let mut achieved = HashMap::new();
    for metric in [PledgeMetric::Visits, PledgeMetric::MediationReports] {
        let measured: Vec<Uuid> = pledges
            .iter()
            .filter(|p| {
                stored_targets(p)
                    .iter()
                    .any(|t| t.metric.is_some_and(|m| m.metric == metric))
            })
            .map(|p| p.id)
            .collect();
        for (id, count) in achieved_counts(db, metric, &measured).await? {
            achieved.insert((id, metric), count);
        }
    }
    Ok(Figures {
        names,
        ratings,
        comments,
        achieved,
    })
}

/// How many approved submissions of `metric` each pledge's owner made in its
/// period, in one query: a member pledge counts its member's, a branch
/// pledge its whole branch's.
async fn achieved_counts(
    db: &impl ConnectionTrait,
    metric: PledgeMetric,
    pledge_ids: &[Uuid],
) -> Result<Vec<(Uuid, i64)>, ApiError> {
    let source = source_of(metric.evidence_kind());
    if pledge_ids.is_empty() {
        return Ok(Vec::new());
    }
    let (p, s) = (Alias::new("p"), Alias::new("s"));
    let of_s = |column: &str| Expr::col((s.clone(), Alias::new(column)));
    let of_p = |column: pledge::Column| Expr::col((p.clone(), column));
    let owner = Condition::any()
        .add(
            Condition::all()
                .add(of_p(pledge::Column::Scope).eq(PledgeScope::Member.as_str()))
                .add(of_s(source.author).equals((p.clone(), pledge::Column::AuthorId))),
        )
        .add(
            Condition::all()
                .add(of_p(pledge::Column::Scope).eq(PledgeScope::Branch.as_str()))
                .add(of_s("branch_id").equals((p.clone(), pledge::Column::BranchId))),
        );
    let on = Condition::all()
        .add(of_s("township_id").equals((p.clone(), pledge::Column::TownshipId)))
        .add(of_s("status").eq("approved"))
        .add(of_s(source.at).gte(of_p(pledge::Column::CountsFrom)))
        .add(of_s(source.at).lt(of_p(pledge::Column::CountsUntil)))
        .add(owner);
    let statement = Query::select()
        .expr_as(of_p(pledge::Column::Id), Alias::new("pledge_id"))
        .expr_as(Func::count(of_s("id")), Alias::new("achieved"))
        .from_as(pledge::Entity, p.clone())
        .join_as(JoinType::InnerJoin, Alias::new(source.table), s.clone(), on)
        .and_where(of_p(pledge::Column::Id).is_in(pledge_ids.iter().copied()))
        .group_by_col((p.clone(), pledge::Column::Id))
        .to_owned();
    let mut counts = Vec::new();
    for row in db.query_all(&statement).await? {
        counts.push((
            row.try_get::<Uuid>("", "pledge_id")?,
            row.try_get::<i64>("", "achieved")?,
        ));
    }
    Ok(counts)
}

impl Figures {
    /// `p` as the wall shows it.
    pub fn summary(&self, p: &pledge::Model) -> PledgeSummary {
        let (scope, status) = scope_and_status(p);
        let targets: Vec<TargetView> = stored_targets(p)
            .into_iter()
            .map(|t| {
                let achieved = t
                    .metric
                    .map(|m| self.achieved.get(&(p.id, m.metric)).copied().unwrap_or(0));
                let percent = t
                    .metric
                    .zip(achieved)
                    .map(|(m, done)| percent_of(done, m.count));
                TargetView {
                    description: t.description,
                    due_date: t.due_date,
                    metric: t.metric,
                    achieved,
                    percent,
                }
            })
            .collect();
        let measured: Vec<i32> = targets.iter().filter_map(|t| t.percent).collect();
        PledgeSummary {
            id: p.id,
            branch_id: p.branch_id,
            scope,
            author_id: p.author_id,
            author_name: self.names.get(&p.author_id).cloned().unwrap_or_default(),
            member_id: (scope == PledgeScope::Member).then_some(p.author_id),
            year: p.year,
            title: p.title.clone(),
            content: p.content.clone(),
            progress_percent: overall_percent(status, &measured, p.reported_percent),
            targets,
            period_start: p.period_start,
            period_end: p.period_end,
            status,
            review: review_of(p, status),
            fulfilment: fulfilment_of(p, status),
            rating: self.ratings.get(&p.id).copied().unwrap_or_default(),
            comment_count: self.comments.get(&p.id).copied().unwrap_or(0),
            version: p.version,
            submitted_at: p.submitted_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

/// One pledge with its progress, leader comments and ratings.
pub async fn view(db: &impl ConnectionTrait, p: pledge::Model) -> Result<PledgeView, ApiError> {
    let figures = figures(db, std::slice::from_ref(&p)).await?;
    let progress = pledge_progress::Entity::find()
        .filter(pledge_progress::Column::PledgeId.eq(p.id))
        .order_by_asc(pledge_progress::Column::Id)
        .all(db)
        .await?;
    let comments = pledge_comment::Entity::find()
        .filter(pledge_comment::Column::PledgeId.eq(p.id))
        .order_by_asc(pledge_comment::Column::Id)
        .all(db)
        .await?;
    let ratings = pledge_rating::Entity::find()
        .filter(pledge_rating::Column::PledgeId.eq(p.id))
        .order_by_desc(pledge_rating::Column::UpdatedAt)
        .all(db)
        .await?;
    let names = crate::core::directory::user_names(
        db,
        comments
            .iter()
            .map(|c| c.author_id)
            .chain(ratings.iter().map(|r| r.rater_id)),
    )
    .await?;
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_default();
    Ok(PledgeView {
        pledge: figures.summary(&p),
        progress: progress.into_iter().map(progress_view).collect(),
        leader_comments: comments
            .into_iter()
            .map(|c| CommentView {
                author_name: name(&c.author_id),
                id: c.id,
                pledge_id: c.pledge_id,
                author_id: c.author_id,
                body: c.body,
                created_at: c.created_at,
            })
            .collect(),
        ratings: ratings
            .into_iter()
            .map(|r| RatingView {
                rater_name: name(&r.rater_id),
                rater_id: r.rater_id,
                score: r.score,
                comment: r.comment,
                created_at: r.created_at,
                updated_at: r.updated_at,
            })
            .collect(),
    })
}

pub fn progress_view(e: pledge_progress::Model) -> ProgressView {
    ProgressView {
        id: e.id,
        pledge_id: e.pledge_id,
        author_id: e.author_id,
        note: e.note,
        percent: e.percent,
        photo_ids: serde_json::from_value(e.photo_ids).unwrap_or_default(),
        evidence: serde_json::from_value(e.evidence).unwrap_or_default(),
        created_at: e.created_at,
    }
}

/// Inserts a pledge: a member's `pending`, a branch's `approved` at once.
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    branch_id: Uuid,
    scope: PledgeScope,
    content: &PledgeContent,
    now: DateTime<Utc>,
) -> Result<pledge::Model, ApiError> {
    let status = match scope {
        PledgeScope::Member => PledgeStatus::Pending,
        PledgeScope::Branch => PledgeStatus::Approved,
    };
    let (counts_from, counts_until) = content.period.window();
    Ok(pledge::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        branch_id: Set(branch_id),
        scope: Set(scope.as_str().to_owned()),
        author_id: Set(actor.user_id),
        year: Set(content.year),
        title: Set(content.title.clone()),
        content: Set(content.content.clone()),
        targets: Set(serde_json::json!(content.targets)),
        period_start: Set(content.period_start),
        period_end: Set(content.period_end),
        counts_from: Set(counts_from),
        counts_until: Set(counts_until),
        reported_percent: Set(None),
        status: Set(status.as_str().to_owned()),
        version: Set(1),
        reviewer_id: Set(None),
        review_decision: Set(None),
        review_comment: Set(None),
        reviewed_at: Set(None),
        fulfilled_by: Set(None),
        fulfilment_note: Set(None),
        fulfilled_at: Set(None),
        submitted_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Writes an edited returned pledge back as pending, conditional on the
/// version the author edited (a concurrent edit answers 409).
pub async fn resubmit(
    db: &impl ConnectionTrait,
    current: &pledge::Model,
    content: &PledgeContent,
    now: DateTime<Utc>,
) -> Result<pledge::Model, ApiError> {
    let (counts_from, counts_until) = content.period.window();
    let updated = pledge::Entity::update_many()
        .col_expr(pledge::Column::Year, Expr::value(content.year))
        .col_expr(pledge::Column::Title, Expr::value(content.title.clone()))
        .col_expr(
            pledge::Column::Content,
            Expr::value(content.content.clone()),
        )
        .col_expr(
            pledge::Column::Targets,
            Expr::value(serde_json::json!(content.targets)),
        )
        .col_expr(
            pledge::Column::PeriodStart,
            Expr::value(content.period_start),
        )
        .col_expr(pledge::Column::PeriodEnd, Expr::value(content.period_end))
        .col_expr(pledge::Column::CountsFrom, Expr::value(counts_from))
        .col_expr(pledge::Column::CountsUntil, Expr::value(counts_until))
        .col_expr(
            pledge::Column::Status,
            Expr::value(PledgeStatus::Pending.as_str()),
        )
        .col_expr(pledge::Column::SubmittedAt, Expr::value(now))
        .col_expr(pledge::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            pledge::Column::Version,
            Expr::col(pledge::Column::Version).add(1),
        )
        .filter(pledge::Column::Id.eq(current.id))
        .filter(pledge::Column::Version.eq(current.version))
        .filter(pledge::Column::Status.eq(PledgeStatus::Returned.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(crate::core::review::not_returned());
    }
    reload(db, current.id).await
}

/// Marks an approved pledge fulfilled or not, conditional on the version seen.
pub async fn fulfil(
    db: &impl ConnectionTrait,
    actor: &Actor,
    current: &pledge::Model,
    outcome: PledgeStatus,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<pledge::Model, ApiError> {
    let updated = pledge::Entity::update_many()
        .col_expr(pledge::Column::Status, Expr::value(outcome.as_str()))
        .col_expr(pledge::Column::FulfilledBy, Expr::value(actor.user_id))
        .col_expr(
            pledge::Column::FulfilmentNote,
            Expr::value(note.map(str::to_owned)),
        )
        .col_expr(pledge::Column::FulfilledAt, Expr::value(now))
        .col_expr(pledge::Column::UpdatedAt, Expr::value(now))
        .col_expr(
            pledge::Column::Version,
            Expr::col(pledge::Column::Version).add(1),
        )
        .filter(pledge::Column::Id.eq(current.id))
        .filter(pledge::Column::Version.eq(current.version))
        .filter(pledge::Column::Status.eq(PledgeStatus::Approved.as_str()))
        .exec(db)
        .await?;
    if updated.rows_affected != 1 {
        return Err(not_approved());
    }
    reload(db, current.id).await
}

pub async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<pledge::Model, ApiError> {
    pledge::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

pub fn not_approved() -> ApiError {
    ApiError::conflict(
        "status",
        "not_approved",
        "只有已公开（审核通过）且未结项的承诺可以这样操作",
        "only an approved pledge that has not ended can take this",
    )
}

pub fn not_rateable() -> ApiError {
    ApiError::conflict(
        "status",
        "not_rateable",
        "只能评议已公开或已践诺的承诺",
        "only approved or fulfilled pledges can be rated",
    )
}

/// Checks that each cited submission is the pledge owner's: the member's own
/// for a member pledge, one of the branch for a branch pledge.
pub async fn check_evidence(
    db: &impl ConnectionTrait,
    p: &pledge::Model,
    evidence: &[Evidence],
) -> Result<(), ApiError> {
    let mut errors = FieldErrors::new();
    let mut found: HashSet<(EvidenceKind, Uuid)> = HashSet::new();
    for kind in [EvidenceKind::Visit, EvidenceKind::MediationReport] {
        let ids: Vec<Uuid> = evidence
            .iter()
            .filter(|e| e.kind == kind)
            .map(|e| e.id)
            .collect();
        if ids.is_empty() {
            continue;
        }
        let source = source_of(kind);
        let owner = match scope_and_status(p).0 {
            PledgeScope::Member => Expr::col(Alias::new(source.author)).eq(p.author_id),
            PledgeScope::Branch => Expr::col(Alias::new("branch_id")).eq(p.branch_id),
        };
        let statement = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new(source.table))
            .and_where(Expr::col(Alias::new("id")).is_in(ids))
            .and_where(Expr::col(Alias::new("township_id")).eq(p.township_id))
            .and_where(owner)
            .to_owned();
        for row in db.query_all(&statement).await? {
            found.insert((kind, row.try_get::<Uuid>("", "id")?));
        }
    }
    for (i, item) in evidence.iter().enumerate() {
        if !found.contains(&(item.kind, item.id)) {
            errors.add(
                format!("evidence[{i}].id"),
                "not_found",
                "佐证记录不存在或不属于承诺人",
                "no such submission of the pledge's owner",
            );
        }
    }
    Ok(errors.finish(|| ())?)
}

/// Records a progress entry and, when it reports a percent, keeps it as the
/// pledge's latest.
pub async fn insert_progress(
    db: &impl ConnectionTrait,
    actor: &Actor,
    p: &pledge::Model,
    content: &ProgressContent,
    now: DateTime<Utc>,
) -> Result<pledge_progress::Model, ApiError> {
    let entry = pledge_progress::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(p.township_id),
        branch_id: Set(p.branch_id),
        pledge_id: Set(p.id),
        author_id: Set(actor.user_id),
        note: Set(content.note.clone()),
        percent: Set(content.percent),
        photo_ids: Set(serde_json::json!(content.photo_ids)),
        evidence: Set(serde_json::json!(content.evidence)),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    let mut touched = pledge::Entity::update_many()
        .col_expr(pledge::Column::UpdatedAt, Expr::value(now))
        .filter(pledge::Column::Id.eq(p.id));
    if let Some(percent) = content.percent {
        touched = touched.col_expr(pledge::Column::ReportedPercent, Expr::value(percent));
    }
    touched.exec(db).await?;
    Ok(entry)
}

/// Adds a leader comment.
pub async fn insert_comment(
    db: &impl ConnectionTrait,
    actor: &Actor,
    p: &pledge::Model,
    body: &str,
    now: DateTime<Utc>,
) -> Result<pledge_comment::Model, ApiError> {
    Ok(pledge_comment::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(p.township_id),
        branch_id: Set(p.branch_id),
        pledge_id: Set(p.id),
        author_id: Set(actor.user_id),
        body: Set(body.to_owned()),
        created_at: Set(now),
    }
    .insert(db)
    .await?)
}

/// Puts the caller's rating of a pledge, replacing an earlier one (the unique
/// index on pledge and rater makes this one statement, race-free).
pub async fn put_rating(
    db: &impl ConnectionTrait,
    actor: &Actor,
    p: &pledge::Model,
    score: i32,
    comment: Option<&str>,
    now: DateTime<Utc>,
) -> Result<pledge_rating::Model, ApiError> {
    pledge_rating::Entity::insert(pledge_rating::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(p.township_id),
        branch_id: Set(p.branch_id),
        pledge_id: Set(p.id),
        rater_id: Set(actor.user_id),
        score: Set(score),
        comment: Set(comment.map(str::to_owned)),
        created_at: Set(now),
        updated_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            pledge_rating::Column::PledgeId,
            pledge_rating::Column::RaterId,
        ])
        .update_columns([
            pledge_rating::Column::Score,
            pledge_rating::Column::Comment,
            pledge_rating::Column::UpdatedAt,
        ])
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    pledge_rating::Entity::find()
        .filter(pledge_rating::Column::PledgeId.eq(p.id))
        .filter(pledge_rating::Column::RaterId.eq(actor.user_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// The rating summary of one pledge.
pub async fn rating_of(
    db: &impl ConnectionTrait,
    pledge_id: Uuid,
) -> Result<RatingSummary, ApiError> {
    let totals = pledge_rating::Entity::find()
        .select_only()
        .column(pledge_rating::Column::PledgeId)
        .column_as(pledge_rating::Column::Score.sum(), "total")
        .column_as(pledge_rating::Column::Id.count(), "count")
        .filter(pledge_rating::Column::PledgeId.eq(pledge_id))
        .group_by(pledge_rating::Column::PledgeId)
        .into_model::<RatingTotals>()
        .one(db)
        .await?;
    Ok(totals.map_or_else(RatingSummary::default, |t| {
        RatingSummary::from_totals(t.total.unwrap_or(0), t.count)
    }))
}
