//! Mediation reports as CSV for Excel, with the list's filters; times on the
//! township's clock.

use actix_web::{HttpResponse, get, web};
use chrono_tz::Tz;
use sea_orm::DatabaseConnection;

use super::dto::{MediationReportView, ReportFilter};
use super::repo;
use crate::core::Actor;
use crate::core::state::AppState;
use crate::entities::mediation_report;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::csv_export::{
    Export, ExportFormat, status_label, stream_csv, township_time,
};
use crate::platform::http::extract::Query;

const HEADER: &str = "\u{feff}编号,调解员,标题,纠纷类型,当事人,发生时间,接收时间,状态,调解结果,最新结果,风险等级,是否上报,上报状态,回访次数,下次回访,纠纷情况,调解过程,调解协议\r\n";

/// Export mediation reports with the list's filters as CSV (UTF-8 with BOM,
/// Chinese headers). Parties' phones are masked, as in the list.
#[utoipa::path(
    tag = "mediation",
    params(ExportFormat, ReportFilter),
    responses(
        (status = 200, content_type = "text/csv", body = String),
        (status = 401, body = ErrorBody),
        (status = 422, description = "unknown format", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/mediation-reports/export")]
pub async fn export_reports(
    state: web::Data<AppState>,
    actor: Actor,
    format: Query<ExportFormat>,
    filter: Query<ReportFilter>,
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
            filename: "mediation-reports.csv",
            header: HEADER,
            query: repo::filtered(&actor, &filter.0, crate::platform::db::now()),
            id_column: mediation_report::Column::Id,
            id_of: |r| r.id,
            render: move |db, rows| render_page(db, rows, zone),
        },
    ))
}

/// One page of reports as CSV records.
async fn render_page(
    db: DatabaseConnection,
    rows: Vec<mediation_report::Model>,
    zone: Tz,
) -> Result<Vec<Vec<String>>, ApiError> {
    let authors = crate::core::directory::user_names(&db, rows.iter().map(|r| r.member_id)).await?;
    let now = crate::platform::db::now();
    Ok(rows
        .into_iter()
        .map(|r| {
            let view = MediationReportView::at(r, now).masked();
            let parties: Vec<String> = view
                .parties
                .iter()
                .map(|p| {
                    let mut party = p.name.clone();
                    if let Some(role) = &p.role {
                        party.push_str(&format!("（{role}）"));
                    }
                    if let Some(phone) = &p.phone {
                        party.push_str(&format!(" {phone}"));
                    }
                    party
                })
                .collect();
            vec![
                view.id.to_string(),
                authors.get(&view.member_id).cloned().unwrap_or_default(),
                view.title,
                view.category.label().to_owned(),
                parties.join("；"),
                township_time(view.occurred_at, zone),
                township_time(view.received_at, zone),
                status_label(view.status).to_owned(),
                view.outcome.label().to_owned(),
                view.latest_outcome.label().to_owned(),
                view.risk_level.label().to_owned(),
                if view.escalated { "是" } else { "否" }.to_owned(),
                view.escalation
                    .map(|e| e.status.label().to_owned())
                    .unwrap_or_default(),
                view.follow_up_count.to_string(),
                view.follow_up_due_at
                    .map(|d| township_time(d, zone))
                    .unwrap_or_default(),
                view.description,
                view.process,
                view.agreement.unwrap_or_default(),
            ]
        })
        .collect())
}
