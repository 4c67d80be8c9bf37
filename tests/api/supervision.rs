//! The township's supervision: spot checks (a reproducible, stratified
//! sample of approved work; verification; per-branch figures) and
//! rectifications (lifecycle, history, evidence, the overdue sweep with an
//! injected clock, and who is told).

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::core::Actor;
use xianfeng::entities::{audit_log, mediation_report, outbox_event, rectification, user, visit};

use crate::helpers::*;

// ---------------------------------------------------------------- arranging

fn member_actor(member: &user::Model) -> Actor {
    Actor {
        user_id: member.id,
        township_id: member.township_id,
        branch_id: member.branch_id,
        role: xianfeng::domain::Role::Member,
        request_id: None,
    }
}

/// A visit by the branch's first member at `visited_at`, in `status`.
async fn visit_in(app: &TestApp, branch: &Branch, visited_at: DateTime<Utc>, status: &str) -> Uuid {
    let content = xianfeng::features::visits::dto::VisitContent {
        household_id: branch.households[0].id,
        kind: xianfeng::domain::VisitKind::Assistance,
        visited_at,
        location: xianfeng::domain::Location {
            lat: 30.0,
            lng: 120.0,
            accuracy_m: None,
            coord_system: Default::default(),
        },
        summary: "走访".into(),
        needs: Vec::new(),
        follow_up: false,
        photo_ids: Vec::new(),
    };
    let actor = member_actor(&branch.members[0]);
    let mut batch = xianfeng::platform::db::Batch::default();
    let id = xianfeng::features::visits::repo::insert(
        &mut batch,
        &actor,
        branch.branch.id,
        &content,
        None,
        &[],
        xianfeng::platform::db::now(),
    )
    .id;
    batch.write(&app.db).await.unwrap();
    visit::Entity::update_many()
        .col_expr(visit::Column::Status, Expr::value(status))
        .filter(visit::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    id
}

async fn approved_visits(app: &TestApp, branch: &Branch, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for _ in 0..n {
        ids.push(visit_in(app, branch, Utc::now() - Duration::days(1), "approved").await);
    }
    ids
}

/// An approved mediation report by the branch's first member, titled `title`.
async fn approved_report(app: &TestApp, branch: &Branch, title: &str) -> Uuid {
    use xianfeng::domain::mediation::{DisputeCategory, MediationOutcome, RiskLevel};
    let content = xianfeng::features::mediation::dto::ReportContent {
        title: title.into(),
        category: DisputeCategory::Neighbourhood,
        parties: vec![xianfeng::features::mediation::dto::Party {
            name: "王某".into(),
            role: None,
            phone: None,
        }],
        description: "争执".into(),
        occurred_at: Utc::now() - Duration::days(1),
        location: None,
        household_ids: Vec::new(),
        process: "调解".into(),
        outcome: MediationOutcome::Resolved,
        agreement: Some("和解".into()),
        risk_level: RiskLevel::Low,
        photo_ids: Vec::new(),
    };
    let submitted = xianfeng::features::mediation::repo::Submitted {
        branch_id: branch.branch.id,
        now: xianfeng::platform::db::now(),
        follow_up_due_at: None,
    };
    let actor = member_actor(&branch.members[0]);
    let id = xianfeng::features::mediation::repo::insert(&app.db, &actor, &content, &submitted)
        .await
        .unwrap()
        .id;
    mediation_report::Entity::update_many()
        .col_expr(mediation_report::Column::Status, Expr::value("approved"))
        .filter(mediation_report::Column::Id.eq(id))
        .exec(&app.db)
        .await
        .unwrap();
    id
}

/// Draws a spot check as township a's admin; it must be created.
async fn draw(app: &TestApp, body: Value) -> Value {
    let response = app
        .post("/api/v1/spot-checks", &app.world.a.admin, body)
        .await;
    let status = response.status();
    let body = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn items(check: &Value) -> &Vec<Value> {
    check["items"].as_array().unwrap()
}

fn subjects(check: &Value) -> BTreeSet<String> {
    items(check)
        .iter()
        .map(|i| i["subject_id"].as_str().unwrap().to_owned())
        .collect()
}

fn of_branch<'a>(check: &'a Value, branch: &Branch) -> Vec<&'a Value> {
    let id = branch.branch.id.to_string();
    items(check)
        .iter()
        .filter(|i| i["branch_id"] == id.as_str())
        .collect()
}

fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_owned()
}

async fn verify(
    app: &TestApp,
    check: &Value,
    item: &Value,
    outcome: &str,
    note: Option<&str>,
) -> reqwest::Response {
    app.post(
        &format!(
            "/api/v1/spot-checks/{}/items/{}/verification",
            id_of(check),
            id_of(item)
        ),
        &app.world.a.admin,
        json!({ "outcome": outcome, "note": note }),
    )
    .await
}

