//! Reading the household spreadsheet a township already keeps: CSV saved by
//! Excel (GB18030/GBK) or anything else (UTF-8, with or without BOM), with
//! Chinese or English headers. Each row is checked; the report names every
//! bad cell by row and column.

use serde::Serialize;
use utoipa::ToSchema;

use super::dto::{HouseholdFields, NewHouseholdRequest};
use crate::domain::{CoordSystem, FieldErrors, Location};

/// Largest accepted file (SPEC §4 upload limit).
pub const IMPORT_LIMIT: usize = 10 * 1024 * 1024;

/// The columns understood, each with the headers that name it.
const COLUMNS: &[(Column, &[&str])] = &[
    (Column::HeadName, &["head_name", "户主姓名", "户主", "姓名"]),
    (Column::Address, &["address", "地址", "住址", "家庭住址"]),
    (Column::Group, &["group", "村民小组", "小组", "组别"]),
    (
        Column::Phone,
        &["phone", "联系电话", "电话", "手机", "手机号"],
    ),
    (
        Column::IdNumber,
        &["id_number", "身份证号", "身份证号码", "身份证"],
    ),
    (Column::Lat, &["lat", "纬度"]),
    (Column::Lng, &["lng", "经度"]),
    (Column::CoordSystem, &["coord_system", "坐标系"]),
    (Column::Tags, &["tags", "标签", "户类型"]),
    (Column::Branch, &["branch", "支部", "所属支部"]),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    HeadName,
    Address,
    Group,
    Phone,
    IdNumber,
    Lat,
    Lng,
    CoordSystem,
    Tags,
    Branch,
}

/// One data row, checked. `line` is the spreadsheet's row number (header = 1).
#[derive(Debug, Clone)]
pub struct ImportRow {
    pub line: usize,
    pub branch_name: Option<String>,
    pub fields: HouseholdFields,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    /// Households created.
    pub imported: usize,
    /// Rows that matched an existing household of the branch (same head and address).
    pub skipped: usize,
    /// Rows not imported, with why (only with `partial=true`; otherwise the
    /// answer is 422 and nothing is imported).
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowError {
    /// Spreadsheet row number (the header is row 1).
    pub row: usize,
    pub field: String,
    #[schema(value_type = String)]
    pub code: &'static str,
    pub message: String,
}

/// The whole of reading an uploaded file: its bytes decoded ([`decode`]) and
/// parsed ([`parse`]). Pure, so the parser can be fuzzed on raw bytes.
pub fn read(bytes: &[u8]) -> Result<ParsedFile, FieldErrors> {
    parse(&decode(bytes)?)
}

/// Turns the file's bytes into text: UTF-8 (BOM dropped) when valid, else GB18030.
pub fn decode(bytes: &[u8]) -> Result<String, FieldErrors> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(FieldErrors::single(
            "file",
            "encoding",
            "文件编码无法识别，请另存为 UTF-8 或 GBK 的 CSV",
            "the file is neither UTF-8 nor GBK/GB18030 CSV",
        ));
    }
    Ok(text.into_owned())
}

/// A parsed file: the good rows and, by line, the errors of the bad ones.
#[derive(Debug)]
pub struct ParsedFile {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<(usize, FieldErrors)>,
}

/// Parses the CSV text into rows, collecting every bad row's errors by line.
pub fn parse(text: &str) -> Result<ParsedFile, FieldErrors> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| {
            FieldErrors::single(
                "file",
                "malformed",
                format!("CSV 无法读取：{e}"),
                format!("unreadable CSV: {e}"),
            )
        })?
        .clone();
    let columns: Vec<Option<Column>> = headers.iter().map(column_of).collect();
    let mut missing = FieldErrors::new();
    for (required, header) in [(Column::HeadName, "户主姓名"), (Column::Address, "地址")] {
        if !columns.contains(&Some(required)) {
            missing.add(
                "file",
                "missing_column",
                format!("缺少“{header}”列"),
                format!("missing column {header}"),
            );
        }
    }
    if !missing.is_empty() {
        return Err(missing);
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let line = index + 2;
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                errors.push((
                    line,
                    FieldErrors::single(
                        "row",
                        "malformed",
                        format!("该行无法读取：{e}"),
                        format!("unreadable row: {e}"),
                    ),
                ));
                continue;
            }
        };
        if record.iter().all(str::is_empty) {
            continue;
        }
        let cell = |wanted: Column| -> Option<String> {
            columns
                .iter()
                .position(|c| *c == Some(wanted))
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match parse_row(&cell) {
            Ok(fields) => rows.push(ImportRow {
                line,
                branch_name: cell(Column::Branch),
                fields,
            }),
            Err(e) => errors.push((line, e)),
        }
    }
    Ok(ParsedFile { rows, errors })
}

