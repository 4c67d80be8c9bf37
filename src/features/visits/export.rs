//! Visits as CSV for Excel, with the list's filters; times on the township's clock.

use actix_web::{HttpResponse, get, web};
use chrono_tz::Tz;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::dto::{VisitFilter, VisitView};
use super::repo;
use crate::core::Actor;
use crate::core::state::AppState;
use crate::entities::{household, visit};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::csv_export::{
    Export, ExportFormat, status_label, stream_csv, township_time,
};
use crate::platform::http::extract::Query;

const HEADER: &str = "\u{feff}编号,党员,农户,走访类型,走访时间,接收时间,状态,距离(米),摘要,困难诉求,需回访,质量提示\r\n";

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
    format.0.check()?;
    let zone = state
        .township_settings
        .known(&state.db, actor.township_id)
        .await?
        .zone;
    Ok(stream_csv(
        state.db.clone(),
        Export {
            filename: "visits.csv",
            header: HEADER,
            query: repo::filtered(&actor, &filter.0)?,
            id_column: visit::Column::Id,
            id_of: |v| v.id,
            render: move |db, rows| render_page(db, rows, zone),
        },
    ))
}

/// One page of visits as CSV records.
async fn render_page(
    db: DatabaseConnection,
    rows: Vec<visit::Model>,
    zone: Tz,
) -> Result<Vec<Vec<String>>, ApiError> {
    let members = crate::core::directory::user_names(&db, rows.iter().map(|v| v.member_id)).await?;
    let households: std::collections::HashMap<Uuid, String> = household::Entity::find()
        .filter(household::Column::Id.is_in(rows.iter().map(|v| v.household_id)))
        .all(&db)
        .await?
        .into_iter()
        .map(|h| (h.id, h.head_name))
        .collect();
    Ok(rows
        .into_iter()
        .map(|v| {
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
            vec![
                view.id.to_string(),
                members.get(&view.member_id).cloned().unwrap_or_default(),
                households
                    .get(&view.household_id)
                    .cloned()
                    .unwrap_or_default(),
                view.kind.label().to_owned(),
                township_time(view.visited_at, zone),
                township_time(view.received_at, zone),
                status_label(view.status).to_owned(),
                view.distance_m
                    .map(|d| format!("{d:.0}"))
                    .unwrap_or_default(),
                view.summary,
                view.needs.join("；"),
                if view.follow_up { "是" } else { "否" }.to_owned(),
                flags.join(" "),
            ]
        })
        .collect())
}