async fn field_of(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = json_of(response).await;
    (
        status,
        body["error"]["details"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

async fn detail_code(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body = json_of(response).await;
    (
        status,
        body["error"]["details"][0]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    )
}

async fn audited(app: &TestApp, action: &str) -> u64 {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(action))
        .count(&app.db)
        .await
        .unwrap()
}

async fn outbox_count(app: &TestApp, kind: &str) -> u64 {
    outbox_event::Entity::find()
        .filter(outbox_event::Column::Kind.eq(kind))
        .count(&app.db)
        .await
        .unwrap()
}

// ---------------------------------------------------------------- sampling

#[tokio::test]
async fn the_same_seed_draws_the_same_sample_and_another_seed_another() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    approved_visits(&app, first, 20).await;
    approved_visits(&app, second, 20).await;

    let a = draw(&app, json!({ "percent": 20, "seed": 7 })).await;
    let again = draw(&app, json!({ "percent": 20, "seed": 7 })).await;
    let other = draw(&app, json!({ "percent": 20, "seed": 8 })).await;
    let unseeded = draw(&app, json!({ "percent": 20 })).await;
    let redrawn = draw(&app, json!({ "percent": 20, "seed": unseeded["seed"] })).await;

    assert_eq!(a["seed"], 7);
    assert_eq!(a["percent"], 20.0);
    assert_eq!(a["status"], "open");
    assert_eq!(of_branch(&a, first).len(), 4, "ceil(20% × 20)");
    assert_eq!(of_branch(&a, second).len(), 4);
    assert_eq!(subjects(&a), subjects(&again), "same seed, same sample");
    assert_ne!(
        subjects(&a),
        subjects(&other),
        "another seed, another sample"
    );
    assert!(unseeded["seed"].as_u64().unwrap() < (1 << 53));
    assert_eq!(
        subjects(&unseeded),
        subjects(&redrawn),
        "the recorded seed redraws it"
    );
    assert_ne!(a["id"], again["id"], "each draw is a check of its own");
}

#[tokio::test]
async fn a_branch_with_one_approved_visit_is_still_sampled() {
    let app = spawn_app().await;
    let (big, small) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    approved_visits(&app, big, 30).await;
    let lone = approved_visits(&app, small, 1).await;

    let check = draw(&app, json!({ "percent": 10, "kinds": ["visit"] })).await;

    assert_eq!(of_branch(&check, big).len(), 3);
    let small_items = of_branch(&check, small);
    assert_eq!(
        small_items.len(),
        1,
        "at least one from every branch with any"
    );
    assert_eq!(small_items[0]["subject_id"], lone[0].to_string());
    assert_eq!(check["sampled"], 4);
    assert_eq!(check["verified"], 0);
}

#[tokio::test]
async fn only_the_townships_approved_items_of_the_period_and_kinds_are_drawn() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let now = Utc::now();
    let in_period = visit_in(&app, branch, now - Duration::days(2), "approved").await;
    visit_in(&app, branch, now - Duration::days(20), "approved").await;
    for status in ["pending", "returned", "rejected"] {
        visit_in(&app, branch, now - Duration::days(2), status).await;
    }
    let report = approved_report(&app, branch, "邻里噪音纠纷").await;
    approved_visits(&app, &app.world.b.branches[0], 3).await;
    let period = json!({
        "percent": 100,
        "from": (now - Duration::days(10)).to_rfc3339(),
        "to": now.to_rfc3339(),
    });

    let both = draw(&app, period.clone()).await;
    let mut visits_only = period.clone();
    visits_only["kinds"] = json!(["visit"]);
    let visits_only = draw(&app, visits_only).await;
    let empty = app
        .post(
            "/api/v1/spot-checks",
            &app.world.a.admin,
            json!({ "percent": 50, "to": (now - Duration::days(60)).to_rfc3339() }),
        )
        .await;

    assert_eq!(
        subjects(&both),
        BTreeSet::from([in_period.to_string(), report.to_string()])
    );
    let report_item = items(&both)
        .iter()
        .find(|i| i["subject_kind"] == "mediation_report")
        .unwrap();
    assert_eq!(report_item["title"], "邻里噪音纠纷");
    let visit_item = items(&both)
        .iter()
        .find(|i| i["subject_kind"] == "visit")
        .unwrap();
    assert!(
        visit_item["title"]
            .as_str()
            .unwrap()
            .starts_with(&branch.households[0].head_name),
        "{visit_item}"
    );
    assert_eq!(visit_item["branch_name"], branch.branch.name.as_str());
    assert_eq!(
        visit_item["household_id"],
        branch.households[0].id.to_string()
    );
    assert_eq!(
        subjects(&visits_only),
        BTreeSet::from([in_period.to_string()])
    );
    assert_eq!(detail_code(empty).await, (409, "nothing_to_sample".into()));
}

#[tokio::test]
async fn bad_draws_are_422_naming_the_field() {
    let app = spawn_app().await;
    approved_visits(&app, &app.world.a.branches[0], 2).await;
    let now = Utc::now();
    let cases = [
        (json!({ "percent": 0 }), "percent"),
        (json!({ "percent": -10 }), "percent"),
        (json!({ "percent": 100.5 }), "percent"),
        (json!({ "percent": 10.001 }), "percent"),
        (json!({ "percent": "ten" }), "percent"),
        (json!({}), "percent"),
        (
            json!({ "percent": 10, "from": now.to_rfc3339(), "to": (now - Duration::days(1)).to_rfc3339() }),
            "to",
        ),
        (json!({ "percent": 10, "seed": 1_u64 << 53 }), "seed"),
        (json!({ "percent": 10, "seed": -1 }), "seed"),
        (json!({ "percent": 10, "kinds": [] }), "kinds"),
        (json!({ "percent": 10, "kinds": ["pledge"] }), "kinds[0]"),
    ];
    for (body, field) in cases {
        let response = app
            .post("/api/v1/spot-checks", &app.world.a.admin, body.clone())
            .await;
        assert_eq!(field_of(response).await, (422, field.into()), "{body}");
    }
}

#[tokio::test]
async fn only_township_admins_draw_a_spot_check() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    approved_visits(&app, branch, 2).await;
    for caller in [&branch.secretary, &branch.members[0]] {
        let response = app
            .post("/api/v1/spot-checks", caller, json!({ "percent": 10 }))
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{}", caller.name);
    }
    assert_eq!(audited(&app, "spot_check.drawn").await, 0);
}

