//! Exports as CSV for Excel (UTF-8 with BOM, Chinese headers), streamed page
//! by page so an export of a year of submissions never sits in memory.
//! Times are the township's wall clock, as in the xlsx reports, and no cell
//! is ever read as a formula.

use std::future::Future;

use actix_web::HttpResponse;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures_util::stream;
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::{FieldErrors, ReviewStatus};
use crate::platform::error::ApiError;
use crate::platform::http::xlsx_export::{wall_clock, wall_clock_text};

/// Rows read and written per step.
const PAGE: u64 = 500;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportFormat {
    /// Only `csv` (the default); another value is 422 naming `format`.
    #[param(value_type = Option<CsvFormat>, inline)]
    pub format: Option<String>,
}

/// The one format a CSV export takes, as the OpenAPI document lists it.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum CsvFormat {
    Csv,
}

impl ExportFormat {
    /// 422 for any format but CSV.
    pub fn check(&self) -> Result<(), ApiError> {
        match self.format.as_deref() {
            None | Some("csv") => Ok(()),
            Some(_) => Err(FieldErrors::single(
                "format",
                "unsupported",
                "仅支持 csv",
                "only csv is supported",
            )
            .into()),
        }
    }
}

/// How one export reads and writes its rows.
pub struct Export<E: EntityTrait, R> {
    /// `visits.csv`.
    pub filename: &'static str,
    /// The header line, BOM included, ending in CRLF.
    pub header: &'static str,
    /// The rows, already scoped and filtered.
    pub query: Select<E>,
    pub id_column: E::Column,
    pub id_of: fn(&E::Model) -> Uuid,
    /// Turns one page of rows into CSV records.
    pub render: R,
}

/// Streams `export` as a CSV download, in id order.
pub fn stream_csv<E, R, Fut>(db: DatabaseConnection, export: Export<E, R>) -> HttpResponse
where
    E: EntityTrait,
    E::Model: Send + Sync,
    R: Fn(DatabaseConnection, Vec<E::Model>) -> Fut + Clone + 'static,
    Fut: Future<Output = Result<Vec<Vec<String>>, ApiError>>,
{
    struct Cursor {
        after: Option<Uuid>,
        header_sent: bool,
        done: bool,
    }
    let Export {
        filename,
        header,
        query,
        id_column,
        id_of,
        render,
    } = export;
    let start = Cursor {
        after: None,
        header_sent: false,
        done: false,
    };
    let pages = stream::unfold(start, move |mut cursor| {
        let (db, query, render) = (db.clone(), query.clone(), render.clone());
        async move {
            if cursor.done {
                return None;
            }
            if !cursor.header_sent {
                cursor.header_sent = true;
                return Some((Ok(Bytes::from_static(header.as_bytes())), cursor));
            }
            let mut page = query.order_by_asc(id_column).limit(PAGE);
            if let Some(after) = cursor.after {
                page = page.filter(id_column.gt(after));
            }
            let step = async {
                let rows = page.all(&db).await?;
                let last = (rows.len() as u64 == PAGE)
                    .then(|| rows.last().map(id_of))
                    .flatten();
                let records = render(db.clone(), rows).await?;
                Ok::<_, ApiError>((to_csv(records)?, last))
            };
            match step.await {
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
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{filename}\""),
        ))
        .streaming(pages)
}

fn to_csv(records: Vec<Vec<String>>) -> Result<Bytes, ApiError> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        writer
            .write_record(record.into_iter().map(inert))
            .map_err(anyhow::Error::from)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| anyhow::anyhow!("csv: {e}"))?;
    Ok(Bytes::from(bytes))
}

/// `cell` as text a spreadsheet will not run (OWASP, CSV injection): Excel
/// and WPS read a cell that begins with `=`, `+`, `-` or `@` (or a tab or
/// carriage return before one) as a formula, so a visit summary written
/// `=HYPERLINK(...)` would act on the computer of whoever opens the export.
/// A leading `'` makes it text, and Excel does not show the quote.
fn inert(cell: String) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// `at` as the township's spreadsheets show a time: its wall clock, to the
/// minute, the same as in the xlsx reports.
pub fn township_time(at: DateTime<Utc>, zone: Tz) -> String {
    wall_clock_text(wall_clock(at, zone))
}

/// A review status as the township's spreadsheets say it.
pub fn status_label(status: ReviewStatus) -> &'static str {
    match status {
        ReviewStatus::Pending => "待审核",
        ReviewStatus::Approved => "已通过",
        ReviewStatus::Returned => "已退回",
        ReviewStatus::Rejected => "未通过",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_made_text() {
        for formula in ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(inert(formula.into()), format!("'{formula}"));
        }
        for text in ["张三", "a=1", ""] {
            assert_eq!(inert(text.into()), text);
        }
    }

    #[test]
    fn times_are_the_townships_wall_clock_to_the_minute() {
        let at = "2026-11-28T00:00:30.123456Z".parse().unwrap();
        assert_eq!(
            township_time(at, chrono_tz::Asia::Shanghai),
            "2026-11-28 08:00"
        );
    }
}
