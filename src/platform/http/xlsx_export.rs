//! Tables as Excel workbooks for reports: Chinese headers in a bold, frozen
//! first row, rates as percentages and times as Excel dates, columns wide
//! enough for Chinese text. Built whole in memory: these tables are small
//! (a township's branches, at most some thousands of members).

use actix_web::HttpResponse;
use chrono::{DateTime, Datelike, NaiveDateTime, Timelike, Utc};
use chrono_tz::Tz;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet, XlsxError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::domain::FieldErrors;
use crate::platform::error::ApiError;

/// The media type of an xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The body of an xlsx download, as the OpenAPI document shows it.
#[derive(Debug, ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxFile(pub Vec<u8>);

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct XlsxFormat {
    /// Only `xlsx` (the default); another value is 422 naming `format`.
    #[param(value_type = Option<XlsxFormatName>, inline)]
    pub format: Option<String>,
}

/// The one format a workbook export takes, as the OpenAPI document lists it.
#[derive(Debug, ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum XlsxFormatName {
    Xlsx,
}

impl XlsxFormat {
    /// 422 naming `format` for any format but xlsx.
    pub fn check(&self) -> Result<(), ApiError> {
        match self.format.as_deref() {
            None | Some("xlsx") => Ok(()),
            Some(_) => Err(FieldErrors::single(
                "format",
                "unsupported",
                "仅支持 xlsx",
                "only xlsx is supported",
            )
            .into()),
        }
    }
}

/// One cell's value and how Excel shows it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A count (or days), shown as a whole number.
    Count(i64),
    /// A fraction 0..1, shown as a percentage to 0.1 %.
    Rate(f64),
    /// A quantity shown to one decimal place (hours).
    Tenths(f64),
    /// A wall-clock time in the township's zone, shown as `yyyy-mm-dd hh:mm`.
    LocalTime(NaiveDateTime),
    Empty,
}

impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(value: Option<T>) -> Self {
        value.map_or(Cell::Empty, Into::into)
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Self {
        Cell::Text(value.to_owned())
    }
}

impl From<u64> for Cell {
    fn from(value: u64) -> Self {
        Cell::Count(i64::try_from(value).unwrap_or(i64::MAX))
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Count(value)
    }
}

impl From<NaiveDateTime> for Cell {
    fn from(value: NaiveDateTime) -> Self {
        Cell::LocalTime(value)
    }
}

/// One worksheet: a header row and the rows under it.
#[derive(Debug, Clone)]
pub struct Sheet {
    /// The tab's name (at most 31 characters, no `[]:*?/\`).
    pub name: &'static str,
    pub headers: &'static [&'static str],
    pub rows: Vec<Vec<Cell>>,
}

/// A workbook to download: an ASCII file name for every client and a
/// Chinese one for those that read RFC 5987's `filename*`.
#[derive(Debug, Clone)]
pub struct Download {
    /// `branch-stats-2026-11-28.xlsx`.
    pub filename: String,
    /// `支部统计-2026-11-28.xlsx`.
    pub display_name: String,
    pub sheets: Vec<Sheet>,
}

/// How the township's spreadsheets show a time, xlsx and CSV alike: its
/// wall clock, to the minute (Excel's `yyyy-mm-dd hh:mm`).
const WALL_CLOCK: &str = "%Y-%m-%d %H:%M";

/// `at` on the clock of the township in `zone`, as its people read times.
pub fn wall_clock(at: DateTime<Utc>, zone: Tz) -> NaiveDateTime {
    at.with_timezone(&zone).naive_local()
}

/// A wall-clock time written out as text (`2026-11-28 08:00`), for a CSV
/// cell or an xlsx time Excel cannot hold.
pub fn wall_clock_text(at: NaiveDateTime) -> String {
    at.format(WALL_CLOCK).to_string()
}

/// Widest a column is made, in Excel's character units.
const MAX_WIDTH: f64 = 40.0;

/// `download` as an xlsx attachment.
pub fn xlsx_response(download: &Download) -> Result<HttpResponse, ApiError> {
    let bytes = workbook(&download.sheets).map_err(anyhow::Error::from)?;
    Ok(HttpResponse::Ok()
        .content_type(XLSX)
        .insert_header((
            "Content-Disposition",
            content_disposition(&download.filename, &download.display_name),
        ))
        .body(bytes))
}

/// The workbook's bytes.
pub fn workbook(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let styles = Styles::new();
    for sheet in sheets {
        write_sheet(book.add_worksheet(), sheet, &styles)?;
    }
    book.save_to_buffer()
}

struct Styles {
    header: Format,
    count: Format,
    rate: Format,
    tenths: Format,
    time: Format,
}

impl Styles {
    fn new() -> Self {
        Styles {
            header: Format::new().set_bold(),
            count: Format::new().set_num_format("0"),
            rate: Format::new().set_num_format("0.0%"),
            tenths: Format::new().set_num_format("0.0"),
            time: Format::new().set_num_format("yyyy-mm-dd hh:mm"),
        }
    }
}

