//! Visits: check-in validation, idempotency, the review workflow, visibility,
//! quality flags, the review queue, `/me/households` and the CSV export.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::entities::{outbox_event, upload, user, visit};

use crate::helpers::*;

/// Where the seeded households of branch 0 are put for these tests (GCJ-02).
pub const HOME: (f64, f64) = (30.2741, 120.1551);

pub async fn locate_households(app: &TestApp) {
    let branch = &app.world.a.branches[0];
    for household in &branch.households {
        let response = app
            .patch(
                &format!("/api/v1/households/{}", household.id),
                &branch.secretary,
                json!({ "location": { "lat": HOME.0, "lng": HOME.1 } }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

fn check_in_body(household_id: Uuid) -> Value {
    json!({
        "household_id": household_id,
        "kind": "assistance",
        "visited_at": Utc::now().to_rfc3339(),
        "location": { "lat": HOME.0 + 0.0001, "lng": HOME.1, "accuracy_m": 10.0 },
        "summary": "了解冬季取暖情况",
        "needs": ["取暖用煤"],
        "follow_up": true
    })
}

async fn check_in(app: &TestApp, member: &user::Model, body: Value) -> reqwest::Response {
    app.post("/api/v1/visits", member, body).await
}

async fn check_in_ok(app: &TestApp, member: &user::Model, body: Value) -> Value {
    let response = check_in(app, member, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await
}

async fn review(app: &TestApp, reviewer: &user::Model, id: &str, body: Value) -> reqwest::Response {
    app.post(&format!("/api/v1/visits/{id}/review"), reviewer, body)
        .await
}

#[tokio::test]
async fn a_member_checks_in_and_gets_a_pending_visit_with_its_distance() {
    let app = spawn_app().await;
    locate_households(&app).await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];

    let visit = check_in_ok(&app, member, check_in_body(branch.households[0].id)).await;

    assert_eq!(visit["status"], "pending");
    assert!(visit["review"].is_null());
    assert_eq!(visit["member_id"], member.id.to_string());
    assert_eq!(visit["branch_id"], branch.branch.id.to_string());
    assert_eq!(visit["kind"], "assistance");
    assert_eq!(visit["location"]["coord_system"], "gcj02");
    let distance = visit["distance_m"].as_f64().unwrap();
    assert!((distance - 11.1).abs() < 1.0, "{distance}");
    assert!(visit["received_at"].is_string());
    assert_eq!(visit["flags"], json!([]));
    let events = outbox_event::Entity::find()
        .filter(outbox_event::Column::Kind.eq("visit.submitted"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 1);
}

#[tokio::test]
async fn gps_and_wechat_coordinates_of_one_spot_are_zero_metres_apart() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (wgs_lat, wgs_lng) = (30.27415, 120.15515);
    let (gcj_lat, gcj_lng) = xianfeng::domain::location::wgs84_to_gcj02(wgs_lat, wgs_lng);
    app.patch(
        &format!("/api/v1/households/{}", branch.households[0].id),
        &branch.secretary,
        json!({ "location": { "lat": wgs_lat, "lng": wgs_lng, "coord_system": "wgs84" } }),
    )
    .await;
    let mut body = check_in_body(branch.households[0].id);
    body["location"] = json!({ "lat": gcj_lat, "lng": gcj_lng, "coord_system": "gcj02" });

    let visit = check_in_ok(&app, &branch.members[0], body).await;

    assert!(
        visit["distance_m"].as_f64().unwrap() < 1.0,
        "{}",
        visit["distance_m"]
    );
    assert_eq!(visit["flags"], json!([]));
}

#[tokio::test]
async fn every_validation_rule_names_its_field() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let household = branch.households[0].id;
    let foreign_household = app.world.a.branches[1].households[0].id;
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "visited_at",
            Box::new(|b| b["visited_at"] = json!((Utc::now() - Duration::days(31)).to_rfc3339())),
        ),
        (
            "visited_at",
            Box::new(|b| {
                b["visited_at"] = json!((Utc::now() + Duration::minutes(11)).to_rfc3339())
            }),
        ),
        (
            "visited_at",
            Box::new(|b| b["visited_at"] = json!("yesterday")),
        ),
        (
            "location.lat",
            Box::new(|b| b["location"]["lat"] = json!(91.0)),
        ),
        (
            "location.lng",
            Box::new(|b| b["location"]["lng"] = json!(-181.0)),
        ),
        (
            "location.accuracy_m",
            Box::new(|b| b["location"]["accuracy_m"] = json!(-1.0)),
        ),
        (
            "location.coord_system",
            Box::new(|b| b["location"]["coord_system"] = json!("bd09")),
        ),
        ("summary", Box::new(|b| b["summary"] = json!(" "))),
        (
            "summary",
            Box::new(|b| b["summary"] = json!("访".repeat(2001))),
        ),
        (
            "needs[0]",
            Box::new(|b| b["needs"] = json!(["需".repeat(101)])),
        ),
        ("kind", Box::new(|b| b["kind"] = json!("party"))),
        (
            "household_id",
            Box::new(move |b| b["household_id"] = json!(foreign_household)),
        ),
        (
            "household_id",
            Box::new(|b| b["household_id"] = json!(Uuid::now_v7())),
        ),
        (
            "photo_ids[0]",
            Box::new(|b| b["photo_ids"] = json!([Uuid::now_v7()])),
        ),
        (
            "photo_ids",
            Box::new(|b| {
                b["photo_ids"] = json!((0..10).map(|_| Uuid::now_v7()).collect::<Vec<_>>())
            }),
        ),
        (
            "household_id",
            Box::new(|b| {
                b.as_object_mut().unwrap().remove("household_id");
            }),
        ),
    ];
    for (field, change) in cases {
        let mut body = check_in_body(household);
        change(&mut body);
        let response = check_in(&app, member, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let error = json_of(response).await;
        let fields: Vec<&str> = error["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert!(fields.contains(&field), "expected {field}, got {fields:?}");
    }
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 0);
}

#[tokio::test]
async fn a_visit_made_offline_29_days_ago_is_accepted_and_flagged_late() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let mut body = check_in_body(branch.households[0].id);
    body["visited_at"] = json!((Utc::now() - Duration::days(29)).to_rfc3339());

    let visit = check_in_ok(&app, &branch.members[0], body).await;

    assert_eq!(visit["flags"], json!(["late_upload"]));
}

#[tokio::test]
async fn township_admins_do_not_submit_visits() {
    let app = spawn_app().await;
    let response = check_in(
        &app,
        &app.world.a.admin,
        check_in_body(app.world.a.branches[0].households[0].id),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

async fn check_in_with_key(
    app: &TestApp,
    member: &user::Model,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.request(Method::POST, "/api/v1/visits", Some(member))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_retry_with_the_same_key_answers_the_first_answer_and_creates_nothing() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let body = check_in_body(branch.households[0].id);
    let key = Uuid::now_v7().to_string();

    let first = check_in_with_key(&app, member, &key, &body).await;
    let first_status = first.status();
    let first_body = first.text().await.unwrap();
    let retry = check_in_with_key(&app, member, &key, &body).await;

    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    assert_eq!(retry.text().await.unwrap(), first_body);
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_409() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let key = Uuid::now_v7().to_string();
    let body = check_in_body(branch.households[0].id);
    let mut other = body.clone();
    other["summary"] = json!("另一次走访");

    check_in_with_key(&app, member, &key, &body).await;
    let reused = check_in_with_key(&app, member, &key, &other).await;

    assert_eq!(reused.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(reused).await, "idempotency_key_reused");
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn keys_belong_to_their_user() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let key = Uuid::now_v7().to_string();
    let body = check_in_body(branch.households[0].id);

    let mine = check_in_with_key(&app, &branch.members[0], &key, &body).await;
    let theirs = check_in_with_key(&app, &branch.members[1], &key, &body).await;

    assert_eq!(mine.status(), StatusCode::CREATED);
    assert_eq!(theirs.status(), StatusCode::CREATED);
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 2);
}

#[tokio::test]
async fn twenty_concurrent_requests_with_one_key_create_one_visit() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let key = Uuid::now_v7().to_string();
    let body = check_in_body(branch.households[0].id);

    let answers = futures_util::future::join_all(
        (0..20).map(|_| check_in_with_key(&app, member, &key, &body)),
    )
    .await;

    let mut ids = std::collections::HashSet::new();
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::CREATED);
        ids.insert(json_of(answer).await["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "every answer names the one visit");
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn a_retry_is_answered_as_first_even_where_a_new_check_in_would_now_be_refused() {
    let app = spawn_app().await;
    let (branch, other) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let member = &branch.members[0];
    let household = &branch.households[0];
    let body = check_in_body(household.id);
    let key = Uuid::now_v7().to_string();
    let first = check_in_with_key(&app, member, &key, &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_body = first.text().await.unwrap();
    // The household has moved to another branch since: a new check-in
    // there is refused, but the retry of the first is not a new one.
    xianfeng::entities::household::ActiveModel {
        id: Set(household.id),
        branch_id: Set(other.branch.id),
        ..Default::default()
    }
    .update(&app.db)
    .await
    .unwrap();

    let retry = check_in_with_key(&app, member, &key, &body).await;
    let fresh = check_in_with_key(&app, member, &Uuid::now_v7().to_string(), &body).await;

    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.text().await.unwrap(), first_body);
    assert_eq!(fresh.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn an_expired_key_takes_a_new_check_in_and_then_replays_that_one() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let first = check_in_body(branch.households[0].id);
    let second = check_in_body(branch.households[1].id);
    assert_eq!(
        check_in_with_key(&app, member, "0193a000-0000-7000-8000-00000000ca07", &first)
            .await
            .status(),
        StatusCode::CREATED
    );
    use sea_orm::sea_query::Expr;
    xianfeng::entities::idempotency_key::Entity::update_many()
        .col_expr(
            xianfeng::entities::idempotency_key::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::hours(1)),
        )
        .exec(&app.db)
        .await
        .unwrap();

    let taken_again = check_in_with_key(
        &app,
        member,
        "0193a000-0000-7000-8000-00000000ca07",
        &second,
    )
    .await;
    assert_eq!(taken_again.status(), StatusCode::CREATED);
    let taken_again = json_of(taken_again).await;
    let replayed = check_in_with_key(
        &app,
        member,
        "0193a000-0000-7000-8000-00000000ca07",
        &second,
    )
    .await;

    assert_eq!(replayed.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(replayed).await["id"], taken_again["id"]);
    assert_eq!(
        taken_again["household_id"],
        branch.households[1].id.to_string()
    );
    assert_eq!(visit::Entity::find().count(&app.db).await.unwrap(), 2);
    let keys = xianfeng::entities::idempotency_key::Entity::find()
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(
        keys, 1,
        "the expired key's row was replaced, not kept beside"
    );
}

#[tokio::test]
async fn approve_return_edit_and_reject_follow_the_workflow_and_keep_history() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (member, secretary) = (&branch.members[0], &branch.secretary);
    let created = check_in_ok(&app, member, check_in_body(branch.households[0].id)).await;
    let id = created["id"].as_str().unwrap();

    let no_comment = review(&app, secretary, id, json!({ "decision": "return" })).await;
    assert_eq!(no_comment.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(no_comment).await["error"]["details"][0]["field"],
        "comment"
    );

    let returned = json_of(
        review(
            &app,
            secretary,
            id,
            json!({ "decision": "return", "comment": "请补充照片" }),
        )
        .await,
    )
    .await;
    assert_eq!(returned["status"], "returned");
    assert_eq!(returned["review"]["decision"], "return");
    assert_eq!(returned["review"]["comment"], "请补充照片");
    assert_eq!(returned["review"]["reviewer_id"], secretary.id.to_string());

    let again = review(&app, secretary, id, json!({ "decision": "approve" })).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let edited = app
        .patch(
            &format!("/api/v1/visits/{id}"),
            member,
            json!({ "summary": "补充：已送去取暖用煤" }),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited = json_of(edited).await;
    assert_eq!(edited["status"], "pending");
    assert!(edited["review"].is_null());
    assert_eq!(edited["summary"], "补充：已送去取暖用煤");
    assert_eq!(edited["version"], 3);

    let rejected = json_of(
        review(
            &app,
            secretary,
            id,
            json!({ "decision": "reject", "comment": "与上次重复" }),
        )
        .await,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");

    let history = json_of(
        app.get(&format!("/api/v1/visits/{id}/history"), member)
            .await,
    )
    .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["submitted", "returned", "resubmitted", "rejected"]
    );
    assert_eq!(
        history[0]["snapshot"]["summary"], "了解冬季取暖情况",
        "the first version stays readable"
    );
    assert_eq!(history[1]["comment"], "请补充照片");
}

#[tokio::test]
async fn approving_twice_is_409() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let first = review(
        &app,
        &branch.secretary,
        &id,
        json!({ "decision": "approve" }),
    )
    .await;
    let second = review(
        &app,
        &app.world.a.admin,
        &id,
        json!({ "decision": "approve" }),
    )
    .await;

    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(json_of(first).await["status"], "approved");
    assert_eq!(second.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn of_two_reviewers_deciding_at_once_exactly_one_wins() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    for _ in 0..5 {
        let id = check_in_ok(
            &app,
            &branch.members[0],
            check_in_body(branch.households[0].id),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let (a, b) = tokio::join!(
            review(
                &app,
                &branch.secretary,
                &id,
                json!({ "decision": "approve" })
            ),
            review(
                &app,
                &app.world.a.admin,
                &id,
                json!({ "decision": "reject", "comment": "不符合" })
            ),
        );

        let mut statuses = [a.status().as_u16(), b.status().as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 409]);
    }
}

#[tokio::test]
async fn who_may_review_follows_spec() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let secretary_visit = check_in_ok(
        &app,
        &branch.secretary,
        check_in_body(branch.households[0].id),
    )
    .await;
    let member_visit = check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    let (own, theirs) = (
        secretary_visit["id"].as_str().unwrap(),
        member_visit["id"].as_str().unwrap(),
    );
    let approve = json!({ "decision": "approve" });

    assert_eq!(
        review(&app, &branch.secretary, own, approve.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "never one's own"
    );
    assert_eq!(
        review(&app, &branch.members[1], theirs, approve.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND,
        "a colleague cannot even see it"
    );
    assert_eq!(
        review(&app, &branch.members[0], theirs, approve.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "the author sees it but may not decide"
    );
    assert_eq!(
        review(
            &app,
            &app.world.a.branches[1].secretary,
            theirs,
            approve.clone()
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        review(&app, &app.world.b.admin, theirs, approve.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        review(&app, &app.world.a.admin, own, approve.clone())
            .await
            .status(),
        StatusCode::OK,
        "admins decide secretaries' visits"
    );
    assert_eq!(
        review(&app, &branch.secretary, theirs, approve)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_the_author_edits_and_only_when_returned() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/visits/{id}");

    let while_pending = app
        .patch(&path, &branch.members[0], json!({ "summary": "改" }))
        .await;
    assert_eq!(while_pending.status(), StatusCode::CONFLICT);
    review(
        &app,
        &branch.secretary,
        &id,
        json!({ "decision": "return", "comment": "补充" }),
    )
    .await;
    assert_eq!(
        app.patch(&path, &branch.secretary, json!({ "summary": "改" }))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch(&path, &branch.members[1], json!({ "summary": "改" }))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let bad = app
        .patch(&path, &branch.members[0], json!({ "summary": "" }))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.patch(&path, &branch.members[0], json!({ "summary": "改" }))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn members_see_their_own_and_approved_visits_of_their_branch() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (author, colleague) = (&branch.members[0], &branch.members[1]);
    let id = check_in_ok(&app, author, check_in_body(branch.households[0].id)).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/visits/{id}");

    assert_eq!(
        app.get(&path, colleague).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        json_of(app.get("/api/v1/visits", colleague).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(app.get(&path, author).await.status(), StatusCode::OK);
    assert_eq!(
        app.get(&path, &app.world.a.branches[1].secretary)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, &app.world.b.admin).await.status(),
        StatusCode::NOT_FOUND
    );

    review(
        &app,
        &branch.secretary,
        &id,
        json!({ "decision": "approve" }),
    )
    .await;

    assert_eq!(app.get(&path, colleague).await.status(), StatusCode::OK);
    assert_eq!(
        json_of(app.get("/api/v1/visits", colleague).await).await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn lists_filter_by_status_kind_household_and_time() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    check_in_ok(&app, member, check_in_body(branch.households[0].id)).await;
    let mut condolence = check_in_body(branch.households[1].id);
    condolence["kind"] = json!("condolence");
    condolence["visited_at"] = json!((Utc::now() - Duration::days(3)).to_rfc3339());
    check_in_ok(&app, member, condolence).await;
    let secretary = &branch.secretary;

    let by_kind = json_of(app.get("/api/v1/visits?kind=condolence", secretary).await).await;
    let by_household = json_of(
        app.get(
            &format!("/api/v1/visits?household_id={}", branch.households[0].id),
            secretary,
        )
        .await,
    )
    .await;
    let since = (Utc::now() - Duration::days(1))
        .to_rfc3339()
        .replace('+', "%2B");
    let recent = json_of(
        app.get(&format!("/api/v1/visits?from={since}"), secretary)
            .await,
    )
    .await;
    let approved = json_of(app.get("/api/v1/visits?status=approved", secretary).await).await;
    let bad_time = app.get("/api/v1/visits?from=last-week", secretary).await;

    assert_eq!(by_kind["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_kind["items"][0]["kind"], "condolence");
    assert_eq!(by_household["items"].as_array().unwrap().len(), 1);
    assert_eq!(recent["items"].as_array().unwrap().len(), 1);
    assert_eq!(approved["items"].as_array().unwrap().len(), 0);
    assert_eq!(bad_time.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(bad_time).await["error"]["details"][0]["field"],
        "from"
    );
}

#[tokio::test]
async fn quality_flags_mark_far_inaccurate_and_bursty_check_ins() {
    let app = spawn_app().await;
    locate_households(&app).await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];

    let mut far = check_in_body(branch.households[0].id);
    far["location"] = json!({ "lat": HOME.0 + 0.01, "lng": HOME.1, "accuracy_m": 500.0 });
    let far = check_in_ok(&app, member, far).await;
    assert_eq!(
        far["flags"],
        json!(["far_from_household", "poor_gps_accuracy"])
    );

    let mut last = Value::Null;
    for _ in 0..4 {
        last = check_in_ok(&app, member, check_in_body(branch.households[1].id)).await;
    }
    assert_eq!(
        last["flags"],
        json!(["burst"]),
        "the fifth check-in within ten minutes"
    );

    let flagged = json_of(
        app.get("/api/v1/visits?flag=far_from_household", &branch.secretary)
            .await,
    )
    .await;
    assert_eq!(flagged["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_photo_with_the_same_bytes_as_another_visits_is_flagged() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let mut photo_ids = Vec::new();
    for member in &branch.members {
        let photo = upload::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(member.township_id),
            uploader_id: Set(member.id),
            content_type: Set("image/jpeg".into()),
            size: Set(3),
            sha256: Set("ab".repeat(32)),
            storage_key: Set("ab".repeat(32)),
            created_at: Set(Utc::now()),
        }
        .insert(&app.db)
        .await
        .unwrap();
        photo_ids.push(photo.id);
    }
    let mut first = check_in_body(branch.households[0].id);
    first["photo_ids"] = json!([photo_ids[0]]);
    let mut second = check_in_body(branch.households[1].id);
    second["photo_ids"] = json!([photo_ids[1]]);

    let first = check_in_ok(&app, &branch.members[0], first).await;
    let second = check_in_ok(&app, &branch.members[1], second).await;

    assert_eq!(first["flags"], json!([]));
    assert_eq!(second["flags"], json!(["duplicate_photo"]));
    assert_eq!(second["photo_ids"], json!([photo_ids[1]]));
}

#[tokio::test]
async fn township_admins_set_the_flag_thresholds() {
    let app = spawn_app().await;
    locate_households(&app).await;
    let branch = &app.world.a.branches[0];
    let strict = json!({ "settings": { "quality": { "far_from_household_m": 5.0 } } });

    assert_eq!(
        app.patch("/api/v1/township", &branch.secretary, strict.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let invalid = app
        .patch(
            "/api/v1/township",
            &app.world.a.admin,
            json!({ "settings": { "quality": { "burst_count": 0 } } }),
        )
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(invalid).await["error"]["details"][0]["field"],
        "settings.quality.burst_count"
    );
    let updated = json_of(
        app.patch("/api/v1/township", &app.world.a.admin, strict)
            .await,
    )
    .await;
    assert_eq!(updated["settings"]["quality"]["far_from_household_m"], 5.0);
    assert_eq!(
        updated["settings"]["quality"]["burst_count"], 5,
        "absent keys keep their defaults"
    );

    let visit = check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;

    assert_eq!(visit["flags"], json!(["far_from_household"]));
    let other_township = json_of(app.get("/api/v1/township", &app.world.b.admin).await).await;
    assert_eq!(
        other_township["settings"]["quality"]["far_from_household_m"],
        500.0
    );
}

#[tokio::test]
async fn the_review_queue_lists_pending_visits_oldest_first_without_ones_own() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let first = check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    let second = check_in_ok(
        &app,
        &branch.members[1],
        check_in_body(branch.households[1].id),
    )
    .await;
    check_in_ok(
        &app,
        &branch.secretary,
        check_in_body(branch.households[1].id),
    )
    .await;
    check_in_ok(
        &app,
        &app.world.a.branches[1].members[0],
        check_in_body(app.world.a.branches[1].households[0].id),
    )
    .await;

    let queue = json_of(
        app.get("/api/v1/reviews?status=pending", &branch.secretary)
            .await,
    )
    .await;
    let ids: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["subject_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            first["id"].as_str().unwrap(),
            second["id"].as_str().unwrap()
        ]
    );
    assert_eq!(queue["items"][0]["subject_kind"], "visit");
    assert_eq!(
        queue["items"][0]["submitted_by"],
        branch.members[0].id.to_string()
    );
    assert!(
        queue["items"][0]["title"]
            .as_str()
            .unwrap()
            .contains(&branch.households[0].head_name)
    );

    let page = json_of(app.get("/api/v1/reviews?limit=1", &branch.secretary).await).await;
    let next = page["next_cursor"].as_str().unwrap();
    let rest = json_of(
        app.get(
            &format!("/api/v1/reviews?limit=1&cursor={next}"),
            &branch.secretary,
        )
        .await,
    )
    .await;
    assert_eq!(rest["items"][0]["subject_id"], second["id"]);

    let all = json_of(app.get("/api/v1/reviews", &app.world.a.admin).await).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
    assert_eq!(
        app.get("/api/v1/reviews", &branch.members[0])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get("/api/v1/reviews?cursor=zzz", &branch.secretary)
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn bulk_approval_checks_each_item_on_its_own() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let a = check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    let own = check_in_ok(
        &app,
        &branch.secretary,
        check_in_body(branch.households[0].id),
    )
    .await;
    let foreign = check_in_ok(
        &app,
        &app.world.a.branches[1].members[0],
        check_in_body(app.world.a.branches[1].households[0].id),
    )
    .await;
    let items: Vec<Value> = [&a, &own, &foreign]
        .iter()
        .map(|v| json!({ "subject_kind": "visit", "subject_id": v["id"] }))
        .collect();

    let response = app
        .post(
            "/api/v1/reviews/bulk",
            &branch.secretary,
            json!({ "decision": "approve", "items": items }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let results = json_of(response).await["results"].clone();
    let statuses: Vec<u64> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [200, 403, 404]);
    assert_eq!(results[0]["review_status"], "approved");
    assert_eq!(results[1]["error"]["code"], "forbidden");
}

#[tokio::test]
async fn my_households_show_when_they_were_last_visited() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let household = &branch.households[0];
    let mut body = check_in_body(household.id);
    let visited_at = Utc::now() - Duration::days(2);
    body["visited_at"] = json!(visited_at.to_rfc3339());
    let id = check_in_ok(&app, member, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mine = json_of(app.get("/api/v1/me/households", member).await).await;
    let last =
        chrono::DateTime::parse_from_rfc3339(mine["items"][0]["last_visited_at"].as_str().unwrap())
            .unwrap();
    assert!((last.timestamp() - visited_at.timestamp()).abs() <= 1);
    assert_eq!(mine["items"][0]["overdue"], false);

    review(
        &app,
        &branch.secretary,
        &id,
        json!({ "decision": "reject", "comment": "不实" }),
    )
    .await;
    let mine = json_of(app.get("/api/v1/me/households", member).await).await;
    assert!(
        mine["items"][0]["last_visited_at"].is_null(),
        "a rejected visit does not count"
    );
    assert_eq!(mine["items"][0]["overdue"], true);
}

#[tokio::test]
async fn the_csv_export_has_a_bom_chinese_headers_and_the_filtered_rows() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    check_in_ok(
        &app,
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    let mut other = check_in_body(branch.households[1].id);
    other["kind"] = json!("safety_check");
    check_in_ok(&app, &branch.members[1], other).await;

    let response = app
        .get(
            "/api/v1/visits/export?format=csv&kind=safety_check",
            &branch.secretary,
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("编号,党员,农户,走访类型"));
    assert_eq!(lines.len(), 2);
    assert!(
        lines[1].contains("安全隐患排查") && lines[1].contains(&branch.households[1].head_name)
    );
    assert_eq!(
        app.get("/api/v1/visits/export?format=pdf", &branch.secretary)
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
}

#[tokio::test]
async fn expired_idempotency_keys_are_swept_and_live_ones_kept() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let body = check_in_body(branch.households[0].id);
    check_in_with_key(
        &app,
        &branch.members[0],
        "0193a000-0000-7000-8000-00000000ca05",
        &body,
    )
    .await;
    check_in_with_key(
        &app,
        &branch.members[0],
        "0193a000-0000-7000-8000-00000000ca06",
        &body,
    )
    .await;
    use sea_orm::sea_query::Expr;
    xianfeng::entities::idempotency_key::Entity::update_many()
        .col_expr(
            xianfeng::entities::idempotency_key::Column::ExpiresAt,
            Expr::value(Utc::now() - Duration::hours(1)),
        )
        .filter(
            xianfeng::entities::idempotency_key::Column::Key
                .eq("0193a000-0000-7000-8000-00000000ca05"),
        )
        .exec(&app.db)
        .await
        .unwrap();

    let swept = xianfeng::core::idempotency::sweep_expired(&app.db)
        .await
        .unwrap();

    assert_eq!(swept, 1);
    let left: Vec<String> = xianfeng::entities::idempotency_key::Entity::find()
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key)
        .collect();
    assert_eq!(left, ["0193a000-0000-7000-8000-00000000ca06"]);
}
