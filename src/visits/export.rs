//! Visits as CSV for Excel (UTF-8 with BOM), streamed page by page so an
//! export of a year of visits never sits in memory.

use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use futures_util::stream;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::dto::{VisitFilter, VisitView};
use super::repo;
use crate::auth::Actor;
use crate::entities::{household, visit};
use crate::error::{ApiError, ErrorBody};
use crate::http::extract::Query;
use crate::startup::AppState;

const PAGE: u64 = 500;
const HEADER: &str = "\u{feff}编号,党员,农户,走访类型,走访时间,接收时间,状态,距离(米),摘要,困难诉求,需回访,质量提示\r\n";

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// Only `csv`.
    pub format: Option<String>,
}

/// Export visits with the list's filters as CSV (UTF-8 with BOM, Chinese headers).
#[utoipa::path(
    tag = "visits",
    params(ExportFormat, VisitFilter),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 401, body = ErrorBody),
        (status = 422, description = "unknown format", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/visits/export")]
pub async fn export_visits(
    state: web::Data<AppState>,
    actor: Actor,
    format: Query<ExportFormat>,
    filter: Query<VisitFilter>,
) -> Result<HttpResponse, ApiError> {
    if format.0.format.as_deref().is_some_and(|f| f != "csv") {
        return Err(crate::domain::FieldErrors::single(
            "format",
            "unsupported",
            "仅支持 csv",
            "only csv is supported",
        )
        .into());
    }
    let query = repo::filtered(&actor, &filter.0)?;
    let db = state.db.clone();
    struct Cursor {
        after: Option<Uuid>,
        header_sent: bool,
        done: bool,
    }
    let pages = stream::unfold(
        Cursor {
            after: None,
            header_sent: false,
            done: false,
        },
        move |mut cursor| {
            let db = db.clone();
            let query = query.clone();
            async move {
                if cursor.done {
                    return None;
                }
                if !cursor.header_sent {
                    cursor.header_sent = true;
                    return Some((
                        Ok::<Bytes, ApiError>(Bytes::from_static(HEADER.as_bytes())),
                        cursor,
                    ));
                }
                let mut page = query.order_by_asc(visit::Column::Id).limit(PAGE);
                if let Some(after) = cursor.after {
                    page = page.filter(visit::Column::Id.gt(after));
                }
                match render_page(&db, page).await {
                    Ok((bytes, last)) => {
                        cursor.done = last.is_none();
                        cursor.after = last;
                        Some((Ok(bytes), cursor))
                    }
                    Err(err) => {
                        cursor.done = true;
                        Some((Err(err), cursor))
                    }
                }
            }
        },
    );
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("Content-Disposition", "attachment; filename=\"visits.csv\""))
        .streaming(pages))
}

/// One page as CSV rows, and the id to continue after (`None` when done).
async fn render_page(
    db: &DatabaseConnection,
    page: sea_orm::Select<visit::Entity>,
) -> Result<(Bytes, Option<Uuid>), ApiError> {
    let rows = page.all(db).await?;
    let last = if rows.len() as u64 == PAGE {
        rows.last().map(|v| v.id)
    } else {
        None
    };
    let members =
        super::routes::member_names(db, rows.iter().map(|v| v.member_id).collect()).await?;
    let households: std::collections::HashMap<Uuid, String> = household::Entity::find()
        .filter(household::Column::Id.is_in(rows.iter().map(|v| v.household_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h.head_name))
        .collect();
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for v in rows {
        let view = VisitView::from(v);
        let flags: Vec<String> = view
            .flags
            .iter()
            .map(|f| {
                serde_json::to_value(f)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            })
            .collect();
        writer
            .write_record([
                view.id.to_string(),
                members.get(&view.member_id).cloned().unwrap_or_default(),
                households
                    .get(&view.household_id)
                    .cloned()
                    .unwrap_or_default(),
                view.kind.label().to_owned(),
                view.visited_at.to_rfc3339(),
                view.received_at.to_rfc3339(),
                status_label(view.status).to_owned(),
                view.distance_m
                    .map(|d| format!("{d:.0}"))
                    .unwrap_or_default(),
                view.summary,
                view.needs.join("；"),
                if view.follow_up { "是" } else { "否" }.to_owned(),
                flags.join(" "),
            ])
            .map_err(anyhow::Error::from)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok((Bytes::from(bytes), last))
}

fn status_label(status: crate::domain::ReviewStatus) -> &'static str {
    match status {
        crate::domain::ReviewStatus::Pending => "待审核",
        crate::domain::ReviewStatus::Approved => "已通过",
        crate::domain::ReviewStatus::Returned => "已退回",
        crate::domain::ReviewStatus::Rejected => "未通过",
    }
}
