//! `/api/v1/stats`: the township dashboard's figures, built for polling.
//!
//! Every answer carries an `ETag` made from the township's change version
//! (its newest audit row), the question and the minute; `If-None-Match` with
//! it answers 304 before anything is counted.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get};
use chrono::{DateTime, Utc};
use sea_orm::ConnectionTrait;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::dto::*;
use super::repo::{self, Scope};
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::domain::FieldErrors;
use crate::domain::buckets::{self, Bucket, MAX_BUCKETS};
use crate::entities::branch;
use crate::features::campaigns::admission::period;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Query;

/// Browsers may reuse an answer this long without asking; the dashboard
/// polls every few seconds and revalidates with `If-None-Match` after.
const CACHE_CONTROL: &str = "private, max-age=5";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(overview)
        .service(branches)
        .service(timeseries)
        .service(members)
        .service(super::export::export_branches)
        .service(super::export::export_members);
}

/// The township's figures, or one branch's (secretaries always get their own).
///
/// Definitions: `members` are active members and secretaries;
/// `households_visited` counts households with at least one visit in the
/// period that was not rejected, and `visit_coverage` is that ÷ `households`;
/// visits count by `visited_at` and include every status; mediation reports
/// count by `occurred_at`, `resolved` by their latest outcome (after
/// follow-ups); pledges are the published ones (approved, fulfilled, not
/// fulfilled) made in the period; `pending_reviews` and
/// `oldest_pending_hours` are of now, whatever the period. Rates are 0..1.
#[utoipa::path(
    tag = "stats",
    params(StatsFilter, ("If-None-Match" = Option<String>, Header, description = "the ETag of an earlier answer")),
    responses(
        (status = 200, body = Overview, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "nothing changed since the answer with this ETag"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members see no statistics", body = ErrorBody),
        (status = 404, description = "a branch out of reach, or `phase_id` not a phase of the township", body = ErrorBody),
        (status = 422, description = "`to` before `from`; `phase_id` with `from` or `to`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/stats/overview")]
pub async fn overview(
    state: actix_web::web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    filter: Query<StatsFilter>,
) -> Result<HttpResponse, ApiError> {
    let mut filter = filter.0;
    (filter.from, filter.to) =
        period(&state.db, &actor, filter.phase_id, filter.from, filter.to).await?;
    let scope = scope_for(&state.db, &actor, filter.branch_id, filter.from, filter.to).await?;
    let now = crate::platform::db::now();
    let tag = etag(&state, &actor, &req, now).await?;
    if crate::platform::http::conditional::unchanged(&req, &tag) {
        return Ok(not_modified(&tag));
    }
    let mut figures = Figures::default();
    for branch in repo::figures_by_branch(&state.db, &scope, now)
        .await?
        .values()
    {
        figures.absorb(branch);
    }
    Ok(fresh(
        &tag,
        &Overview::of(figures, scope.branch_id, &filter, now),
    ))
}

/// The same figures, one row per branch (township admins): worst first by
/// default — lowest coverage, then the longest-waiting review.
#[utoipa::path(
    tag = "stats",
    params(BranchesQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Rows<BranchRow>, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "nothing changed"),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, description = "`phase_id` not a phase of the township", body = ErrorBody),
        (status = 422, description = "`to` before `from`; `phase_id` with `from` or `to`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/stats/branches")]
pub async fn branches(
    state: actix_web::web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    query: Query<BranchesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let scope = branch_table_scope(&state.db, &actor, &query).await?;
    let now = crate::platform::db::now();
    let tag = etag(&state, &actor, &req, now).await?;
    if crate::platform::http::conditional::unchanged(&req, &tag) {
        return Ok(not_modified(&tag));
    }
    let rows = branch_rows(
        &state.db,
        &actor,
        &scope,
        query.sort.unwrap_or_default(),
        now,
    )
    .await?;
    Ok(fresh(&tag, &Rows { items: rows }))
}

/// Who may read the branch table, for which period: township admins only.
pub(super) async fn branch_table_scope(
    db: &impl ConnectionTrait,
    actor: &Actor,
    query: &BranchesQuery,
) -> Result<Scope, ApiError> {
    actor.may(Action::ReadStats, None)?;
    let (from, to) = period(db, actor, query.phase_id, query.from, query.to).await?;
    scope_for(db, actor, None, from, to).await
}