#[tokio::test]
async fn a_retried_draw_with_the_same_key_draws_once() {
    let app = spawn_app().await;
    approved_visits(&app, &app.world.a.branches[0], 5).await;
    let send = || {
        app.request(
            Method::POST,
            "/api/v1/spot-checks",
            Some(&app.world.a.admin),
        )
        .header("Idempotency-Key", "0193a000-0000-7000-8000-00000000ca04")
        .json(&json!({ "percent": 40 }))
        .send()
    };

    let first = json_of(send().await.unwrap()).await;
    let second = send().await.unwrap();

    assert_eq!(second.status(), StatusCode::CREATED);
    assert_eq!(json_of(second).await, first, "the same draw, seed and all");
    assert_eq!(audited(&app, "spot_check.drawn").await, 1);
}

// ------------------------------------------------------------ verification

#[tokio::test]
async fn verification_takes_a_known_outcome_and_a_note_for_a_discrepancy() {
    let app = spawn_app().await;
    approved_visits(&app, &app.world.a.branches[0], 3).await;
    let check = draw(&app, json!({ "percent": 100 })).await;
    let (one, two) = (&items(&check)[0], &items(&check)[1]);

    let unknown = verify(&app, &check, one, "maybe", None).await;
    let no_note = verify(&app, &check, one, "discrepancy", Some("  ")).await;
    let confirmed = verify(&app, &check, one, "confirmed", None).await;
    let changed = verify(&app, &check, one, "discrepancy", Some("户主称未走访")).await;
    let other = verify(&app, &check, two, "confirmed", Some("电话核实属实")).await;
    let foreign_item = app
        .post(
            &format!(
                "/api/v1/spot-checks/{}/items/{}/verification",
                id_of(&check),
                Uuid::now_v7()
            ),
            &app.world.a.admin,
            json!({ "outcome": "confirmed" }),
        )
        .await;

    assert_eq!(field_of(unknown).await, (422, "outcome".into()));
    assert_eq!(field_of(no_note).await, (422, "note".into()));
    assert_eq!(confirmed.status(), StatusCode::OK);
    let changed = json_of(changed).await;
    assert_eq!(changed["verification"]["outcome"], "discrepancy");
    assert_eq!(changed["verification"]["note"], "户主称未走访");
    assert_eq!(
        changed["verification"]["verified_by"],
        app.world.a.admin.id.to_string()
    );
    assert_eq!(other.status(), StatusCode::OK);
    assert_eq!(foreign_item.status(), StatusCode::NOT_FOUND);
    assert_eq!(audited(&app, "spot_check_item.verified").await, 2);
    assert_eq!(audited(&app, "spot_check_item.reverified").await, 1);
    let change = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("spot_check_item.reverified"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(change.before.unwrap()["outcome"], "confirmed");
    assert_eq!(change.after.unwrap()["outcome"], "discrepancy");
}

#[tokio::test]
async fn a_closed_check_keeps_its_outcomes() {
    let app = spawn_app().await;
    approved_visits(&app, &app.world.a.branches[0], 2).await;
    let check = draw(&app, json!({ "percent": 100 })).await;
    verify(&app, &check, &items(&check)[0], "confirmed", None).await;
    let close = |who: &user::Model| {
        app.request(
            Method::POST,
            &format!("/api/v1/spot-checks/{}/close", id_of(&check)),
            Some(who),
        )
        .send()
    };

    let by_secretary = close(&app.world.a.branches[0].secretary).await.unwrap();
    let closed = close(&app.world.a.admin).await.unwrap();
    let again = close(&app.world.a.admin).await.unwrap();
    let late = verify(&app, &check, &items(&check)[1], "confirmed", None).await;

    assert_eq!(by_secretary.status(), StatusCode::FORBIDDEN);
    let closed = json_of(closed).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_by"], app.world.a.admin.id.to_string());
    assert_eq!(
        (closed["sampled"].clone(), closed["verified"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(detail_code(again).await, (409, "spot_check_closed".into()));
    assert_eq!(detail_code(late).await, (409, "spot_check_closed".into()));
    assert_eq!(audited(&app, "spot_check.closed").await, 1);
}

#[tokio::test]
async fn per_branch_rates_match_the_hand_counted_figures() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    approved_visits(&app, first, 10).await;
    approved_visits(&app, second, 5).await;
    let check = draw(&app, json!({ "percent": 50 })).await;
    let (mine, theirs) = (of_branch(&check, first), of_branch(&check, second));
    assert_eq!((mine.len(), theirs.len()), (5, 3));
    // First branch: 3 confirmed, 1 discrepancy, 1 left; second: 1 discrepancy, 2 left.
    for item in &mine[..3] {
        verify(&app, &check, item, "confirmed", None).await;
    }
    verify(&app, &check, mine[3], "discrepancy", Some("照片与农户不符")).await;
    verify(&app, &check, theirs[0], "discrepancy", Some("户主称未走访")).await;
    let path = format!("/api/v1/spot-checks/{}/branches", id_of(&check));

    let figures = json_of(app.get(&path, &app.world.a.admin).await).await;
    let secretarys = json_of(app.get(&path, &first.secretary).await).await;
    let secretarys_check = json_of(
        app.get(
            &format!("/api/v1/spot-checks/{}", id_of(&check)),
            &first.secretary,
        )
        .await,
    )
    .await;

    let row = |figures: &Value, branch: &Branch| {
        figures["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["branch_id"] == branch.branch.id.to_string())
            .cloned()
            .unwrap()
    };
    let first_row = row(&figures, first);
    assert_eq!(first_row["branch_name"], first.branch.name.as_str());
    for (key, expected) in [
        ("sampled", json!(5)),
        ("verified", json!(4)),
        ("confirmed", json!(3)),
        ("discrepancies", json!(1)),
        ("verification_rate", json!(0.8)),
        ("discrepancy_rate", json!(0.25)),
    ] {
        assert_eq!(first_row[key], expected, "first branch {key}");
    }
    let second_row = row(&figures, second);
    for (key, expected) in [
        ("sampled", json!(3)),
        ("verified", json!(1)),
        ("confirmed", json!(0)),
        ("discrepancies", json!(1)),
        ("verification_rate", json!(0.3333)),
        ("discrepancy_rate", json!(1.0)),
    ] {
        assert_eq!(second_row[key], expected, "second branch {key}");
    }
    for (key, expected) in [
        ("sampled", json!(8)),
        ("verified", json!(5)),
        ("confirmed", json!(3)),
        ("discrepancies", json!(2)),
        ("verification_rate", json!(0.625)),
        ("discrepancy_rate", json!(0.4)),
    ] {
        assert_eq!(figures["total"][key], expected, "total {key}");
    }
    assert_eq!(
        secretarys["items"].as_array().unwrap().len(),
        1,
        "their row only"
    );
    assert_eq!(secretarys["items"][0], first_row);
    assert_eq!(secretarys_check["sampled"], 5);
    assert!(
        items(&secretarys_check)
            .iter()
            .all(|i| i["branch_id"] == first.branch.id.to_string()),
        "their branch's items only"
    );
}

#[tokio::test]
async fn the_years_figures_add_up_every_check_drawn_in_it() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    approved_visits(&app, first, 4).await;
    let one = draw(&app, json!({ "percent": 50 })).await;
    let two = draw(&app, json!({ "percent": 25 })).await;
    verify(&app, &one, &items(&one)[0], "discrepancy", Some("不符")).await;
    verify(&app, &two, &items(&two)[0], "confirmed", None).await;
    let year = chrono::Datelike::year(
        &Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap()),
    );

    let this_year = json_of(
        app.get("/api/v1/spot-checks/branches", &app.world.a.admin)
            .await,
    )
    .await;
    let last_year = json_of(
        app.get(
            &format!("/api/v1/spot-checks/branches?year={}", year - 1),
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let secretarys = json_of(
        app.get("/api/v1/spot-checks/branches", &second.secretary)
            .await,
    )
    .await;
    let mut bad_years = Vec::new();
    for year in ["1999", "2147483647", "next"] {
        let path = format!("/api/v1/spot-checks/branches?year={year}");
        bad_years.push(field_of(app.get(&path, &app.world.a.admin).await).await);
    }
    let members = app
        .get("/api/v1/spot-checks/branches", &first.members[0])
        .await;

    assert_eq!(this_year["year"], year);
    assert_eq!(
        this_year["items"].as_array().unwrap().len(),
        2,
        "every branch"
    );
    let first_row = this_year["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["branch_id"] == first.branch.id.to_string())
        .unwrap();
    assert_eq!(first_row["sampled"], 2 + 1);
    assert_eq!(first_row["verified"], 2);
    assert_eq!(first_row["discrepancy_rate"], 0.5);
    assert_eq!(this_year["total"]["sampled"], 3);
    assert_eq!(last_year["total"]["sampled"], 0);
    assert_eq!(secretarys["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        secretarys["items"][0]["sampled"], 0,
        "nothing of theirs sampled"
    );
    assert!(
        bad_years.iter().all(|bad| *bad == (422, "year".to_owned())),
        "{bad_years:?}"
    );
    assert_eq!(members.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn spot_checks_stay_within_the_township_and_a_secretarys_branch() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    approved_visits(&app, first, 2).await;
    let check = draw(&app, json!({ "percent": 100 })).await;
    let path = format!("/api/v1/spot-checks/{}", id_of(&check));

    let foreign_admin = app.get(&path, &app.world.b.admin).await;
    let other_secretary = app.get(&path, &second.secretary).await;
    let member = app.get(&path, &first.members[0]).await;
    let foreign_list = json_of(app.get("/api/v1/spot-checks", &app.world.b.admin).await).await;
    let other_list = json_of(app.get("/api/v1/spot-checks", &second.secretary).await).await;
    let own_list = json_of(app.get("/api/v1/spot-checks", &first.secretary).await).await;

    assert_eq!(foreign_admin.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        other_secretary.status(),
        StatusCode::NOT_FOUND,
        "nothing of theirs in it"
    );
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
    assert_eq!(foreign_list["items"], json!([]));
    assert_eq!(other_list["items"], json!([]));
    assert_eq!(own_list["items"][0]["id"], check["id"]);
    assert_eq!(own_list["items"][0]["sampled"], 2);
}

// ----------------------------------------------------------- rectification

fn deadline_in(days: i64) -> String {
    (Utc::now() + Duration::days(days)).to_rfc3339()
}

/// Assigns a rectification directly to `branch` as township a's admin.
async fn assign(app: &TestApp, branch: &Branch, days: i64) -> Value {
    let response = app
        .post(
            "/api/v1/rectifications",
            &app.world.a.admin,
            json!({
                "branch_id": branch.branch.id, "title": "走访台账不规范",
                "description": "部分走访记录缺少照片和群众诉求", "deadline": deadline_in(days),
            }),
        )
        .await;
    let status = response.status();
    let body = json_of(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn step(
    app: &TestApp,
    who: &user::Model,
    id: &str,
    action: &str,
    body: Value,
) -> reqwest::Response {
    app.post(&format!("/api/v1/rectifications/{id}/{action}"), who, body)
        .await
}

#[tokio::test]
async fn a_discrepancy_becomes_a_rectification_of_its_branch() {
    let app = spawn_app().await;
    let second = &app.world.a.branches[1];
    approved_visits(&app, second, 2).await;
    let check = draw(&app, json!({ "percent": 100 })).await;
    let (found, fine) = (&items(&check)[0], &items(&check)[1]);
    verify(
        &app,
        &check,
        found,
        "discrepancy",
        Some("户主称当月无人走访"),
    )
    .await;
    verify(&app, &check, fine, "confirmed", None).await;
    let from =
        |item: &Value| json!({ "spot_check_item_id": item["id"], "deadline": deadline_in(14) });

    let created = app
        .post("/api/v1/rectifications", &app.world.a.admin, from(found))
        .await;
    let twice = app
        .post("/api/v1/rectifications", &app.world.a.admin, from(found))
        .await;
    let confirmed = app
        .post("/api/v1/rectifications", &app.world.a.admin, from(fine))
        .await;
    let now_confirmed = verify(&app, &check, found, "confirmed", None).await;
    let reread = json_of(
        app.get(
            &format!("/api/v1/spot-checks/{}", id_of(&check)),
            &app.world.a.admin,
        )
        .await,
    )
    .await;

    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json_of(created).await;
    assert_eq!(created["branch_id"], second.branch.id.to_string());
    assert_eq!(created["spot_check_item_id"], found["id"]);
    assert_eq!(created["status"], "open");
    assert_eq!(created["overdue"], false);
    assert!(
        created["title"]
            .as_str()
            .unwrap()
            .starts_with("抽查发现问题："),
        "{created}"
    );
    assert_eq!(created["description"], "户主称当月无人走访");
    assert_eq!(detail_code(twice).await, (409, "already_rectified".into()));
    assert_eq!(
        detail_code(confirmed).await,
        (409, "not_a_discrepancy".into())
    );
    assert_eq!(detail_code(now_confirmed).await, (409, "rectified".into()));
    let item = items(&reread)
        .iter()
        .find(|i| i["id"] == found["id"])
        .unwrap();
    assert_eq!(item["rectification_id"], created["id"]);
}

#[tokio::test]
async fn bad_rectifications_are_422_naming_the_field() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let foreign = &app.world.b.branches[0];
    let good = json!({ "branch_id": branch.branch.id, "title": "整改", "description": "说明", "deadline": deadline_in(7) });
    let with = |key: &str, value: Value| {
        let mut body = good.clone();
        body[key] = value;
        body
    };
    let cases = [
        (
            with(
                "deadline",
                json!((Utc::now() - Duration::hours(1)).to_rfc3339()),
            ),
            "deadline",
        ),
        (with("deadline", json!("next week")), "deadline"),
        (with("branch_id", Value::Null), "branch_id"),
        (with("branch_id", json!(foreign.branch.id)), "branch_id"),
        (with("title", json!(" ")), "title"),
        (with("title", json!("整".repeat(101))), "title"),
        (with("description", Value::Null), "description"),
        (
            json!({ "spot_check_item_id": Uuid::now_v7(), "deadline": deadline_in(7) }),
            "spot_check_item_id",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .post("/api/v1/rectifications", &app.world.a.admin, body.clone())
            .await;
        assert_eq!(field_of(response).await, (422, field.into()), "{body}");
    }
    for caller in [&branch.secretary, &branch.members[0]] {
        let response = app
            .post("/api/v1/rectifications", caller, good.clone())
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        rectification::Entity::find().count(&app.db).await.unwrap(),
        0
    );
}

#[tokio::test]
async fn a_rectification_is_reported_reopened_reported_again_and_closed() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (admin, secretary) = (&app.world.a.admin, &branch.secretary);
    let created = assign(&app, branch, 7).await;
    let id = id_of(&created);
    let new_deadline = (Utc::now() + Duration::days(21)).with_timezone(&Utc);

    let early_close = step(&app, admin, &id, "close", json!({})).await;
    let early_reopen = step(&app, admin, &id, "reopen", json!({ "comment": "?" })).await;
    let by_admin = step(&app, admin, &id, "report", json!({ "note": "代报" })).await;
    let reported = step(
        &app,
        secretary,
        &id,
        "report",
        json!({ "note": "已补齐走访照片" }),
    )
    .await;
    let twice = step(&app, secretary, &id, "report", json!({ "note": "再报" })).await;
    let by_secretary = step(&app, secretary, &id, "close", json!({})).await;
    let no_comment = step(&app, admin, &id, "reopen", json!({ "comment": "" })).await;
    let past = step(
        &app,
        admin,
        &id,
        "reopen",
        json!({ "comment": "照片不清", "deadline": (Utc::now() - Duration::days(1)).to_rfc3339() }),
    )
    .await;
    let reopened = step(
        &app,
        admin,
        &id,
        "reopen",
        json!({ "comment": "照片不清，请补充", "deadline": new_deadline.to_rfc3339() }),
    )
    .await;
    let again = step(
        &app,
        secretary,
        &id,
        "report",
        json!({ "note": "已补充清晰照片" }),
    )
    .await;
    let closed = step(&app, admin, &id, "close", json!({ "comment": "整改到位" })).await;
    let after_close = step(&app, secretary, &id, "report", json!({ "note": "又报" })).await;
    let reopen_closed = step(&app, admin, &id, "reopen", json!({ "comment": "再看看" })).await;
    let detail = json_of(
        app.get(&format!("/api/v1/rectifications/{id}"), secretary)
            .await,
    )
    .await;

    assert_eq!(detail_code(early_close).await, (409, "not_reported".into()));
    assert_eq!(
        detail_code(early_reopen).await,
        (409, "not_reported".into())
    );
    assert_eq!(
        by_admin.status(),
        StatusCode::FORBIDDEN,
        "the branch reports"
    );
    let reported = json_of(reported).await;
    assert_eq!(reported["status"], "reported");
    assert_eq!(reported["report"]["note"], "已补齐走访照片");
    assert_eq!(reported["report"]["reported_by"], secretary.id.to_string());
    assert_eq!(detail_code(twice).await, (409, "already_reported".into()));
    assert_eq!(by_secretary.status(), StatusCode::FORBIDDEN);
    assert_eq!(field_of(no_comment).await, (422, "comment".into()));
    assert_eq!(field_of(past).await, (422, "deadline".into()));
    let reopened = json_of(reopened).await;
    assert_eq!(reopened["status"], "reopened");
    let moved: DateTime<Utc> = reopened["deadline"].as_str().unwrap().parse().unwrap();
    assert!(
        (moved - new_deadline).num_milliseconds().abs() < 1,
        "{moved}"
    );
    assert_eq!(json_of(again).await["status"], "reported");
    let closed = json_of(closed).await;
    assert_eq!(closed["status"], "closed");
    assert_eq!(closed["closed_by"], admin.id.to_string());
    assert_eq!(
        detail_code(after_close).await,
        (409, "rectification_closed".into())
    );
    assert_eq!(
        detail_code(reopen_closed).await,
        (409, "rectification_closed".into())
    );
    let history: Vec<(String, String, String)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().to_owned(),
                h["actor_id"].as_str().unwrap().to_owned(),
                h["comment"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let (a, s) = (admin.id.to_string(), secretary.id.to_string());
    assert_eq!(
        history,
        [
            ("created".into(), a.clone(), String::new()),
            ("reported".into(), s.clone(), "已补齐走访照片".into()),
            ("reopened".into(), a.clone(), "照片不清，请补充".into()),
            ("reported".into(), s.clone(), "已补充清晰照片".into()),
            ("closed".into(), a.clone(), "整改到位".into()),
        ]
    );
    for (action, n) in [
        ("rectification.created", 1),
        ("rectification.reported", 2),
        ("rectification.reopened", 1),
        ("rectification.closed", 1),
    ] {
        assert_eq!(audited(&app, action).await, n, "{action}");
    }
}

/// A PNG of one pixel; `salt` varies its bytes.
fn png(salt: u8) -> Vec<u8> {
    fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        [
            &u32::try_from(data.len()).unwrap().to_be_bytes()[..],
            kind,
            data,
            &crc.finalize().to_be_bytes(),
        ]
        .concat()
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
    png.extend(chunk(b"IDAT", &[salt; 8]));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[tokio::test]
async fn a_report_is_idempotent_and_its_photos_are_evidence_for_the_township() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let secretary = &branch.secretary;
    let id = id_of(&assign(&app, branch, 7).await);
    let upload = json_of(
        app.request(Method::POST, "/api/v1/uploads", Some(secretary))
            .multipart(
                reqwest::multipart::Form::new().part(
                    "file",
                    reqwest::multipart::Part::bytes(png(1))
                        .file_name("evidence.png")
                        .mime_str("image/png")
                        .unwrap(),
                ),
            )
            .send()
            .await
            .unwrap(),
    )
    .await;
    let photo = id_of(&upload);
    let report = |key: &'static str, note: &'static str| {
        app.request(
            Method::POST,
            &format!("/api/v1/rectifications/{id}/report"),
            Some(secretary),
        )
        .header("Idempotency-Key", key)
        .json(&json!({ "note": note, "photo_ids": [photo] }))
        .send()
    };

    let first = report("0193a000-0000-7000-8000-00000000ca03", "已整改")
        .await
        .unwrap();
    let retry = report("0193a000-0000-7000-8000-00000000ca03", "已整改")
        .await
        .unwrap();
    let reused = report("0193a000-0000-7000-8000-00000000ca03", "另一份报告")
        .await
        .unwrap();
    let after_report = step(
        &app,
        secretary,
        &id,
        "report",
        json!({ "note": "x", "photo_ids": [Uuid::now_v7()] }),
    )
    .await;
    let photo_for_admin = app
        .get(&format!("/api/v1/uploads/{photo}"), &app.world.a.admin)
        .await;
    let photo_for_member = app
        .get(&format!("/api/v1/uploads/{photo}"), &branch.members[0])
        .await;

    assert_eq!(first.status(), StatusCode::OK);
    let first = json_of(first).await;
    assert_eq!(first["report"]["photo_ids"], json!([photo]));
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.headers().get("Idempotent-Replayed").unwrap(), "true");
    assert_eq!(json_of(retry).await, first);
    assert_eq!(error_code(reused).await, "idempotency_key_reused");
    assert_eq!(
        detail_code(after_report).await,
        (409, "already_reported".into())
    );
    assert_eq!(audited(&app, "rectification.reported").await, 1);
    assert_eq!(outbox_count(&app, "rectification.reported").await, 1);
    assert_eq!(photo_for_admin.status(), StatusCode::OK);
    assert_eq!(photo_for_member.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn photos_that_are_not_the_reporters_are_422() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&assign(&app, branch, 7).await);

    let response = step(
        &app,
        &branch.secretary,
        &id,
        "report",
        json!({ "note": "已整改", "photo_ids": [Uuid::now_v7()] }),
    )
    .await;

    assert_eq!(field_of(response).await, (422, "photo_ids[0]".into()));
}

#[tokio::test]
async fn an_overdue_rectification_is_flagged_once_per_deadline() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (admin, secretary) = (&app.world.a.admin, &branch.secretary);
    let created = assign(&app, branch, 3).await;
    let id = id_of(&created);
    let deadline: DateTime<Utc> = created["deadline"].as_str().unwrap().parse().unwrap();
    let sweep =
        |at: DateTime<Utc>| xianfeng::features::rectifications::jobs::sweep_overdue(&app.db, at);

    let before = sweep(deadline - Duration::minutes(1)).await.unwrap();
    let after = sweep(deadline + Duration::hours(1)).await.unwrap();
    let (racer, other_racer) = tokio::join!(
        sweep(deadline + Duration::days(1)),
        sweep(deadline + Duration::days(1))
    );
    step(&app, secretary, &id, "report", json!({ "note": "已整改" })).await;
    let while_reported = sweep(deadline + Duration::days(2)).await.unwrap();
    let new_deadline = Utc::now() + Duration::days(10);
    step(
        &app,
        admin,
        &id,
        "reopen",
        json!({ "comment": "不到位", "deadline": new_deadline.to_rfc3339() }),
    )
    .await;
    let before_new = sweep(new_deadline - Duration::hours(1)).await.unwrap();
    let after_new = sweep(new_deadline + Duration::hours(1)).await.unwrap();
    let once_more = sweep(new_deadline + Duration::days(5)).await.unwrap();

    assert_eq!(before, 0);
    assert_eq!(after, 1);
    assert_eq!(racer.unwrap() + other_racer.unwrap(), 0, "never twice");
    assert_eq!(while_reported, 0, "the branch reported: nothing owed");
    assert_eq!(before_new, 0);
    assert_eq!(after_new, 1, "a new deadline lapses anew");
    assert_eq!(once_more, 0);
    assert_eq!(outbox_count(&app, "rectification.overdue").await, 2);
}

#[tokio::test]
async fn replicas_sweeping_at_once_flag_each_rectification_once() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    for branch in [first, second, first] {
        assign(&app, branch, 1).await;
    }
    let later = Utc::now() + Duration::days(2);
    let sweep = || xianfeng::features::rectifications::jobs::sweep_overdue(&app.db, later);

    let (a, b, c) = tokio::join!(sweep(), sweep(), sweep());

    assert_eq!(a.unwrap() + b.unwrap() + c.unwrap(), 3);
    assert_eq!(outbox_count(&app, "rectification.overdue").await, 3);
}

#[tokio::test]
async fn lists_filter_by_branch_status_and_overdue_within_reach() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let late = assign(&app, first, 5).await;
    let on_time = assign(&app, first, 5).await;
    let elsewhere = assign(&app, second, 5).await;
    rectification::Entity::update_many()
        .col_expr(
            rectification::Column::Deadline,
            Expr::value(Utc::now() - Duration::hours(1)),
        )
        .filter(rectification::Column::Id.eq(Uuid::parse_str(&id_of(&late)).unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    let ids = |list: &Value| -> BTreeSet<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect()
    };
    let admin = &app.world.a.admin;

    let all = list_of(&app, "/api/v1/rectifications".into(), admin).await;
    let overdue = list_of(&app, "/api/v1/rectifications?overdue=true".into(), admin).await;
    let not_overdue = list_of(&app, "/api/v1/rectifications?overdue=false".into(), admin).await;
    let of_second = list_of(
        &app,
        format!("/api/v1/rectifications?branch_id={}", second.branch.id),
        admin,
    )
    .await;
    let secretarys = list_of(&app, "/api/v1/rectifications".into(), &first.secretary).await;
    let reported = list_of(&app, "/api/v1/rectifications?status=reported".into(), admin).await;
    let foreign = list_of(&app, "/api/v1/rectifications".into(), &app.world.b.admin).await;
    let paged = list_of(&app, "/api/v1/rectifications?limit=2".into(), admin).await;
    let other_branch = app
        .get(
            &format!("/api/v1/rectifications?branch_id={}", second.branch.id),
            &first.secretary,
        )
        .await;
    let foreign_branch = app
        .get(
            &format!(
                "/api/v1/rectifications?branch_id={}",
                app.world.b.branches[0].branch.id
            ),
            admin,
        )
        .await;
    let member = app.get("/api/v1/rectifications", &first.members[0]).await;

    assert_eq!(ids(&all).len(), 3);
    assert_eq!(ids(&overdue), BTreeSet::from([id_of(&late)]));
    assert_eq!(overdue["items"][0]["overdue"], true);
    assert_eq!(
        ids(&not_overdue),
        BTreeSet::from([id_of(&on_time), id_of(&elsewhere)])
    );
    assert_eq!(ids(&of_second), BTreeSet::from([id_of(&elsewhere)]));
    assert_eq!(
        ids(&secretarys),
        BTreeSet::from([id_of(&late), id_of(&on_time)])
    );
    assert!(ids(&reported).is_empty());
    assert!(ids(&foreign).is_empty());
    assert_eq!(paged["items"][0]["id"], elsewhere["id"], "newest first");
    assert!(paged["next_cursor"].is_string());
    assert_eq!(other_branch.status(), StatusCode::NOT_FOUND);
    assert_eq!(foreign_branch.status(), StatusCode::NOT_FOUND);
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_dashboard_counts_unclosed_and_overdue_rectifications_per_branch() {
    let app = spawn_app().await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let (admin, secretary) = (&app.world.a.admin, &first.secretary);
    let late = assign(&app, first, 5).await;
    let reported_late = assign(&app, first, 5).await;
    let closed = assign(&app, first, 5).await;
    assign(&app, second, 5).await;
    let foreign = app
        .post(
            "/api/v1/rectifications",
            &app.world.b.admin,
            json!({
                "branch_id": app.world.b.branches[0].branch.id, "title": "台账不全",
                "description": "缺少记录", "deadline": deadline_in(5),
            }),
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::CREATED);
    let foreign = json_of(foreign).await;
    for id in [id_of(&reported_late), id_of(&closed)] {
        let response = step(&app, secretary, &id, "report", json!({ "note": "已整改" })).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let response = step(&app, admin, &id_of(&closed), "close", json!({})).await;
    assert_eq!(response.status(), StatusCode::OK);
    // Past the deadline: one with no report (overdue), one reported in time
    // and waiting for the township's check (not the branch's delay).
    rectification::Entity::update_many()
        .col_expr(
            rectification::Column::Deadline,
            Expr::value(Utc::now() - Duration::hours(1)),
        )
        .filter(rectification::Column::Id.is_in([
            Uuid::parse_str(&id_of(&late)).unwrap(),
            Uuid::parse_str(&id_of(&reported_late)).unwrap(),
            Uuid::parse_str(&id_of(&foreign)).unwrap(),
        ]))
        .exec(&app.db)
        .await
        .unwrap();

    let township = list_of(&app, "/api/v1/stats/overview".into(), admin).await;
    let branches = list_of(&app, "/api/v1/stats/branches".into(), admin).await;
    let branch = list_of(&app, "/api/v1/stats/overview".into(), secretary).await;

    assert_eq!(
        township["rectifications"],
        json!({ "open": 3, "overdue": 1 })
    );
    assert_eq!(branch["rectifications"], json!({ "open": 2, "overdue": 1 }));
    let row_of = |id: Uuid| {
        branches["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|row| row["branch_id"] == id.to_string())
            .unwrap()["rectifications"]
            .clone()
    };
    assert_eq!(row_of(first.branch.id), json!({ "open": 2, "overdue": 1 }));
    assert_eq!(row_of(second.branch.id), json!({ "open": 1, "overdue": 0 }));
}

#[tokio::test]
async fn the_demo_township_has_a_rectification_due_and_one_overdue() {
    let app = spawn_app().await;
    xianfeng::app::demo::load(&app.db).await.unwrap();
    let login = json_of(
        app.login("13800000000", xianfeng::app::demo::DEMO_PASSWORD)
            .await,
    )
    .await;
    let token = login["access_token"].as_str().unwrap();
    let get = |path: &str| app.client.get(app.url(path)).bearer_auth(token).send();

    let overview = json_of(get("/api/v1/stats/overview").await.unwrap()).await;
    let overdue = json_of(get("/api/v1/rectifications?overdue=true").await.unwrap()).await;

    assert_eq!(
        overview["rectifications"],
        json!({ "open": 2, "overdue": 1 })
    );
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
}

async fn list_of(app: &TestApp, path: String, who: &user::Model) -> Value {
    json_of(app.get(&path, who).await).await
}

// ------------------------------------------------------------ notifications

/// Titles in `user`'s inbox once it holds `count` notifications.
async fn titles_of(app: &TestApp, user: &user::Model, count: usize) -> Vec<String> {
    for _ in 0..50 {
        let inbox = json_of(app.get("/api/v1/notifications", user).await).await;
        let titles: Vec<String> = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].as_str().unwrap().to_owned())
            .collect();
        if titles.len() >= count {
            return titles;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{} never received {count} notifications", user.name);
}

#[tokio::test]
async fn each_step_tells_exactly_the_people_concerned() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (admin, secretary) = (&app.world.a.admin, &branch.secretary);
    let first = assign(&app, branch, 2).await;
    let second = assign(&app, branch, 30).await;
    let (first_id, second_id) = (id_of(&first), id_of(&second));

    let created = titles_of(&app, secretary, 2).await;
    step(
        &app,
        secretary,
        &first_id,
        "report",
        json!({ "note": "已整改" }),
    )
    .await;
    let reported = titles_of(&app, admin, 1).await;
    step(
        &app,
        admin,
        &first_id,
        "reopen",
        json!({ "comment": "缺少佐证" }),
    )
    .await;
    step(
        &app,
        secretary,
        &first_id,
        "report",
        json!({ "note": "已补充" }),
    )
    .await;
    step(
        &app,
        admin,
        &first_id,
        "close",
        json!({ "comment": "到位" }),
    )
    .await;
    let deadline: DateTime<Utc> = second["deadline"].as_str().unwrap().parse().unwrap();
    xianfeng::features::rectifications::jobs::sweep_overdue(&app.db, deadline + Duration::hours(1))
        .await
        .unwrap();
    let secretarys = titles_of(&app, secretary, 5).await;
    let admins = titles_of(&app, admin, 2).await;

    assert_eq!(created, ["新的整改事项", "新的整改事项"]);
    assert_eq!(reported, ["整改情况待验收"]);
    // Newest first.
    assert_eq!(
        secretarys,
        [
            "整改事项已逾期",
            "整改事项已销号",
            "整改事项被退回",
            "新的整改事项",
            "新的整改事项"
        ]
    );
    assert_eq!(admins, ["整改情况待验收", "整改情况待验收"]);
    let inbox = json_of(app.get("/api/v1/notifications", secretary).await).await;
    let overdue = &inbox["items"][0];
    assert_eq!(
        overdue["subject"],
        json!({ "kind": "rectification", "id": second_id })
    );
    let body = overdue["body"].as_str().unwrap();
    assert!(body.starts_with("整改事项已逾期：走访台账不规范"), "{body}");
    assert!(body.contains("年") && body.contains("日"), "{body}");
    let reopened = inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["title"] == "整改事项被退回")
        .unwrap();
    assert!(reopened["body"].as_str().unwrap().contains("缺少佐证"));
    let admin_inbox = json_of(app.get("/api/v1/notifications", admin).await).await;
    assert!(
        admin_inbox["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains(&branch.branch.name)
    );
    for bystander in [
        &branch.members[0],
        &branch.members[1],
        &app.world.a.branches[1].secretary,
        &app.world.b.admin,
        &app.world.b.branches[0].secretary,
    ] {
        let count = json_of(
            app.get("/api/v1/notifications/unread-count", bystander)
                .await,
        )
        .await;
        assert_eq!(count["count"], 0, "{} was told", bystander.name);
    }
    let secretarys_count = notification_count(&app, secretary.id).await;
    assert_eq!(secretarys_count, 5, "one each, never twice");
}

async fn notification_count(app: &TestApp, recipient: Uuid) -> u64 {
    xianfeng::entities::notification::Entity::find()
        .filter(xianfeng::entities::notification::Column::RecipientId.eq(recipient))
        .count(&app.db)
        .await
        .unwrap()
}
