//! The dashboard's two tables as Excel workbooks for the county report: the
//! same rows as the JSON answers (built by the same functions, under the same
//! access rules), with Chinese headers and times in the township's zone.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::QuerySelect;
use uuid::Uuid;

use super::dto::{BranchRow, BranchesQuery, MemberRow, MembersQuery};
use super::repo::Scope;
use super::routes::{branch_rows, branch_table_scope, member_rows, scope_for};
use crate::core::Actor;
use crate::core::state::AppState;
use crate::domain::buckets;
use crate::domain::{BranchKind, Role};
use crate::entities::branch;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Query;
use crate::platform::http::xlsx_export::{
    Cell, Download, Sheet, XlsxFile, XlsxFormat, wall_clock, xlsx_response,
};

const BRANCH_HEADERS: &[&str] = &[
    "支部",
    "类型",
    "党员数",
    "户数",
    "已走访户数",
    "走访覆盖率",
    "走访次数",
    "调解报告",
    "已化解",
    "化解率",
    "已上报",
    "承诺数",
    "已兑现",
    "兑现率",
    "待审核",
    "最久待审（小时）",
    "整改未销号",
    "整改逾期",
];

const MEMBER_HEADERS: &[&str] = &[
    "姓名",
    "角色",
    "支部",
    "包联户数",
    "走访次数",
    "最近走访",
    "距今天数",
];

/// The branch table (`GET /stats/branches`) as an xlsx workbook, township
/// admins only: one row per branch in the asked order, rates as
/// percentages; a second sheet says the period and when it was made, in the
/// township's time zone.
#[utoipa::path(
    tag = "stats",
    params(XlsxFormat, BranchesQuery),
    responses(
        (status = 200, description = "the workbook, as an attachment",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = XlsxFile, headers(("Content-Disposition" = String,
                description = "attachment; filename=\"branch-stats-YYYY-MM-DD.xlsx\"; filename*=UTF-8''支部统计-YYYY-MM-DD.xlsx"))),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, description = "`phase_id` not a phase of the township", body = ErrorBody),
        (status = 422, description = "an unknown `format`, or `to` before `from`; `phase_id` with `from` or `to`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/stats/branches/export")]
pub async fn export_branches(
    state: web::Data<AppState>,
    actor: Actor,
    format: Query<XlsxFormat>,
    query: Query<BranchesQuery>,
) -> Result<HttpResponse, ApiError> {
    format.0.check()?;
    let query = query.0;
    let scope = branch_table_scope(&state.db, &actor, &query).await?;
    let now = crate::platform::db::now();
    let rows = branch_rows(
        &state.db,
        &actor,
        &scope,
        query.sort.unwrap_or_default(),
        now,
    )
    .await?;
    let tz = township_zone(&state, &actor).await?;
    let day = buckets::local_date(now, tz);
    xlsx_response(&Download {
        filename: format!("branch-stats-{day}.xlsx"),
        display_name: format!("支部统计-{day}.xlsx"),
        sheets: vec![
            Sheet {
                name: "支部统计",
                headers: BRANCH_HEADERS,
                rows: rows.into_iter().map(branch_cells).collect(),
            },
            about(&scope, now, tz),
        ],
    })
}

/// The members table (`GET /stats/members`) as an xlsx workbook: admins for
/// the township or one branch, secretaries their own branch. Lagging members
/// first, as on the dashboard; a second sheet says the period and when it
/// was made, in the township's time zone.
#[utoipa::path(
    tag = "stats",
    params(XlsxFormat, MembersQuery),
    responses(
        (status = 200, description = "the workbook, as an attachment",
            content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            body = XlsxFile, headers(("Content-Disposition" = String,
                description = "attachment; filename=\"member-stats-YYYY-MM-DD.xlsx\"; filename*=UTF-8''党员走访[-支部]-YYYY-MM-DD.xlsx"))),
        (status = 401, body = ErrorBody),
        (status = 403, description = "members see no statistics", body = ErrorBody),
        (status = 404, description = "a branch out of reach, or `phase_id` not a phase of the township", body = ErrorBody),
        (status = 422, description = "an unknown `format`, or `to` before `from`; `phase_id` with `from` or `to`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/stats/members/export")]