/// Every branch within the actor's reach with its figures in `scope`, in
/// `order`: the branch table, for the dashboard and its export alike.
pub(super) async fn branch_rows(
    db: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    order: BranchOrder,
    now: DateTime<Utc>,
) -> Result<Vec<BranchRow>, ApiError> {
    let filter = StatsFilter {
        branch_id: None,
        from: scope.from,
        to: scope.to,
        phase_id: None,
    };
    let mut figures = repo::figures_by_branch(db, scope, now).await?;
    let mut rows: Vec<BranchRow> = actor
        .scoped::<branch::Entity>()
        .all(db)
        .await?
        .into_iter()
        .map(|b| BranchRow {
            figures: Overview::of(
                figures.remove(&b.id).unwrap_or_default(),
                Some(b.id),
                &filter,
                now,
            ),
            branch_id: b.id,
            name: b.name,
            kind: b.kind,
        })
        .collect();
    sort_branches(&mut rows, order);
    Ok(rows)
}

fn sort_branches(rows: &mut [BranchRow], order: BranchOrder) {
    let waited = |r: &BranchRow| r.figures.oldest_pending_hours.unwrap_or(-1.0);
    match order {
        BranchOrder::Worst => rows.sort_by(|a, b| {
            a.figures
                .visit_coverage
                .total_cmp(&b.figures.visit_coverage)
                .then(waited(b).total_cmp(&waited(a)))
                .then(a.name.cmp(&b.name))
        }),
        BranchOrder::Pending => rows.sort_by(|a, b| {
            b.figures
                .pending_reviews
                .cmp(&a.figures.pending_reviews)
                .then(waited(b).total_cmp(&waited(a)))
                .then(a.name.cmp(&b.name))
        }),
        BranchOrder::Name => rows.sort_by(|a, b| a.name.cmp(&b.name)),
    }
}

/// Counts per day, week or month in the township's time zone, empty buckets
/// as 0. Without `from`/`to`: the last 30 days, 12 weeks or 12 months.
#[utoipa::path(
    tag = "stats",
    params(TimeseriesQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Series, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "nothing changed"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "a branch out of reach, or `phase_id` not a phase of the township", body = ErrorBody),
        (status = 422, description = "`to` before `from`, or more than 400 buckets; `phase_id` with `from` or `to`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/stats/timeseries")]
pub async fn timeseries(
    state: actix_web::web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    query: Query<TimeseriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let metric = query.metric.unwrap_or_default();
    let bucket = query.bucket.unwrap_or(Bucket::Day);
    let now = crate::platform::db::now();
    let township = crate::core::townships::by_id(&state.db, actor.township_id).await?;
    let tz = buckets::zone(&township.timezone);
    let (asked_from, asked_to) =
        period(&state.db, &actor, query.phase_id, query.from, query.to).await?;
    let to = asked_to.unwrap_or(now);
    let from = asked_from.unwrap_or_else(|| {
        let last = bucket.start_of(buckets::local_date(to, tz));
        let first = bucket.back(last, bucket.default_count() - 1);
        buckets::midnight(first, tz).with_timezone(&Utc)
    });
    let scope = scope_for(&state.db, &actor, query.branch_id, Some(from), Some(to)).await?;
    if buckets::bucket_count(bucket, tz, from, to) > MAX_BUCKETS {
        return Err(FieldErrors::single(
            "from",
            "too_many_buckets",
            format!("时间段过长：最多 {MAX_BUCKETS} 个区间"),
            format!("at most {MAX_BUCKETS} buckets"),
        )
        .into());
    }
    let tag = etag(&state, &actor, &req, now).await?;
    if crate::platform::http::conditional::unchanged(&req, &tag) {
        return Ok(not_modified(&tag));
    }
    let times = repo::times(&state.db, &scope, metric).await?;
    let items = buckets::series(&times, bucket, tz, from, to)
        .into_iter()
        .map(|(start, count)| Point {
            bucket_start: start.to_rfc3339(),
            count,
        })
        .collect();
    Ok(fresh(
        &tag,
        &Series {
            metric,
            bucket,
            items,
        },
    ))
}

/// Members with their visits in the period and days since their last visit,
/// lagging first (fewest visits, then longest since a visit).
#[utoipa::path(
    tag = "stats",
    params(MembersQuery, ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Rows<MemberRow>, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "nothing changed"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "a branch out of reach, or `phase_id` not a phase of the township", body = ErrorBody),
        (status = 422, description = "`to` before `from`; `phase_id` with `from` or `to`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/stats/members")]
