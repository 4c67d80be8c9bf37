//! The dashboard's tables as xlsx: the workbook is opened and read back, its
//! rows held against the JSON table the same caller gets for the same
//! question, under the same access rules.

use std::io::{Cursor, Read};

use calamine::{Data, DataType, Reader, Xlsx};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

const BRANCH_HEADERS: [&str; 18] = [
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

const MEMBER_HEADERS: [&str; 7] = [
    "姓名",
    "角色",
    "支部",
    "包联户数",
    "走访次数",
    "最近走访",
    "距今天数",
];

fn visit_body(household_id: Uuid, days_ago: i64) -> Value {
    json!({
        "household_id": household_id, "kind": "assistance",
        "visited_at": (Utc::now() - Duration::days(days_ago)).to_rfc3339(),
        "location": { "lat": 30.27, "lng": 120.15 }, "summary": "走访"
    })
}

fn report_body(outcome: &str) -> Value {
    json!({
        "title": "邻里纠纷", "category": "neighbourhood",
        "parties": [{ "name": "张某" }], "description": "争执",
        "occurred_at": Utc::now().to_rfc3339(), "process": "调解",
        "outcome": outcome,
        "agreement": if outcome == "resolved" { json!("和解") } else { Value::Null },
        "risk_level": "low"
    })
}

fn encode(at: DateTime<Utc>) -> String {
    at.to_rfc3339().replace('+', "%2B").replace(':', "%3A")
}

/// Some of everything the branch table counts, unevenly across branches:
/// the first branch has both households visited (one only before the last
/// two days), the second one of two, so the second is worse covered.
async fn some_activity(app: &TestApp) {
    let [first, second] = [&app.world.a.branches[0], &app.world.a.branches[1]];
    for (member, household, days_ago) in [(0, 0, 1), (0, 0, 3), (1, 1, 5)] {
        let response = app
            .post(
                "/api/v1/visits",
                &first.members[member],
                visit_body(first.households[household].id, days_ago),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let response = app
        .post(
            "/api/v1/visits",
            &second.members[0],
            visit_body(second.households[0].id, 0),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    for outcome in ["resolved", "unresolved", "resolved"] {
        let response = app
            .post(
                "/api/v1/mediation-reports",
                &first.members[1],
                report_body(outcome),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}

/// A downloaded workbook, read back.
struct Workbook {
    bytes: Vec<u8>,
    book: Xlsx<Cursor<Vec<u8>>>,
}

impl Workbook {
    async fn of(response: Response) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], XLSX);
        let bytes = response.bytes().await.unwrap().to_vec();
        let book = Xlsx::new(Cursor::new(bytes.clone())).expect("a readable xlsx");
        Workbook { bytes, book }
    }

    fn sheet_names(&self) -> Vec<String> {
        self.book.sheet_names()
    }

    /// Every row of a sheet, header first.
    fn rows(&mut self, sheet: &str) -> Vec<Vec<Data>> {
        let range = self.book.worksheet_range(sheet).expect("the sheet");
        range.rows().map(<[Data]>::to_vec).collect()
    }

    /// A part of the package as text, e.g. `xl/worksheets/sheet1.xml`.
    fn part(&self, name: &str) -> String {
        let mut zip = zip::ZipArchive::new(Cursor::new(&self.bytes)).unwrap();
        let mut text = String::new();
        zip.by_name(name)
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    /// The number format and boldness of a cell.
    fn style(&mut self, sheet: &str, row: u32, col: u32) -> (Option<String>, bool) {
        let styles = self.book.worksheet_style(sheet).unwrap();
        let style = styles.get((row, col)).cloned().unwrap_or_default();
        (
            style.number_format.map(|f| f.format_code),
            style.font.is_some_and(|f| f.is_bold()),
        )
    }
}

fn headers(row: &[Data]) -> Vec<String> {
    row.iter().map(|d| d.to_string()).collect()
}

/// A JSON figure as the sheet holds it: a number, or an empty cell for `null`.
fn number(value: &Value) -> Data {
    value.as_f64().map_or(Data::Empty, Data::Float)
}

/// An instant as the sheet should show it: an Excel serial in Beijing time.
fn serial_in_beijing(at: &str) -> f64 {
    let at: DateTime<Utc> = at.parse().unwrap();
    let local: NaiveDateTime = at.with_timezone(&chrono_tz::Asia::Shanghai).naive_local();
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    (local - epoch).num_milliseconds() as f64 / 86_400_000.0
}

fn assert_time(cell: &Data, at: &str) {
    let Data::DateTime(shown) = cell else {
        panic!("{cell:?} is not a date cell (for {at})");
    };
    let off_by_seconds = (shown.as_f64() - serial_in_beijing(at)).abs() * 86_400.0;
    assert!(
        off_by_seconds < 1.5,
        "{at} shown as {} ({off_by_seconds} s off)",
        shown.as_f64()
    );
}

/// The width a sheet part gives `column` (1-based), 0 when none.
fn width_of_column(sheet_xml: &str, column: u32) -> f64 {
    let attr = |element: &str, name: &str| -> Option<f64> {
        let start = element.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = start + element[start..].find('"')?;
        element[start..end].parse().ok()
    };
    sheet_xml
        .split("<col ")
        .skip(1)
        .map(|element| format!(" {element}"))
        .find_map(|element| {
            let (min, max) = (attr(&element, "min")?, attr(&element, "max")?);
            (min..=max)
                .contains(&f64::from(column))
                .then(|| attr(&element, "width"))
                .flatten()
        })
        .unwrap_or(0.0)
}

#[tokio::test]
async fn the_branch_export_has_the_json_tables_rows_under_chinese_headers() {
    let app = spawn_app().await;
    some_activity(&app).await;
    let admin = &app.world.a.admin;

    let table = json_of(app.get("/api/v1/stats/branches?sort=name", admin).await).await;
    let response = app
        .get("/api/v1/stats/branches/export?format=xlsx&sort=name", admin)
        .await;
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut book = Workbook::of(response).await;

    assert!(
        disposition.starts_with("attachment; filename=\"branch-stats-"),
        "{disposition}"
    );
    assert!(chinese_file_name(&disposition).starts_with("支部统计-"));
    assert_eq!(book.sheet_names(), ["支部统计", "说明"]);
    let rows = book.rows("支部统计");
    assert_eq!(headers(&rows[0]), BRANCH_HEADERS);
    let items = table["items"].as_array().unwrap();
    assert_eq!(rows.len() - 1, items.len());
    assert_eq!(items.len(), 2);
    for (row, item) in rows[1..].iter().zip(items) {
        let expected = [
            Data::String(item["name"].as_str().unwrap().into()),
            Data::String("村党支部".into()),
            number(&item["members"]),
            number(&item["households"]),
            number(&item["households_visited"]),
            number(&item["visit_coverage"]),
            number(&item["visits"]["total"]),
            number(&item["mediation"]["total"]),
            number(&item["mediation"]["resolved"]),
            number(&item["mediation"]["resolution_rate"]),
            number(&item["mediation"]["escalated"]),
            number(&item["pledges"]["total"]),
            number(&item["pledges"]["fulfilled"]),
            number(&item["pledges"]["fulfilment_rate"]),
            number(&item["pending_reviews"]),
        ];
        assert_eq!(row[..15], expected[..], "{}", item["name"]);
        // Asked a moment apart: the wait may have moved by a tenth of an hour.
        let waited = row[15].as_f64().unwrap();
        let json_waited = item["oldest_pending_hours"].as_f64().unwrap();
        assert!((waited - json_waited).abs() <= 0.1 + 1e-9);
        assert_eq!(
            row[16..],
            [
                number(&item["rectifications"]["open"]),
                number(&item["rectifications"]["overdue"])
            ]
        );
    }
    let first = &rows[1];
    assert_eq!(
        first[0],
        Data::String(app.world.a.branches[0].branch.name.clone())
    );
    assert_eq!(first[6], Data::Float(3.0), "the first branch's visits");
    assert_eq!(first[7], Data::Float(3.0), "its mediation reports");
    assert_eq!(first[9], Data::Float(0.6667), "two of three resolved");
    assert!(book.style("支部统计", 0, 0).1, "a bold header");
    assert_eq!(book.style("支部统计", 1, 5).0.as_deref(), Some("0.0%"));
    assert_eq!(book.style("支部统计", 1, 9).0.as_deref(), Some("0.0%"));
    assert_eq!(book.style("支部统计", 1, 13).0.as_deref(), Some("0.0%"));
    assert!(!book.style("支部统计", 1, 0).1, "rows are not bold");
    let sheet = book.part("xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains("ySplit=\"1\"") && sheet.contains("state=\"frozen\""),
        "the header row is frozen: {sheet}"
    );
    let name_chars = app.world.a.branches[0].branch.name.chars().count() as f64;
    assert!(width_of_column(&sheet, 1) >= 2.0 * name_chars, "{sheet}");
    assert!(width_of_column(&sheet, 16) >= 16.0, "{sheet}");
}

#[tokio::test]
async fn the_branch_export_keeps_the_tables_order_and_period() {
    let app = spawn_app().await;
    some_activity(&app).await;
    let admin = &app.world.a.admin;
    let from = Utc::now() - Duration::days(2);
    let since = format!("from={}", encode(from));
    let names = |rows: &[Vec<Data>]| -> Vec<String> {
        rows[1..].iter().map(|r| r[0].to_string()).collect()
    };
    let json_names = |table: &Value| -> Vec<String> {
        table["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let worst_first = json_of(app.get("/api/v1/stats/branches", admin).await).await;
    let mut worst_first_book =
        Workbook::of(app.get("/api/v1/stats/branches/export", admin).await).await;
    let recent = json_of(
        app.get(&format!("/api/v1/stats/branches?{since}"), admin)
            .await,
    )
    .await;
    let mut recent_book = Workbook::of(
        app.get(&format!("/api/v1/stats/branches/export?{since}"), admin)
            .await,
    )
    .await;

    let worst_first_rows = worst_first_book.rows("支部统计");
    assert_eq!(names(&worst_first_rows), json_names(&worst_first));
    assert_eq!(
        names(&worst_first_rows)[0],
        app.world.a.branches[1].branch.name,
        "the less covered branch first"
    );
    let recent_rows = recent_book.rows("支部统计");
    assert_eq!(names(&recent_rows), json_names(&recent));
    let first = recent_rows
        .iter()
        .find(|r| r[0].to_string() == app.world.a.branches[0].branch.name)
        .unwrap();
    assert_eq!(first[6], Data::Float(1.0), "one visit since `from`");
    assert_eq!(
        first[5],
        Data::Float(0.5),
        "one household of two since `from`"
    );
    let about = recent_book.rows("说明");
    assert_eq!(about[1][0], Data::String("统计起始".into()));
    assert_time(&about[1][1], &from.to_rfc3339());
    assert_eq!(about[2][1], Data::String("至今".into()));
    let all_time = worst_first_book.rows("说明");
    assert_eq!(all_time[1][1], Data::String("不限".into()));
}

#[tokio::test]
async fn the_member_export_matches_the_json_table_for_the_same_caller() {
    let app = spawn_app().await;
    some_activity(&app).await;
    let branch = &app.world.a.branches[0];
    let from = Utc::now() - Duration::days(4);
    let query = format!("from={}", encode(from));

    let table = json_of(
        app.get(&format!("/api/v1/stats/members?{query}"), &branch.secretary)
            .await,
    )
    .await;
    let response = app
        .get(
            &format!("/api/v1/stats/members/export?format=xlsx&{query}"),
            &branch.secretary,
        )
        .await;
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut book = Workbook::of(response).await;

    assert!(
        disposition.starts_with("attachment; filename=\"member-stats-"),
        "{disposition}"
    );
    let rows = book.rows("党员走访");
    assert_eq!(headers(&rows[0]), MEMBER_HEADERS);
    let items = table["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "the secretary and two members");
    assert_eq!(rows.len() - 1, items.len());
    for (row, item) in rows[1..].iter().zip(items) {
        let role = match item["role"].as_str().unwrap() {
            "secretary" => "支部书记",
            _ => "党员",
        };
        let expected = [
            Data::String(item["name"].as_str().unwrap().into()),
            Data::String(role.into()),
            Data::String(branch.branch.name.clone()),
            number(&item["assigned_households"]),
            number(&item["visits"]),
        ];
        assert_eq!(row[..5], expected[..], "{}", item["name"]);
        match item["last_visited_at"].as_str() {
            Some(at) => assert_time(&row[5], at),
            None => assert_eq!(row[5], Data::Empty),
        }
        assert_eq!(row[6], number(&item["days_since_last_visit"]));
    }
    let names: Vec<String> = rows[1..].iter().map(|r| r[0].to_string()).collect();
    assert_eq!(names, ["书记", "党员1", "党员0"], "lagging first");
    assert_eq!(rows[2][4], Data::Float(0.0), "no visit since `from`");
    assert_eq!(
        rows[2][6],
        Data::Float(5.0),
        "an earlier visit is still the last"
    );
    assert_eq!(rows[3][4], Data::Float(2.0), "two visits since `from`");
    assert_eq!(rows[3][6], Data::Float(1.0), "a day since the last");
    assert_eq!(rows[1][5], Data::Empty, "never visited");
    assert_eq!(
        book.style("党员走访", 3, 5).0.as_deref(),
        Some("yyyy-mm-dd hh:mm")
    );
}

#[tokio::test]
async fn an_admin_exports_members_of_the_township_or_of_one_branch() {
    let app = spawn_app().await;
    some_activity(&app).await;
    let admin = &app.world.a.admin;
    let second = &app.world.a.branches[1];

    let mut township = Workbook::of(app.get("/api/v1/stats/members/export", admin).await).await;
    let one = app
        .get(
            &format!(
                "/api/v1/stats/members/export?branch_id={}",
                second.branch.id
            ),
            admin,
        )
        .await;
    let disposition = one.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    let mut one = Workbook::of(one).await;

    let all = township.rows("党员走访");
    assert_eq!(all.len() - 1, 6, "both branches' secretaries and members");
    let branches: Vec<String> = all[1..].iter().map(|r| r[2].to_string()).collect();
    for branch in &app.world.a.branches {
        assert_eq!(
            branches
                .iter()
                .filter(|b| **b == branch.branch.name)
                .count(),
            3
        );
    }
    let rows = one.rows("党员走访");
    assert_eq!(rows.len() - 1, 3);
    assert!(
        rows[1..]
            .iter()
            .all(|r| r[2] == Data::String(second.branch.name.clone()))
    );
    let chinese_name = chinese_file_name(&disposition);
    assert!(
        chinese_name.starts_with(&format!("党员走访-{}-", second.branch.name)),
        "the branch in the Chinese file name: {chinese_name}"
    );
}

/// The RFC 5987 `filename*` of a `Content-Disposition`, decoded.
fn chinese_file_name(disposition: &str) -> String {
    let (_, encoded) = disposition
        .split_once("filename*=UTF-8''")
        .expect("a filename*");
    percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test]
async fn the_exports_keep_the_dashboards_access_rules() {
    let app = spawn_app().await;
    let own = &app.world.a.branches[0];
    let other = &app.world.a.branches[1];
    let foreign = &app.world.b.branches[0];
    let admin = &app.world.a.admin;
    let members_of = |id: Uuid| format!("/api/v1/stats/members/export?branch_id={id}");

    let secretary_branches = app
        .get("/api/v1/stats/branches/export", &own.secretary)
        .await;
    let member_branches = app
        .get("/api/v1/stats/branches/export", &own.members[0])
        .await;
    let member_members = app
        .get("/api/v1/stats/members/export", &own.members[0])
        .await;
    let secretary_other = app.get(&members_of(other.branch.id), &own.secretary).await;
    let admin_foreign = app.get(&members_of(foreign.branch.id), admin).await;
    let anonymous = app
        .client
        .get(app.url("/api/v1/stats/members/export"))
        .send()
        .await
        .unwrap();

    assert_eq!(secretary_branches.status(), StatusCode::FORBIDDEN);
    assert_eq!(member_branches.status(), StatusCode::FORBIDDEN);
    assert_eq!(member_members.status(), StatusCode::FORBIDDEN);
    assert_eq!(secretary_other.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin_foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unknown_format_is_refused_naming_format() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;

    for path in [
        "/api/v1/stats/branches/export?format=csv",
        "/api/v1/stats/members/export?format=pdf",
    ] {
        let response = app.get(path, admin).await;

        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}"
        );
        let body = json_of(response).await;
        assert_eq!(body["error"]["code"], "validation_failed", "{path}");
        assert_eq!(body["error"]["details"][0]["field"], "format", "{path}");
    }
}