fn column_of(header: &str) -> Option<Column> {
    let header = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    COLUMNS
        .iter()
        .find(|(_, names)| names.contains(&header.as_str()))
        .map(|(column, _)| *column)
}

fn parse_row(cell: &dyn Fn(Column) -> Option<String>) -> Result<HouseholdFields, FieldErrors> {
    let mut errors = FieldErrors::new();
    let location = match (cell(Column::Lat), cell(Column::Lng)) {
        (None, None) => None,
        (lat, lng) => {
            let number = |field: &str, value: Option<String>, errors: &mut FieldErrors| match value
                .as_deref()
                .map(str::parse::<f64>)
            {
                Some(Ok(n)) => Some(n),
                _ => {
                    errors.add(
                        field,
                        "invalid",
                        format!("{field} 应为数字"),
                        format!("{field} must be a number"),
                    );
                    None
                }
            };
            let lat = number("lat", lat, &mut errors);
            let lng = number("lng", lng, &mut errors);
            let coord_system = match cell(Column::CoordSystem) {
                None => Some(CoordSystem::default()),
                Some(raw) => {
                    let parsed = CoordSystem::parse(&raw);
                    if parsed.is_none() {
                        errors.add(
                            "coord_system",
                            "invalid",
                            "坐标系应为 gcj02 或 wgs84",
                            "coord_system must be gcj02 or wgs84",
                        );
                    }
                    parsed
                }
            };
            match (lat, lng, coord_system) {
                (Some(lat), Some(lng), Some(coord_system)) => Some(Location {
                    lat,
                    lng,
                    accuracy_m: None,
                    coord_system,
                }),
                _ => None,
            }
        }
    };
    let tags = cell(Column::Tags)
        .map(|t| {
            t.split([',', '，', ';', '；', '、', '|'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let request = NewHouseholdRequest {
        branch_id: None,
        head_name: cell(Column::HeadName).unwrap_or_default(),
        address: cell(Column::Address).unwrap_or_default(),
        group: cell(Column::Group),
        phone: cell(Column::Phone),
        id_number: cell(Column::IdNumber),
        location,
        tags,
    };
    let fields = errors.take(request.parse());
    match fields {
        Some(fields) if errors.is_empty() => Ok(fields),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_gbk_as_excel_saves_it() {
        let text = "户主姓名,地址,村民小组,联系电话,标签\n张大山,红旗村三组12号,第三村民小组,13800001234,低保户、独居老人\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        let ParsedFile { rows, errors } = parse(&decode(&gbk).unwrap()).unwrap();
        assert!(errors.is_empty());
        assert_eq!(rows[0].fields.head_name.as_deref(), Some("张大山"));
        assert_eq!(
            rows[0].fields.tags.as_deref(),
            Some(&["低保户".to_owned(), "独居老人".to_owned()][..])
        );
    }

    #[test]
    fn utf8_bom_and_english_headers_work() {
        let text = "\u{feff}head_name,address,lat,lng\n李四,东村1号,30.1,120.2\n";
        let ParsedFile { rows, errors } = parse(&decode(text.as_bytes()).unwrap()).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].fields.location.flatten().map(|l| l.lat), Some(30.1));
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_field() {
        let text =
            "户主姓名,地址,联系电话,纬度,经度\n张三,一组,12345,,\n,二组,,91,1\n王五,三组,,,\n";
        let ParsedFile { rows, errors } = parse(text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(errors[0].0, 2);
        assert_eq!(errors[0].1.clone().into_vec()[0].field, "phone");
        assert_eq!(errors[1].0, 3);
        let fields: Vec<String> = errors[1]
            .1
            .clone()
            .into_vec()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert!(
            fields.contains(&"head_name".to_owned()) && fields.contains(&"location.lat".to_owned()),
            "{fields:?}"
        );
    }

    #[test]
    fn missing_required_columns_are_named() {
        let err = parse("姓名,电话\n张三,13800001234\n")
            .unwrap_err()
            .into_vec();
        assert_eq!(err[0].code, "missing_column");
    }

    #[test]
    fn bytes_that_are_no_text_are_refused() {
        assert!(decode(&[b'a', 0x81]).is_err());
    }
}
