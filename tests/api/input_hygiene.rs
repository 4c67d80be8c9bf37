//! Input an attacker shapes to hurt the server or the people who read its
//! output: invented methods swelling `/metrics`, formulas in CSV exports, NUL
//! characters, invisible names, wildcards in searches and forged
//! `X-Forwarded-For` entries.

use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use xianfeng::entities::user;

use crate::helpers::*;
use crate::visits::{HOME, locate_households};

async fn metrics_text(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn invented_methods_and_paths_do_not_add_metric_series() {
    let app = spawn_app().await;
    let before = metrics_text(&app).await;

    for i in 0..40 {
        let method = Method::from_bytes(format!("XFBREW{i}").as_bytes()).unwrap();
        for path in ["/api/v1/visits".to_owned(), format!("/made-up/{i}")] {
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .send()
                .await;
            assert!(response.is_ok());
        }
    }

    let after = metrics_text(&app).await;
    assert!(
        !after.contains("XFBREW"),
        "an invented method became a label"
    );
    assert!(
        !after.contains("/made-up"),
        "an unmatched path became a label"
    );
    assert!(
        after
            .lines()
            .any(|l| l.starts_with("xianfeng_http_requests_total")
                && l.contains(r#"method="other""#)
                && l.contains(r#"route="unmatched""#)),
        "{after}"
    );
    // 80 requests add a handful of series, not 80 of each instrument.
    assert!(
        after.len() < before.len() + 8_000,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}

async fn rename(app: &TestApp, user: &user::Model, name: &str) {
    let response = app
        .patch(
            &format!("/api/v1/users/{}", user.id),
            &app.world.a.admin,
            json!({ "name": name }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{name}");
}

/// The CSV's records after the header, split naively (the cells used here
/// hold no commas or quotes).
async fn csv_rows(app: &TestApp, path: &str, as_user: &user::Model) -> Vec<Vec<String>> {
    let response = app.get(path, as_user).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    text.trim_end()
        .split("\r\n")
        .skip(1)
        .map(|line| line.split(',').map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_visit_export_writes_formulas_as_text_and_times_on_the_townships_clock() {
    let app = spawn_app().await;
    locate_households(&app).await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    rename(&app, member, "=2+3").await;
    let visited_at = (Utc::now() - Duration::hours(3)).trunc_subsecs(0);
    let response = app
        .post(
            "/api/v1/visits",
            member,
            json!({
                "household_id": branch.households[0].id,
                "kind": "assistance",
                "visited_at": visited_at.to_rfc3339(),
                "location": { "lat": HOME.0, "lng": HOME.1, "accuracy_m": 10.0 },
                "summary": "-1+2 了解取暖",
                "needs": ["@SUM(A1)"],
                "follow_up": false
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let rows = csv_rows(&app, "/api/v1/visits/export", &branch.secretary).await;

    assert_eq!(rows.len(), 1, "{rows:?}");
    let row = &rows[0];
    assert_eq!(row[1], "'=2+3", "member name");
    assert_eq!(row[8], "'-1+2 了解取暖", "summary");
    assert_eq!(row[9], "'@SUM(A1)", "needs");
    // The seeded township keeps Beijing time (UTC+8, no daylight saving).
    let beijing = (visited_at + Duration::hours(8)).format("%Y-%m-%d %H:%M");
    assert_eq!(row[4], beijing.to_string(), "visited at");
    for cell in row {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "{cell}"
        );
    }
}

#[tokio::test]
async fn the_mediation_export_writes_formulas_as_text_and_times_on_the_townships_clock() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let occurred_at = (Utc::now() - Duration::days(1)).trunc_subsecs(0);
    let response = app
        .post(
            "/api/v1/mediation-reports",
            &branch.members[0],
            json!({
                "title": "+1+1 宅基地纠纷",
                "category": "land",
                "parties": [{ "name": "=张某" }],
                "description": "@两户争执",
                "occurred_at": occurred_at.to_rfc3339(),
                "location": { "lat": HOME.0, "lng": HOME.1 },
                "process": "-协商",
                "outcome": "resolved",
                "agreement": "=HYPERLINK(\"http://example.com\")",
                "risk_level": "low"
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    let response = app
        .get("/api/v1/mediation-reports/export", &branch.secretary)
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();

    assert_eq!(rows.len(), 1, "{text}");
    let row = &rows[0];
    assert_eq!(&row[2], "'+1+1 宅基地纠纷");
    assert_eq!(&row[4], "'=张某");
    let beijing = (occurred_at + Duration::hours(8)).format("%Y-%m-%d %H:%M");
    assert_eq!(&row[5], beijing.to_string());
    assert_eq!(&row[15], "'@两户争执");
    assert_eq!(&row[16], "'-协商");
    assert_eq!(&row[17], "'=HYPERLINK(\"http://example.com\")");
}

/// The `(status, field)` of an answer expected to be a 422.
async fn refused_field(response: reqwest::Response) -> (StatusCode, String) {
    let status = response.status();
    let body: Value = json_of(response).await;
    let field = body["error"]["details"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, field)
}

#[tokio::test]
async fn a_nul_character_is_refused_naming_its_field_wherever_it_is_sent() {
    let app = spawn_app().await;
    locate_households(&app).await;
    let branch = &app.world.a.branches[0];
    let (secretary, admin) = (&branch.secretary, &app.world.a.admin);
    let household = &branch.households[0];
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;

    let summary = app
        .post(
            "/api/v1/visits",
            &branch.members[0],
            json!({
                "household_id": household.id,
                "kind": "assistance",
                "visited_at": Utc::now().to_rfc3339(),
                "location": { "lat": HOME.0, "lng": HOME.1, "accuracy_m": 10.0 },
                "summary": "了解\u{0}情况",
                "needs": [],
                "follow_up": false
            }),
        )
        .await;
    assert_eq!(
        refused_field(summary).await,
        (unprocessable, "summary".into())
    );

    let address = app
        .patch(
            &format!("/api/v1/households/{}", household.id),
            secretary,
            json!({ "address": "\u{0}" }),
        )
        .await;
    assert_eq!(
        refused_field(address).await,
        (unprocessable, "address".into())
    );

    let name = app
        .patch(
            &format!("/api/v1/users/{}", branch.members[1].id),
            admin,
            json!({ "name": "张\u{0}三" }),
        )
        .await;
    assert_eq!(refused_field(name).await, (unprocessable, "name".into()));

    let tags = app
        .post(
            "/api/v1/households",
            secretary,
            json!({ "head_name": "王五", "address": "一组3号", "tags": ["低保户", "独居\u{0}"] }),
        )
        .await;
    assert_eq!(refused_field(tags).await, (unprocessable, "tags[1]".into()));

    for path in ["/api/v1/households?q=%00", "/api/v1/users?q=a%00b"] {
        let search = app.get(path, admin).await;
        assert_eq!(
            refused_field(search).await,
            (unprocessable, "q".into()),
            "{path}"
        );
    }
}

#[tokio::test]
async fn names_of_invisible_characters_only_are_refused() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    for invisible in [
        "\u{200B}\u{200B}",
        "\u{FEFF}",
        "\u{200F}\u{202E}",
        "\u{3164}",
    ] {
        let household = app
            .post(
                "/api/v1/households",
                &branch.secretary,
                json!({ "head_name": invisible, "address": "一组3号" }),
            )
            .await;
        assert_eq!(
            refused_field(household).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "head_name".into()),
            "{invisible:?}"
        );
        let user = app
            .patch(
                &format!("/api/v1/users/{}", branch.members[0].id),
                &app.world.a.admin,
                json!({ "name": invisible }),
            )
            .await;
        assert_eq!(
            refused_field(user).await,
            (StatusCode::UNPROCESSABLE_ENTITY, "name".into()),
            "{invisible:?}"
        );
    }
    let nbsp = app
        .post(
            "/api/v1/households",
            &branch.secretary,
            json!({ "head_name": "\u{A0}\u{A0}", "address": "一组3号" }),
        )
        .await;
    assert_eq!(
        refused_field(nbsp).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "head_name".into())
    );
}

fn item_count(body: &Value) -> usize {
    body["items"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn percent_and_underscore_in_a_search_match_only_themselves() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let admin = &app.world.a.admin;
    let created = app
        .post(
            "/api/v1/households",
            &branch.secretary,
            json!({ "head_name": "达标100%户", "address": "一组_9号" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);

    let search = |q: &'static str, what: &'static str| {
        let app = &app;
        async move {
            let response = app.get(&format!("/api/v1/{what}?q={q}"), admin).await;
            assert_eq!(response.status(), StatusCode::OK, "{what}?q={q}");
            item_count(&json_of(response).await)
        }
    };

    assert_eq!(search("%25", "users").await, 0, "% lists every user");
    assert_eq!(search("_", "users").await, 0, "_ lists every user");
    assert_eq!(search("%25", "households").await, 1, "only 达标100%户");
    assert_eq!(search("0%25户", "households").await, 1);
    assert_eq!(search("_9", "households").await, 1, "only 一组_9号");
    assert_eq!(search("组_", "households").await, 1);
    assert_eq!(search("!", "households").await, 0);
}

/// A login that fails, as a client behind the proxies at `forwarded_for`.
async fn failed_login(app: &TestApp, forwarded_for: &str) -> StatusCode {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "phone": unique_phone(), "password": "not-the-password" }))
        .send()
        .await
        .unwrap()
        .status()
}

fn limited_to_three_per_client(proxy: (&'static str, &str)) -> Options {
    Options {
        env: vec![
            ("LOGIN_MAX_FAILURES_PER_CLIENT", "3".to_owned()),
            (proxy.0, proxy.1.to_owned()),
        ],
    }
}

#[tokio::test]
async fn a_forged_leftmost_forwarded_for_does_not_escape_the_client_login_limit() {
    // The older switch, which took the leftmost entry, now means one proxy.
    let app = spawn_app_with(limited_to_three_per_client(("TRUST_PROXY_HEADERS", "true"))).await;

    for i in 0..3 {
        let forged = format!("198.51.100.{i}, 203.0.113.9");
        assert_eq!(failed_login(&app, &forged).await, StatusCode::UNAUTHORIZED);
    }
    let again = failed_login(&app, "198.51.100.99, 203.0.113.9").await;
    let another_client = failed_login(&app, "203.0.113.10").await;

    assert_eq!(again, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(another_client, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn with_two_trusted_proxies_the_client_is_the_second_entry_from_the_right() {
    let app = spawn_app_with(limited_to_three_per_client(("TRUSTED_PROXY_HOPS", "2"))).await;

    for i in 0..3 {
        let forged = format!("198.51.100.{i}, 203.0.113.9, 10.0.0.{i}");
        assert_eq!(failed_login(&app, &forged).await, StatusCode::UNAUTHORIZED);
    }
    let again = failed_login(&app, "203.0.113.9, 10.0.0.1").await;
    let another_client = failed_login(&app, "203.0.113.10, 10.0.0.1").await;

    assert_eq!(again, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(another_client, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() {
    let app = spawn_app_with(limited_to_three_per_client(("TRUSTED_PROXY_HOPS", "0"))).await;

    for i in 0..3 {
        let forged = format!("198.51.100.{i}");
        assert_eq!(failed_login(&app, &forged).await, StatusCode::UNAUTHORIZED);
    }

    assert_eq!(
        failed_login(&app, "203.0.113.10").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}