pub async fn export_members(
    state: web::Data<AppState>,
    actor: Actor,
    format: Query<XlsxFormat>,
    query: Query<MembersQuery>,
) -> Result<HttpResponse, ApiError> {
    format.0.check()?;
    let query = query.0;
    let (from, to) = crate::features::campaigns::admission::period(
        &state.db,
        &actor,
        query.phase_id,
        query.from,
        query.to,
    )
    .await?;
    let scope = scope_for(&state.db, &actor, query.branch_id, from, to).await?;
    let now = crate::platform::db::now();
    let rows = member_rows(&state.db, &scope, now).await?;
    let branches = branch_names(&state, &actor).await?;
    let tz = township_zone(&state, &actor).await?;
    let day = buckets::local_date(now, tz);
    let display_name = match scope.branch_id.and_then(|id| branches.get(&id)) {
        Some(branch) => format!("党员走访-{branch}-{day}.xlsx"),
        None => format!("党员走访-{day}.xlsx"),
    };
    xlsx_response(&Download {
        filename: format!("member-stats-{day}.xlsx"),
        display_name,
        sheets: vec![
            Sheet {
                name: "党员走访",
                headers: MEMBER_HEADERS,
                rows: rows
                    .into_iter()
                    .map(|row| member_cells(row, &branches, tz))
                    .collect(),
            },
            about(&scope, now, tz),
        ],
    })
}

/// One branch's row, in the order of [`BRANCH_HEADERS`].
fn branch_cells(row: BranchRow) -> Vec<Cell> {
    let kind = BranchKind::parse(&row.kind).map_or(row.kind.clone(), |k| k.label().to_owned());
    let f = row.figures;
    vec![
        row.name.into(),
        kind.into(),
        f.members.into(),
        f.households.into(),
        f.households_visited.into(),
        Cell::Rate(f.visit_coverage),
        f.visits.total.into(),
        f.mediation.total.into(),
        f.mediation.resolved.into(),
        Cell::Rate(f.mediation.resolution_rate),
        f.mediation.escalated.into(),
        f.pledges.total.into(),
        f.pledges.fulfilled.into(),
        Cell::Rate(f.pledges.fulfilment_rate),
        f.pending_reviews.into(),
        f.oldest_pending_hours.map(Cell::Tenths).into(),
        f.rectifications.open.into(),
        f.rectifications.overdue.into(),
    ]
}

/// One member's row, in the order of [`MEMBER_HEADERS`].
fn member_cells(row: MemberRow, branches: &HashMap<Uuid, String>, tz: Tz) -> Vec<Cell> {
    let role = Role::parse(&row.role).map_or(row.role.clone(), |r| r.label().to_owned());
    vec![
        row.name.into(),
        role.into(),
        branches.get(&row.branch_id).cloned().into(),
        row.assigned_households.into(),
        row.visits.into(),
        row.last_visited_at.map(|at| local(at, tz)).into(),
        row.days_since_last_visit.into(),
    ]
}

/// The sheet that says what the table covers.
fn about(scope: &Scope, now: DateTime<Utc>, tz: Tz) -> Sheet {
    let bound = |at: Option<DateTime<Utc>>, open: &str| match at {
        Some(at) => local(at, tz),
        None => Cell::Text(open.to_owned()),
    };
    Sheet {
        name: "说明",
        headers: &["项目", "内容"],
        rows: vec![
            vec!["统计起始".into(), bound(scope.from, "不限")],
            vec!["统计截止".into(), bound(scope.to, "至今")],
            vec!["生成时间".into(), local(now, tz)],
            vec!["时区".into(), tz.name().into()],
        ],
    }
}

fn local(at: DateTime<Utc>, tz: Tz) -> Cell {
    Cell::LocalTime(wall_clock(at, tz))
}

async fn township_zone(state: &AppState, actor: &Actor) -> Result<Tz, ApiError> {
    let township = crate::core::townships::by_id(&state.db, actor.township_id).await?;
    Ok(buckets::zone(&township.timezone))
}

/// Names of the branches within the caller's reach.
async fn branch_names(state: &AppState, actor: &Actor) -> Result<HashMap<Uuid, String>, ApiError> {
    let rows: Vec<(Uuid, String)> = actor
        .scoped::<branch::Entity>()
        .select_only()
        .column(branch::Column::Id)
        .column(branch::Column::Name)
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().collect())
}