pub async fn members(
    state: actix_web::web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    query: Query<MembersQuery>,
) -> Result<HttpResponse, ApiError> {
    let query = query.0;
    let (from, to) = period(&state.db, &actor, query.phase_id, query.from, query.to).await?;
    let scope = scope_for(&state.db, &actor, query.branch_id, from, to).await?;
    let now = crate::platform::db::now();
    let tag = etag(&state, &actor, &req, now).await?;
    if crate::platform::http::conditional::unchanged(&req, &tag) {
        return Ok(not_modified(&tag));
    }
    let rows = member_rows(&state.db, &scope, now).await?;
    Ok(fresh(&tag, &Rows { items: rows }))
}

/// The members of `scope` with their visiting, lagging first: the members
/// table, for the dashboard and its export alike.
pub(super) async fn member_rows(
    db: &impl ConnectionTrait,
    scope: &Scope,
    now: DateTime<Utc>,
) -> Result<Vec<MemberRow>, ApiError> {
    let mut rows: Vec<MemberRow> = repo::member_figures(db, scope)
        .await?
        .into_iter()
        .map(|f| MemberRow {
            member_id: f.member.id,
            name: f.member.name,
            role: f.member.role,
            branch_id: f.member.branch_id.unwrap_or_default(),
            assigned_households: f.assigned_households,
            visits: f.visits,
            last_visited_at: f.last_visited_at,
            days_since_last_visit: f.last_visited_at.map(|at| (now - at).num_days()),
        })
        .collect();
    rows.sort_by(|a, b| {
        a.visits
            .cmp(&b.visits)
            .then(
                b.days_since_last_visit
                    .unwrap_or(i64::MAX)
                    .cmp(&a.days_since_last_visit.unwrap_or(i64::MAX)),
            )
            .then(a.name.cmp(&b.name))
    });
    Ok(rows)
}

/// What the caller may count: a branch within reach (404 otherwise), else
/// the caller's own branch, or the whole township for admins; members none.
pub(super) async fn scope_for(
    db: &impl ConnectionTrait,
    actor: &Actor,
    branch_id: Option<Uuid>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
) -> Result<Scope, ApiError> {
    let branch_id = match branch_id {
        Some(id) => Some(actor.find_in_reach::<branch::Entity>(db, id).await?.id),
        None => actor.branch_limit(),
    };
    actor.may(Action::ReadStats, branch_id)?;
    if let (Some(from), Some(to)) = (from, to)
        && to <= from
    {
        return Err(FieldErrors::single(
            "to",
            "before_from",
            "结束时间须晚于开始时间",
            "`to` must be after `from`",
        )
        .into());
    }
    Ok(Scope {
        township_id: actor.township_id,
        branch_id,
        from,
        to,
    })
}

/// The answer's tag: the township's change version, the question (path and
/// query), who asks (their reach), and the minute, as `oldest_pending_hours`
/// and default periods move with the clock.
async fn etag(
    state: &AppState,
    actor: &Actor,
    req: &HttpRequest,
    now: DateTime<Utc>,
) -> Result<String, ApiError> {
    let version = state
        .change_versions
        .get(&state.db, actor.township_id)
        .await?;
    let mut hash = Sha256::new();
    hash.update(req.path());
    hash.update([0]);
    hash.update(req.query_string());
    hash.update([0]);
    hash.update(actor.role.as_str());
    hash.update(actor.branch_limit().unwrap_or_default().as_bytes());
    hash.update((now.timestamp() / 60).to_be_bytes());
    let question = hex::encode(&hash.finalize()[..8]);
    Ok(format!(
        "W/\"{}-{question}\"",
        version.unwrap_or_default().simple()
    ))
}

fn not_modified(tag: &str) -> HttpResponse {
    HttpResponse::NotModified()
        .insert_header((header::ETAG, tag_value(tag)))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .finish()
}

fn fresh<T: Serialize>(tag: &str, body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, tag_value(tag)))
        .insert_header((header::CACHE_CONTROL, CACHE_CONTROL))
        .json(body)
}

fn tag_value(tag: &str) -> HeaderValue {
    HeaderValue::from_str(tag).unwrap_or_else(|_| HeaderValue::from_static("W/\"0\""))
}
