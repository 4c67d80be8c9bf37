//! Campaigns and their phases: the rules of their dates, the phase of today
//! in `/me`, stats by phase against the same `from`/`to`, submissions a
//! phase closes, idempotent creation, audit and outbox, the start notice.

use chrono::{Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::entities::{audit_log, campaign, outbox_event, user};

use crate::helpers::*;

/// Today in the test townships' zone (Beijing time), moved by `offset` days.
fn day(offset: i64) -> NaiveDate {
    let tz = xianfeng::domain::buckets::zone("Asia/Shanghai");
    xianfeng::domain::buckets::local_date(Utc::now(), tz) + Duration::days(offset)
}

fn phase(name: &str, from: i64, to: i64, open_kinds: &[&str]) -> Value {
    json!({ "name": name, "starts_on": day(from), "ends_on": day(to), "open_kinds": open_kinds })
}

const ALL: &[&str] = &["visit", "mediation_report", "pledge"];

/// A campaign from `from` to `to` days from today with these phases.
fn campaign_body(from: i64, to: i64, phases: Vec<Value>) -> Value {
    json!({ "name": "创先争优活动", "description": "按县委部署开展",
            "starts_on": day(from), "ends_on": day(to), "phases": phases })
}

async fn create(app: &TestApp, body: Value) -> Value {
    let response = app
        .post("/api/v1/campaigns", &app.world.a.admin, body)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await
}

fn visit_body(household_id: Uuid, days_ago: i64) -> Value {
    json!({
        "household_id": household_id, "kind": "assistance",
        "visited_at": (Utc::now() - Duration::days(days_ago)).to_rfc3339(),
        "location": { "lat": 30.27, "lng": 120.15 }, "summary": "走访"
    })
}

fn report_body() -> Value {
    json!({
        "title": "邻里纠纷", "category": "neighbourhood",
        "parties": [{ "name": "张某" }], "description": "争执",
        "occurred_at": Utc::now().to_rfc3339(), "process": "调解",
        "outcome": "resolved", "agreement": "和解", "risk_level": "low"
    })
}

fn pledge_body() -> Value {
    json!({
        "scope": "member", "year": chrono::Datelike::year(&Utc::now()),
        "title": "践行为民服务承诺", "content": "每月走访包联户",
        "targets": [{ "description": "走访包联户4次" }]
    })
}

/// The `(field, code)` pairs of a 422.
async fn field_errors(response: reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    json_of(response).await["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_owned(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(field: &str, code: &str) -> (String, String) {
    (field.to_owned(), code.to_owned())
}

// ------------------------------------------------------------ defining

#[tokio::test]
async fn an_admin_lays_out_a_campaign_and_everyone_in_the_township_reads_it() {
    let app = spawn_app().await;
    let created = create(
        &app,
        campaign_body(
            -10,
            30,
            vec![
                phase("总结完善", 11, 30, &["visit", "mediation_report"]),
                phase("动员部署", -10, -1, ALL),
                phase("组织实施", 0, 10, &["visit", "mediation_report"]),
            ],
        ),
    )
    .await;

    let names: Vec<&str> = created["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["动员部署", "组织实施", "总结完善"], "in date order");
    assert_eq!(created["phases"][1]["position"], 2);
    let statuses: Vec<&str> = created["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["ended", "current", "upcoming"]);
    assert_eq!(created["status"], "current");
    assert_eq!(created["current_phase_id"], created["phases"][1]["id"]);
    assert_eq!(
        created["phases"][0]["open_kinds"],
        json!(["visit", "mediation_report", "pledge"])
    );
    let id = created["id"].as_str().unwrap();

    let branch = &app.world.a.branches[1];
    for reader in [&branch.members[0], &branch.secretary] {
        let one = json_of(app.get(&format!("/api/v1/campaigns/{id}"), reader).await).await;
        assert_eq!(one, created, "every role of the township reads it");
        let list = json_of(app.get("/api/v1/campaigns", reader).await).await;
        assert_eq!(list["items"][0]["id"], id);
        assert_eq!(list["next_cursor"], Value::Null);
    }
    let foreign = &app.world.b.branches[0].members[0];
    let response = app.get(&format!("/api/v1/campaigns/{id}"), foreign).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let list = json_of(app.get("/api/v1/campaigns", &app.world.b.admin).await).await;
    assert_eq!(list["items"], json!([]), "another township sees none of it");
}

#[tokio::test]
async fn bad_dates_are_422_naming_each_field() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;

    let reversed = json!({ "name": "活动", "starts_on": day(5), "ends_on": day(1) });
    let response = app.post("/api/v1/campaigns", admin, reversed).await;
    assert_eq!(
        field_errors(response).await,
        [pair("ends_on", "before_starts_on")]
    );

    let mut bad = campaign_body(
        0,
        30,
        vec![
            phase("动员部署", 0, 10, ALL),
            phase("组织实施", 10, 20, ALL),
            phase("总结完善", 21, 31, ALL),
        ],
    );
    bad["phases"][0]["deadlines"] = json!({ "pledge": day(11) });
    bad["phases"][1]["open_kinds"] = json!(["visit"]);
    bad["phases"][1]["deadlines"] = json!({ "pledge": day(12) });
    let response = app.post("/api/v1/campaigns", admin, bad).await;
    assert_eq!(
        field_errors(response).await,
        [
            pair("phases[0].deadlines.pledge", "outside_phase"),
            pair("phases[1].starts_on", "overlaps"),
            pair("phases[1].deadlines.pledge", "kind_not_open"),
            pair("phases[2].ends_on", "outside_campaign"),
        ]
    );
    let none = json_of(app.get("/api/v1/campaigns", admin).await).await;
    assert_eq!(none["items"], json!([]), "nothing is stored");

    let made = create(
        &app,
        campaign_body(0, 30, vec![phase("动员部署", 0, 10, ALL)]),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    let overlapping = campaign_body(30, 60, vec![]);
    let response = app.post("/api/v1/campaigns", admin, overlapping).await;
    assert_eq!(
        field_errors(response).await,
        [pair("starts_on", "overlaps_campaign")]
    );

    let response = app
        .post(
            &format!("/api/v1/campaigns/{id}/phases"),
            admin,
            phase("组织实施", 5, 40, ALL),
        )
        .await;
    assert_eq!(
        field_errors(response).await,
        [
            pair("ends_on", "outside_campaign"),
            pair("starts_on", "overlaps")
        ]
    );

    let response = app
        .patch(
            &format!("/api/v1/campaigns/{id}"),
            admin,
            json!({ "starts_on": day(1) }),
        )
        .await;
    assert_eq!(
        field_errors(response).await,
        [pair("starts_on", "phase_outside")]
    );

    let phase_id = made["phases"][0]["id"].as_str().unwrap();
    let response = app
        .patch(
            &format!("/api/v1/campaigns/{id}/phases/{phase_id}"),
            admin,
            json!({ "ends_on": day(-1) }),
        )
        .await;
    assert_eq!(
        field_errors(response).await,
        [pair("ends_on", "before_starts_on")]
    );
    let response = app
        .post(
            "/api/v1/campaigns",
            admin,
            json!({ "name": "活动", "starts_on": "2026-13-01", "ends_on": day(1) }),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "an impossible date is a client error"
    );
    let after = json_of(app.get(&format!("/api/v1/campaigns/{id}"), admin).await).await;
    assert_eq!(after, made, "refused changes change nothing");
}

#[tokio::test]
async fn a_campaign_changes_and_goes_with_its_phases() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let made = create(
        &app,
        campaign_body(0, 30, vec![phase("动员部署", 0, 10, ALL)]),
    )
    .await;
    let id = made["id"].as_str().unwrap();

    let added = app
        .post(
            &format!("/api/v1/campaigns/{id}/phases"),
            admin,
            phase("组织实施", 11, 30, &["visit"]),
        )
        .await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added = json_of(added).await;
    assert_eq!(added["position"], 2);
    let renamed = app
        .patch(
            &format!("/api/v1/campaigns/{id}"),
            admin,
            json!({ "name": "2026年创先争优活动", "ends_on": day(40) }),
        )
        .await;
    assert_eq!(renamed.status(), StatusCode::OK);
    let renamed = json_of(renamed).await;
    assert_eq!(renamed["name"], "2026年创先争优活动");
    assert_eq!(renamed["phases"].as_array().unwrap().len(), 2);
    assert!(renamed["version"].as_i64() > made["version"].as_i64());

    let removed = app
        .delete(
            &format!(
                "/api/v1/campaigns/{id}/phases/{}",
                added["id"].as_str().unwrap()
            ),
            admin,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let one = json_of(app.get(&format!("/api/v1/campaigns/{id}"), admin).await).await;
    assert_eq!(one["phases"].as_array().unwrap().len(), 1);

    let gone = app.delete(&format!("/api/v1/campaigns/{id}"), admin).await;
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    let response = app.get(&format!("/api/v1/campaigns/{id}"), admin).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

// ------------------------------------------------------------ /me

#[tokio::test]
async fn me_shows_the_phase_of_today_and_null_outside_every_phase() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let before = json_of(app.get("/api/v1/me", member).await).await;
    assert_eq!(before["current_phase"], Value::Null);

    let made = create(
        &app,
        campaign_body(
            -10,
            20,
            vec![
                phase("动员部署", -10, -1, ALL),
                phase("组织实施", 0, 5, &["visit", "mediation_report"]),
                phase("总结完善", 6, 20, ALL),
            ],
        ),
    )
    .await;

    let mut me = json_of(app.get("/api/v1/me", member).await).await;
    let current = me["current_phase"].take();
    assert_eq!(current["name"], "组织实施");
    assert_eq!(current["position"], 2);
    assert_eq!(current["campaign_name"], "创先争优活动");
    assert_eq!(current["campaign_id"], made["id"]);
    assert_eq!(current["status"], "current");
    assert_eq!(current["open_kinds"], json!(["visit", "mediation_report"]));
    assert_eq!(current["starts_on"], day(0).to_string());
    let mut unchanged = before.clone();
    unchanged["current_phase"] = Value::Null;
    assert_eq!(me, unchanged, "every other field as before");

    let admin_me = json_of(app.get("/api/v1/me", &app.world.a.admin).await).await;
    assert_eq!(admin_me["current_phase"]["id"], current["id"]);
    let foreign = json_of(app.get("/api/v1/me", &app.world.b.admin).await).await;
    assert_eq!(
        foreign["current_phase"],
        Value::Null,
        "another township's campaign"
    );

    // Moved to start tomorrow, the phase is no longer today's.
    let path = format!(
        "/api/v1/campaigns/{}/phases/{}",
        made["id"].as_str().unwrap(),
        current["id"].as_str().unwrap()
    );
    let moved = app
        .patch(&path, &app.world.a.admin, json!({ "starts_on": day(1) }))
        .await;
    assert_eq!(moved.status(), StatusCode::OK);
    let me = json_of(app.get("/api/v1/me", member).await).await;
    assert_eq!(me["current_phase"], Value::Null);
}

// ------------------------------------------------------------ stats

#[tokio::test]
async fn stats_by_phase_count_exactly_what_its_from_and_to_count() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let made = create(
        &app,
        campaign_body(
            -25,
            10,
            vec![
                phase("动员部署", -25, -10, ALL),
                phase("组织实施", -9, 10, ALL),
            ],
        ),
    )
    .await;
    for days_ago in [15, 2, 0] {
        let response = app
            .post(
                "/api/v1/visits",
                member,
                visit_body(branch.households[0].id, days_ago),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let admin = &app.world.a.admin;
    let secretary = &branch.secretary;
    for (phase, visits) in [(&made["phases"][0], 1), (&made["phases"][1], 2)] {
        let id = phase["id"].as_str().unwrap();
        let range = format!(
            "from={}&to={}",
            urlencode(phase["from"].as_str().unwrap()),
            urlencode(phase["to"].as_str().unwrap())
        );
        for (path, caller) in [
            ("/api/v1/stats/overview", admin),
            ("/api/v1/stats/overview", secretary),
            ("/api/v1/stats/branches", admin),
            ("/api/v1/stats/members", admin),
            ("/api/v1/stats/timeseries?bucket=week", admin),
        ] {
            let sep = if path.contains('?') { '&' } else { '?' };
            let by_phase =
                json_of(app.get(&format!("{path}{sep}phase_id={id}"), caller).await).await;
            let by_range = json_of(app.get(&format!("{path}{sep}{range}"), caller).await).await;
            assert_eq!(
                without_clock(by_phase),
                without_clock(by_range),
                "{path} by phase {id}"
            );
        }
        let overview = json_of(
            app.get(&format!("/api/v1/stats/overview?phase_id={id}"), admin)
                .await,
        )
        .await;
        assert_eq!(overview["visits"]["total"], visits);
        assert_eq!(overview["from"], phase["from"]);
    }

    let id = made["phases"][0]["id"].as_str().unwrap();
    let both = app
        .get(
            &format!("/api/v1/stats/overview?phase_id={id}&from=2026-01-01T00:00:00Z"),
            admin,
        )
        .await;
    assert_eq!(field_errors(both).await, [pair("phase_id", "with_from_to")]);
    let unknown = app
        .get(
            &format!("/api/v1/stats/overview?phase_id={}", Uuid::now_v7()),
            admin,
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let foreign = app
        .get(
            &format!("/api/v1/stats/members?phase_id={id}"),
            &app.world.b.admin,
        )
        .await;
    assert_eq!(
        foreign.status(),
        StatusCode::NOT_FOUND,
        "another township's phase"
    );
    let export = app
        .get(
            &format!("/api/v1/stats/branches/export?format=xlsx&phase_id={id}"),
            admin,
        )
        .await;
    assert_eq!(export.status(), StatusCode::OK);
}

fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}

/// An answer without the figures that move with the clock.
fn without_clock(mut value: Value) -> Value {
    fn strip(value: &mut Value) {
        match value {
            Value::Object(map) => {
                map.remove("generated_at");
                map.remove("oldest_pending_hours");
                map.remove("days_since_last_visit");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

// ------------------------------------------------------------ submissions

async fn submit(app: &TestApp, path: &str, who: &user::Model, body: Value) -> (StatusCode, Value) {
    let response = app.post(path, who, body).await;
    let status = response.status();
    (status, json_of(response).await)
}

#[tokio::test]
async fn a_phase_that_closes_a_kind_refuses_it_and_one_that_opens_it_takes_it() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let household = branch.households[0].id;
    let made = create(
        &app,
        campaign_body(-10, 10, vec![phase("动员部署", -10, 10, &["pledge"])]),
    )
    .await;

    let (status, body) = submit(&app, "/api/v1/visits", member, visit_body(household, 0)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "submissions_closed");
    assert_eq!(body["error"]["details"][0]["field"], "phase");
    assert_eq!(body["error"]["details"][0]["code"], "closed_in_phase");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("动员部署")
    );
    let (status, body) = submit(&app, "/api/v1/mediation-reports", member, report_body()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "submissions_closed");
    let (status, _) = submit(&app, "/api/v1/pledges", member, pledge_body()).await;
    assert_eq!(status, StatusCode::CREATED, "the phase takes pledges");
    let english = app
        .request(Method::POST, "/api/v1/visits", Some(member))
        .header("Accept-Language", "en")
        .json(&visit_body(household, 0))
        .send()
        .await
        .unwrap();
    let english = json_of(english).await;
    assert_eq!(
        english["error"]["message"],
        "the current phase “动员部署” takes no new visits"
    );

    // Visits and reports open, visits until yesterday; pledges closed.
    let path = format!(
        "/api/v1/campaigns/{}/phases/{}",
        made["id"].as_str().unwrap(),
        made["phases"][0]["id"].as_str().unwrap()
    );
    let changed = app
        .patch(
            &path,
            &app.world.a.admin,
            json!({ "open_kinds": ["visit", "mediation_report"], "deadlines": { "visit": day(-1) } }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    let (status, body) = submit(&app, "/api/v1/visits", member, visit_body(household, 0)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["details"][0]["code"], "deadline_passed");
    let (status, _) = submit(&app, "/api/v1/visits", member, visit_body(household, 2)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a visit made before the deadline, uploaded after it, is taken"
    );
    let (status, _) = submit(&app, "/api/v1/mediation-reports", member, report_body()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = submit(&app, "/api/v1/pledges", member, pledge_body()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["details"][0]["code"], "closed_in_phase");
    let (status, _) = submit(
        &app,
        "/api/v1/pledges",
        &branch.secretary,
        json!({ "scope": "branch", "year": chrono::Datelike::year(&Utc::now()),
                "title": "支部承诺", "content": "办实事", "targets": [{ "description": "修路" }] }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "branch pledges too");

    let reopened = app
        .patch(&path, &app.world.a.admin, json!({ "deadlines": {} }))
        .await;
    assert_eq!(reopened.status(), StatusCode::OK);
    let (status, _) = submit(&app, "/api/v1/visits", member, visit_body(household, 0)).await;
    assert_eq!(status, StatusCode::CREATED);

    // Another township is not bound by this one's campaign.
    let other = &app.world.b.branches[0];
    let (status, _) = submit(&app, "/api/v1/pledges", &other.members[0], pledge_body()).await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn with_no_phase_today_everything_stays_open() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    create(
        &app,
        campaign_body(
            -30,
            30,
            vec![
                phase("动员部署", -30, -1, &[]),
                phase("总结完善", 1, 30, &[]),
            ],
        ),
    )
    .await;
    let (status, _) = submit(
        &app,
        "/api/v1/visits",
        member,
        visit_body(branch.households[0].id, 0),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = submit(&app, "/api/v1/mediation-reports", member, report_body()).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = submit(&app, "/api/v1/pledges", member, pledge_body()).await;
    assert_eq!(status, StatusCode::CREATED);
}

// ------------------------------------------------------------ idempotency, audit, outbox

#[tokio::test]
async fn creating_a_campaign_or_a_phase_twice_with_one_key_creates_one() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let body = campaign_body(0, 30, vec![phase("动员部署", 0, 10, ALL)]);
    let send = |key: &'static str, body: Value, path: String| {
        app.request(Method::POST, &path, Some(admin))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send(
        "0193a000-0000-7000-8000-00000000ca01",
        body.clone(),
        "/api/v1/campaigns".into(),
    )
    .await
    .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = json_of(first).await;
    let again = send(
        "0193a000-0000-7000-8000-00000000ca01",
        body.clone(),
        "/api/v1/campaigns".into(),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["Idempotent-Replayed"], "true");
    assert_eq!(json_of(again).await, first);
    let mut other = body.clone();
    other["name"] = json!("另一个活动");
    let reused = send(
        "0193a000-0000-7000-8000-00000000ca01",
        other,
        "/api/v1/campaigns".into(),
    )
    .await
    .unwrap();
    assert_eq!(reused.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(reused).await, "idempotency_key_reused");
    let stored = campaign::Entity::find()
        .filter(campaign::Column::TownshipId.eq(app.world.a.township.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);

    let phases = format!("/api/v1/campaigns/{}/phases", first["id"].as_str().unwrap());
    let added = phase("组织实施", 11, 30, ALL);
    let one = json_of(
        send(
            "0193a000-0000-7000-8000-00000000ca02",
            added.clone(),
            phases.clone(),
        )
        .await
        .unwrap(),
    )
    .await;
    let two = json_of(
        send(
            "0193a000-0000-7000-8000-00000000ca02",
            added,
            phases.clone(),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(one["id"], two["id"]);
    let campaign = json_of(
        app.get(
            &format!("/api/v1/campaigns/{}", first["id"].as_str().unwrap()),
            admin,
        )
        .await,
    )
    .await;
    assert_eq!(campaign["phases"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn every_change_has_its_audit_row_and_outbox_event() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let made = create(
        &app,
        campaign_body(0, 30, vec![phase("动员部署", 0, 10, ALL)]),
    )
    .await;
    let id = made["id"].as_str().unwrap();
    let phase_id = made["phases"][0]["id"].as_str().unwrap();
    let changes = [
        app.patch(
            &format!("/api/v1/campaigns/{id}"),
            admin,
            json!({ "name": "新名称" }),
        )
        .await,
        app.patch(
            &format!("/api/v1/campaigns/{id}/phases/{phase_id}"),
            admin,
            json!({ "open_kinds": ["visit"] }),
        )
        .await,
        app.delete(&format!("/api/v1/campaigns/{id}"), admin).await,
    ];
    for response in changes {
        assert!(response.status().is_success(), "{}", response.status());
    }
    let audited: Vec<String> = audit_log::Entity::find()
        .filter(audit_log::Column::TownshipId.eq(app.world.a.township.id))
        .filter(audit_log::Column::Action.starts_with("campaign."))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|row| {
            assert_eq!(row.actor_id, Some(admin.id));
            row.action
        })
        .collect();
    let events: Vec<String> = outbox_event::Entity::find()
        .filter(outbox_event::Column::TownshipId.eq(app.world.a.township.id))
        .filter(outbox_event::Column::Kind.starts_with("campaign."))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    let expected = [
        "campaign.created",
        "campaign.updated",
        "campaign.phase_updated",
        "campaign.deleted",
    ];
    let mut audited_sorted = audited.clone();
    audited_sorted.sort();
    let mut expected_sorted = expected.map(str::to_owned).to_vec();
    expected_sorted.sort();
    assert_eq!(audited_sorted, expected_sorted);
    let mut events_sorted = events;
    events_sorted.sort();
    assert_eq!(events_sorted, expected_sorted);
}

#[tokio::test]
async fn a_phase_that_starts_is_announced_once_to_its_township() {
    let app = spawn_app().await;
    let made = create(
        &app,
        campaign_body(
            -10,
            20,
            vec![
                phase("动员部署", -10, -1, ALL),
                phase("组织实施", 0, 5, &["visit", "mediation_report"]),
                phase("总结完善", 6, 20, ALL),
            ],
        ),
    )
    .await;
    let now = xianfeng::platform::db::now();
    let first = xianfeng::features::campaigns::admission::sweep_started(&app.db, now)
        .await
        .unwrap();
    let second = xianfeng::features::campaigns::admission::sweep_started(&app.db, now)
        .await
        .unwrap();
    assert_eq!((first, second), (1, 0), "the current phase alone, once");
    let started = outbox_event::Entity::find()
        .filter(outbox_event::Column::Kind.eq("campaign.phase_started"))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(started.len(), 1);
    assert_eq!(
        started[0].subject_id.to_string(),
        made["phases"][1]["id"].as_str().unwrap()
    );

    let member = &app.world.a.branches[1].members[1];
    let mut told = None;
    for _ in 0..50 {
        let inbox = json_of(app.get("/api/v1/notifications", member).await).await;
        if let Some(first) = inbox["items"].as_array().unwrap().first() {
            told = Some(first.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let told = told.expect("the member is told of the new phase");
    assert_eq!(told["title"], "活动进入新阶段");
    assert!(told["body"].as_str().unwrap().contains("组织实施"));
    let foreign = json_of(
        app.get(
            "/api/v1/notifications/unread-count",
            &app.world.b.branches[0].members[0],
        )
        .await,
    )
    .await;
    assert_eq!(foreign["count"], 0, "another township hears nothing");
}

#[tokio::test]
async fn the_demo_campaign_is_in_a_phase_that_takes_everything() {
    let app = spawn_app().await;
    xianfeng::app::demo::load(&app.db).await.unwrap();
    let login = json_of(
        app.login("13800000101", xianfeng::app::demo::DEMO_PASSWORD)
            .await,
    )
    .await;
    let token = login["access_token"].as_str().unwrap();
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let current = json_of(me).await["current_phase"].clone();
    assert_eq!(current["name"], "组织实施");
    assert_eq!(
        current["open_kinds"],
        json!(["visit", "mediation_report", "pledge"])
    );
    assert_eq!(
        current["deadlines"],
        json!({ "visit": null, "mediation_report": null, "pledge": null })
    );
    assert!(
        xianfeng::features::campaigns::admission::sweep_started(
            &app.db,
            xianfeng::platform::db::now()
        )
        .await
        .unwrap()
            == 0,
        "the demo's phase of today is not announced as new"
    );
}

#[tokio::test]
async fn of_two_overlapping_campaigns_created_at_once_one_is_refused() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let (one, two) = tokio::join!(
        app.post("/api/v1/campaigns", admin, campaign_body(0, 30, vec![])),
        app.post("/api/v1/campaigns", admin, campaign_body(10, 40, vec![])),
    );
    let mut statuses = [one.status().as_u16(), two.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 422]);
    let stored = campaign::Entity::find()
        .filter(campaign::Column::TownshipId.eq(app.world.a.township.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
}