fn write_sheet(out: &mut Worksheet, sheet: &Sheet, styles: &Styles) -> Result<(), XlsxError> {
    out.set_name(sheet.name)?;
    let mut widths: Vec<f64> = sheet.headers.iter().map(|h| width_of(h)).collect();
    for (col, header) in (0u16..).zip(sheet.headers) {
        out.write_string_with_format(0, col, *header, &styles.header)?;
    }
    for (row, cells) in (1u32..).zip(&sheet.rows) {
        for (col, cell) in (0u16..).zip(cells) {
            let shown = match cell {
                Cell::Text(text) => {
                    out.write_string(row, col, text)?;
                    width_of(text)
                }
                Cell::Count(n) => {
                    // Counts stay far below 2^53, so f64 holds them exactly.
                    out.write_number_with_format(row, col, *n as f64, &styles.count)?;
                    n.to_string().len() as f64
                }
                Cell::Rate(r) => {
                    out.write_number_with_format(row, col, *r, &styles.rate)?;
                    "100.0%".len() as f64
                }
                Cell::Tenths(x) => {
                    out.write_number_with_format(row, col, *x, &styles.tenths)?;
                    format!("{x:.1}").len() as f64
                }
                Cell::LocalTime(at) => {
                    match excel_time(*at) {
                        Ok(time) => {
                            out.write_datetime_with_format(row, col, time, &styles.time)?;
                        }
                        // Excel has no dates before 1900 or after 9999; a
                        // period asked for with one is shown as text.
                        Err(XlsxError::DateTimeRangeError(_)) => {
                            out.write_string(row, col, wall_clock_text(*at))?;
                        }
                        Err(other) => return Err(other),
                    }
                    "yyyy-mm-dd hh:mm".len() as f64
                }
                Cell::Empty => 0.0,
            };
            if let Some(width) = widths.get_mut(usize::from(col)) {
                *width = width.max(shown);
            }
        }
    }
    for (col, width) in (0u16..).zip(widths) {
        // A character's room either side of the widest text.
        out.set_column_width(col, (width + 2.0).min(MAX_WIDTH))?;
    }
    out.set_freeze_panes(1, 0)?;
    Ok(())
}

fn excel_time(at: NaiveDateTime) -> Result<ExcelDateTime, XlsxError> {
    let year = u16::try_from(at.year())
        .map_err(|_| XlsxError::DateTimeRangeError(format!("year {}", at.year())))?;
    // chrono's month, day, hour and minute are small: the casts cannot truncate.
    ExcelDateTime::from_ymd(year, at.month() as u8, at.day() as u8)?.and_hms(
        at.hour() as u16,
        at.minute() as u8,
        at.second(),
    )
}

/// A text's width in Excel's character units: Chinese (and other East Asian
/// wide) characters take two, Latin ones one.
fn width_of(text: &str) -> f64 {
    text.chars()
        .map(|c| if is_wide(c) { 2.0 } else { 1.0 })
        .sum()
}

fn is_wide(c: char) -> bool {
    matches!(u32::from(c),
        0x1100..=0x115F        // Hangul Jamo
        | 0x2E80..=0xA4CF      // CJK radicals, punctuation, kana, ideographs, Yi
        | 0xAC00..=0xD7A3      // Hangul syllables
        | 0xF900..=0xFAFF      // CJK compatibility ideographs
        | 0xFE30..=0xFE4F      // CJK compatibility forms
        | 0xFF00..=0xFF60      // full-width forms
        | 0xFFE0..=0xFFE6
        | 0x20000..=0x3FFFD) // CJK extensions
}

/// RFC 5987's `attr-char`s pass; every other byte is percent-encoded.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment` with the ASCII name, and the UTF-8 one for clients that read it.
fn content_disposition(ascii: &str, display: &str) -> String {
    let ascii: String = ascii
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(display, ATTR_CHAR)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_characters_count_twice_as_wide() {
        assert_eq!(width_of("支部"), 4.0);
        assert_eq!(width_of("最久待审（小时）"), 16.0);
        assert_eq!(width_of("0.0%"), 4.0);
    }

    #[test]
    fn the_chinese_file_name_is_percent_encoded_beside_the_ascii_one() {
        let header = content_disposition("branch-stats.xlsx", "支部统计 2026.xlsx");

        assert_eq!(
            header,
            "attachment; filename=\"branch-stats.xlsx\"; \
             filename*=UTF-8''%E6%94%AF%E9%83%A8%E7%BB%9F%E8%AE%A1%202026.xlsx"
        );
    }

    #[test]
    fn times_outside_excel_years_are_written_as_text() {
        let at = |y| {
            chrono::NaiveDate::from_ymd_opt(y, 2, 13)
                .and_then(|d| d.and_hms_opt(16, 0, 36))
                .map(Cell::LocalTime)
                .unwrap_or(Cell::Empty)
        };
        let sheet = Sheet {
            name: "期间",
            headers: &["从"],
            rows: vec![vec![at(13)], vec![at(2026)], vec![at(10_000)]],
        };

        assert!(workbook(&[sheet]).is_ok());
    }

    #[test]
    fn only_xlsx_is_accepted() {
        let format = |f: Option<&str>| XlsxFormat {
            format: f.map(str::to_owned),
        };

        assert!(format(None).check().is_ok());
        assert!(format(Some("xlsx")).check().is_ok());
        assert!(format(Some("csv")).check().is_err());
    }
}
