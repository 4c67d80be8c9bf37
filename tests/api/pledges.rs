//! Pledges (公开承诺): making and reviewing them, the wall and who sees what,
//! progress measured from approved visits, fulfilment, leader comments,
//! ratings and the notifications they send.

use std::time::Duration as StdDuration;

use chrono::{Duration, FixedOffset, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::entities::{outbox_event, pledge, user};

use crate::helpers::*;

/// Today in the townships' time zone (UTC+8).
fn today() -> NaiveDate {
    (Utc::now() + Duration::hours(8)).date_naive()
}

/// Noon of `date` in China, or now when that is still to come (a visit
/// cannot be in the future; before noon, now is the same day there).
fn china_noon(date: NaiveDate) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).unwrap();
    let noon = date
        .and_hms_opt(12, 0, 0)
        .unwrap()
        .and_local_timezone(offset)
        .unwrap()
        .with_timezone(&Utc);
    noon.min(Utc::now()).to_rfc3339()
}

/// A pledge running from ten days ago to ten days ahead, with one target
/// measured from visits.
fn pledge_body(scope: &str) -> Value {
    let start = today() - Duration::days(10);
    json!({
        "scope": scope,
        "year": start.format("%Y").to_string().parse::<i32>().unwrap(),
        "period_start": start,
        "period_end": today() + Duration::days(10),
        "title": "践行为民服务承诺",
        "content": "每月走访包联户，帮助解决实际困难",
        "targets": [
            { "description": "走访包联户4次", "metric": { "metric": "visits", "count": 4 } },
            { "description": "参加主题党日", "due_date": today() }
        ]
    })
}

async fn create(app: &TestApp, author: &user::Model, body: Value) -> reqwest::Response {
    app.post("/api/v1/pledges", author, body).await
}

async fn create_ok(app: &TestApp, author: &user::Model, body: Value) -> Value {
    let response = create(app, author, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await
}

async fn review(
    app: &TestApp,
    reviewer: &user::Model,
    id: &Value,
    body: Value,
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/pledges/{}/review", id.as_str().unwrap()),
        reviewer,
        body,
    )
    .await
}

/// A member pledge of `author`, approved by their branch's secretary.
async fn approved_pledge(app: &TestApp, branch: &Branch, author: &user::Model) -> Value {
    let made = create_ok(app, author, pledge_body("member")).await;
    let response = review(
        app,
        &branch.secretary,
        &made["id"],
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    json_of(response).await
}

fn path(pledge: &Value, rest: &str) -> String {
    format!("/api/v1/pledges/{}{rest}", pledge["id"].as_str().unwrap())
}

async fn get_pledge(app: &TestApp, pledge: &Value, as_user: &user::Model) -> reqwest::Response {
    app.get(&path(pledge, ""), as_user).await
}

async fn put_rating(
    app: &TestApp,
    pledge: &Value,
    rater: &user::Model,
    body: Value,
) -> reqwest::Response {
    app.request(Method::PUT, &path(pledge, "/rating"), Some(rater))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn wall(app: &TestApp, as_user: &user::Model, query: &str) -> Vec<Value> {
    let response = app.get(&format!("/api/v1/pledges{query}"), as_user).await;
    assert_eq!(response.status(), StatusCode::OK);
    json_of(response).await["items"].as_array().unwrap().clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

fn fields_of(error: &Value) -> Vec<String> {
    error["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect()
}

/// A visit by `member` at their branch's first household on `day`, decided by
/// the secretary as `decision` (or left pending).
async fn visit_on(
    app: &TestApp,
    branch: &Branch,
    member: &user::Model,
    day: NaiveDate,
    decision: Option<&str>,
) -> Value {
    let response = app
        .post(
            "/api/v1/visits",
            member,
            json!({
                "household_id": branch.households[0].id,
                "kind": "assistance",
                "visited_at": china_noon(day),
                "location": { "lat": 30.27, "lng": 120.15 },
                "summary": "了解近况"
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let visit = json_of(response).await;
    if let Some(decision) = decision {
        let response = app
            .post(
                &format!("/api/v1/visits/{}/review", visit["id"].as_str().unwrap()),
                &branch.secretary,
                json!({ "decision": decision, "comment": "意见" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    visit
}

/// The inbox of `user` once it holds a notification of `kind`.
async fn notification_of(app: &TestApp, user: &user::Model, kind: &str) -> Value {
    for _ in 0..50 {
        let inbox = json_of(app.get("/api/v1/notifications", user).await).await;
        if let Some(found) = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["kind"] == kind)
        {
            return found.clone();
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("{} never received {kind}", user.name);
}

#[tokio::test]
async fn a_member_pledge_waits_for_review_and_the_secretary_approves_it() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];

    let made = create_ok(&app, member, pledge_body("member")).await;

    assert_eq!(made["status"], "pending");
    assert_eq!(made["scope"], "member");
    assert_eq!(made["member_id"], member.id.to_string());
    assert_eq!(made["branch_id"], branch.branch.id.to_string());
    assert!(made["review"].is_null());
    assert_eq!(
        made["targets"][0]["metric"],
        json!({ "metric": "visits", "count": 4 })
    );
    let submitted = outbox_event::Entity::find()
        .filter(outbox_event::Column::Kind.eq("pledge.submitted"))
        .count(&app.db)
        .await
        .unwrap();
    assert_eq!(submitted, 1);

    let refused = review(
        &app,
        &branch.members[1],
        &made["id"],
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(
        refused.status(),
        StatusCode::NOT_FOUND,
        "members do not see others' pending pledges"
    );
    let approved = review(
        &app,
        &branch.secretary,
        &made["id"],
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let approved = json_of(approved).await;
    assert_eq!(approved["status"], "approved");
    assert_eq!(
        approved["review"]["reviewer_id"],
        branch.secretary.id.to_string()
    );

    let again = review(
        &app,
        &branch.secretary,
        &made["id"],
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_secretary_never_reviews_their_own_pledge_and_returned_ones_are_edited_back_to_pending() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let own = create_ok(&app, &branch.secretary, pledge_body("member")).await;
    let refused = review(
        &app,
        &branch.secretary,
        &own["id"],
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    let member = &branch.members[0];
    let made = create_ok(&app, member, pledge_body("member")).await;
    let returned = review(
        &app,
        &branch.secretary,
        &made["id"],
        json!({ "decision": "return" }),
    )
    .await;
    assert_eq!(
        returned.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "returning needs a comment"
    );
    let returned = review(
        &app,
        &branch.secretary,
        &made["id"],
        json!({ "decision": "return", "comment": "目标请量化" }),
    )
    .await;
    assert_eq!(json_of(returned).await["status"], "returned");

    let by_other = app
        .patch(
            &path(&made, ""),
            &branch.secretary,
            json!({ "title": "改" }),
        )
        .await;
    assert_eq!(by_other.status(), StatusCode::FORBIDDEN);
    let edited = app
        .patch(
            &path(&made, ""),
            member,
            json!({ "title": "全年走访包联户36次" }),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited = json_of(edited).await;
    assert_eq!(edited["status"], "pending");
    assert_eq!(edited["title"], "全年走访包联户36次");
    let again = app
        .patch(&path(&made, ""), member, json!({ "title": "再改" }))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let history = json_of(app.get(&path(&made, "/history"), member).await).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submitted", "returned", "resubmitted"]);
}

#[tokio::test]
async fn a_branch_pledge_is_published_at_once_and_members_cannot_make_one() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let by_secretary = create_ok(&app, &branch.secretary, pledge_body("branch")).await;
    assert_eq!(by_secretary["status"], "approved");
    assert_eq!(by_secretary["scope"], "branch");
    assert!(by_secretary["member_id"].is_null());
    assert_eq!(by_secretary["branch_id"], branch.branch.id.to_string());

    let other = &app.world.a.branches[1].branch;
    let mut body = pledge_body("branch");
    body["branch_id"] = json!(other.id);
    let by_admin = create_ok(&app, &app.world.a.admin, body.clone()).await;
    assert_eq!(by_admin["status"], "approved");
    assert_eq!(by_admin["branch_id"], other.id.to_string());

    let response = create(&app, &branch.secretary, body).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "a secretary pledges for their own branch"
    );
    let response = create(&app, &branch.members[0], pledge_body("branch")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = create(&app, &app.world.a.admin, pledge_body("member")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = create(&app, &app.world.a.admin, pledge_body("branch")).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(&json_of(response).await), ["branch_id"]);
    let mut foreign = pledge_body("branch");
    foreign["branch_id"] = json!(app.world.b.branches[0].branch.id);
    let response = create(&app, &app.world.a.admin, foreign).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn every_validation_rule_names_its_field() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change)> = vec![
        ("title", Box::new(|b| b["title"] = json!("  "))),
        ("title", Box::new(|b| b["title"] = json!("诺".repeat(101)))),
        (
            "content",
            Box::new(|b| b["content"] = json!("诺".repeat(5001))),
        ),
        ("year", Box::new(|b| b["year"] = json!(1999))),
        ("year", Box::new(|b| b["year"] = json!(2101))),
        ("targets", Box::new(|b| b["targets"] = json!([]))),
        (
            "targets",
            Box::new(|b| b["targets"] = json!(vec![json!({ "description": "走访" }); 21])),
        ),
        (
            "targets[0].description",
            Box::new(|b| b["targets"][0]["description"] = json!("诺".repeat(501))),
        ),
        (
            "targets[0].metric.count",
            Box::new(|b| b["targets"][0]["metric"]["count"] = json!(0)),
        ),
        (
            "period_end",
            Box::new(|b| {
                b["period_start"] = json!("2026-06-01");
                b["period_end"] = json!("2026-05-31");
            }),
        ),
        ("scope", Box::new(|b| b["scope"] = json!("village"))),
    ];
    for (field, change) in cases {
        let mut body = pledge_body("member");
        change(&mut body);
        let response = create(&app, member, body).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        let error = json_of(response).await;
        assert_eq!(error["error"]["code"], "validation_failed");
        assert!(
            fields_of(&error).iter().any(|f| f == field),
            "{field}: {error}"
        );
    }
    let made = pledge::Entity::find().count(&app.db).await.unwrap();
    assert_eq!(made, 0);
}

#[tokio::test]
async fn a_retried_pledge_is_made_once_and_a_reused_key_is_refused() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let key = Uuid::now_v7().to_string();
    let send = |body: Value| {
        app.request(Method::POST, "/api/v1/pledges", Some(member))
            .header("Idempotency-Key", key.clone())
            .json(&body)
            .send()
    };

    let first = send(pledge_body("member")).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.text().await.unwrap();
    let again = send(pledge_body("member")).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.text().await.unwrap(), first);
    let mut other = pledge_body("member");
    other["title"] = json!("另一个承诺");
    let reused = send(other).await.unwrap();
    assert_eq!(reused.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(reused).await, "idempotency_key_reused");

    assert_eq!(pledge::Entity::find().count(&app.db).await.unwrap(), 1);
}

#[tokio::test]
async fn the_wall_shows_members_their_own_and_their_branchs_published_pledges_branch_ones_first() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (author, neighbour) = (&branch.members[0], &branch.members[1]);
    let pending = create_ok(&app, author, pledge_body("member")).await;
    let approved = approved_pledge(&app, branch, author).await;
    let branch_pledge = create_ok(&app, &branch.secretary, pledge_body("branch")).await;
    let elsewhere = create_ok(
        &app,
        &app.world.a.branches[1].secretary,
        pledge_body("branch"),
    )
    .await;

    let seen = ids(&wall(&app, neighbour, "").await);
    assert_eq!(
        seen,
        [&branch_pledge, &approved].map(|p| p["id"].as_str().unwrap().to_owned())
    );
    let own = ids(&wall(&app, author, "").await);
    assert_eq!(
        own,
        [&branch_pledge, &approved, &pending].map(|p| p["id"].as_str().unwrap().to_owned()),
        "branch pledges first, then members', newest first"
    );
    assert_eq!(
        get_pledge(&app, &pending, neighbour).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_pledge(&app, &approved, neighbour).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        get_pledge(&app, &elsewhere, neighbour).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_pledge(&app, &approved, &app.world.a.branches[1].members[0])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_pledge(&app, &approved, &app.world.b.branches[0].members[0])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get_pledge(&app, &approved, &app.world.b.branches[0].secretary)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(wall(&app, &app.world.b.admin, "").await.len(), 0);
    assert_eq!(wall(&app, &app.world.a.admin, "").await.len(), 4);

    let members_only = ids(&wall(&app, &branch.secretary, "?scope=member&status=pending").await);
    assert_eq!(members_only, [pending["id"].as_str().unwrap().to_owned()]);
    let of_author = wall(
        &app,
        &branch.secretary,
        &format!("?member_id={}", author.id),
    )
    .await;
    assert_eq!(of_author.len(), 2);
    let by_branch = wall(
        &app,
        &app.world.a.admin,
        &format!(
            "?branch_id={}&scope=branch",
            app.world.a.branches[1].branch.id
        ),
    )
    .await;
    assert_eq!(
        ids(&by_branch),
        [elsewhere["id"].as_str().unwrap().to_owned()]
    );
    assert_eq!(wall(&app, &app.world.a.admin, "?year=2001").await.len(), 0);

    let first = json_of(app.get("/api/v1/pledges?limit=1", &app.world.a.admin).await).await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = wall(&app, &app.world.a.admin, &format!("?cursor={cursor}")).await;
    assert_eq!(rest.len(), 3);
    assert!(!ids(&rest).contains(&first["items"][0]["id"].as_str().unwrap().to_owned()));
    let bad = app
        .get("/api/v1/pledges?cursor=nonsense!", &app.world.a.admin)
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_measurable_target_counts_the_owners_approved_visits_in_the_period() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (owner, other) = (&branch.members[0], &branch.members[1]);
    let member_pledge = approved_pledge(&app, branch, owner).await;
    let branch_pledge = create_ok(&app, &branch.secretary, pledge_body("branch")).await;

    visit_on(&app, branch, owner, today(), Some("approve")).await;
    visit_on(
        &app,
        branch,
        owner,
        today() - Duration::days(2),
        Some("approve"),
    )
    .await;
    visit_on(&app, branch, owner, today(), None).await;
    visit_on(&app, branch, owner, today(), Some("reject")).await;
    visit_on(
        &app,
        branch,
        owner,
        today() - Duration::days(20),
        Some("approve"),
    )
    .await;
    visit_on(&app, branch, other, today(), Some("approve")).await;

    let detail = json_of(get_pledge(&app, &member_pledge, other).await).await;
    assert_eq!(detail["targets"][0]["achieved"], 2, "{detail}");
    assert_eq!(detail["targets"][0]["percent"], 50);
    assert!(detail["targets"][1]["achieved"].is_null());
    assert_eq!(detail["progress_percent"], 50);
    let whole_branch = json_of(get_pledge(&app, &branch_pledge, other).await).await;
    assert_eq!(
        whole_branch["targets"][0]["achieved"], 3,
        "the branch's approved visits in the period"
    );
    assert_eq!(whole_branch["progress_percent"], 75);
    let on_wall = wall(&app, other, "").await;
    let percents: Vec<&Value> = on_wall.iter().map(|p| &p["progress_percent"]).collect();
    assert_eq!(percents, [&json!(75), &json!(50)]);
}

#[tokio::test]
async fn only_the_owner_reports_progress_on_an_approved_pledge_citing_their_own_visits() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let owner = &branch.members[0];
    let pending = create_ok(&app, owner, pledge_body("member")).await;
    let approved = approved_pledge(&app, branch, owner).await;
    let own_visit = visit_on(&app, branch, owner, today(), None).await;
    let others_visit = visit_on(&app, branch, &branch.members[1], today(), None).await;
    let note =
        |evidence: Value| json!({ "note": "本月走访4户", "percent": 40, "evidence": evidence });

    for outsider in [&branch.members[1], &branch.secretary] {
        let response = app
            .post(&path(&approved, "/progress"), outsider, note(json!([])))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{}",
            outsider.name
        );
    }
    let response = app
        .post(&path(&pending, "/progress"), owner, note(json!([])))
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = app
        .post(
            &path(&approved, "/progress"),
            owner,
            note(json!([{ "kind": "visit", "id": others_visit["id"] }])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(fields_of(&json_of(response).await), ["evidence[0].id"]);
    let response = app
        .post(
            &path(&approved, "/progress"),
            owner,
            json!({ "note": "x", "percent": 101 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let response = app
        .post(
            &path(&approved, "/progress"),
            owner,
            note(json!([{ "kind": "visit", "id": own_visit["id"] }])),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let entry = json_of(response).await;
    assert_eq!(entry["evidence"][0]["id"], own_visit["id"]);

    let detail = json_of(get_pledge(&app, &approved, &branch.members[1]).await).await;
    assert_eq!(detail["progress"].as_array().unwrap().len(), 1);
    assert_eq!(detail["progress"][0]["note"], "本月走访4户");
    // No approved visit yet: the measured target says 0, and facts win over the reported 40.
    assert_eq!(detail["progress_percent"], 0);

    let branch_pledge = create_ok(&app, &branch.secretary, pledge_body("branch")).await;
    let response = app
        .post(&path(&branch_pledge, "/progress"), owner, note(json!([])))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = app
        .post(
            &path(&branch_pledge, "/progress"),
            &branch.secretary,
            note(json!([{ "kind": "visit", "id": others_visit["id"] }])),
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::CREATED,
        "a branch pledge cites any visit of the branch"
    );
}

#[tokio::test]
async fn a_secretary_or_admin_fulfils_an_approved_pledge_never_their_own() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member_pledge = approved_pledge(&app, branch, &branch.members[0]).await;
    let branch_pledge = create_ok(&app, &branch.secretary, pledge_body("branch")).await;
    let pending = create_ok(&app, &branch.members[1], pledge_body("member")).await;

    let by_member = app
        .post(
            &path(&member_pledge, "/fulfil"),
            &branch.members[1],
            json!({}),
        )
        .await;
    assert_eq!(by_member.status(), StatusCode::FORBIDDEN);
    let elsewhere = app
        .post(
            &path(&member_pledge, "/fulfil"),
            &app.world.a.branches[1].secretary,
            json!({}),
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    let own = app
        .post(
            &path(&branch_pledge, "/fulfil"),
            &branch.secretary,
            json!({}),
        )
        .await;
    assert_eq!(
        own.status(),
        StatusCode::FORBIDDEN,
        "the branch's own pledge is judged by the township"
    );
    let not_yet = app
        .post(&path(&pending, "/fulfil"), &branch.secretary, json!({}))
        .await;
    assert_eq!(not_yet.status(), StatusCode::CONFLICT);

    let fulfilled = app
        .post(
            &path(&member_pledge, "/fulfil"),
            &branch.secretary,
            json!({ "note": "全年走访40次" }),
        )
        .await;
    assert_eq!(fulfilled.status(), StatusCode::OK);
    let fulfilled = json_of(fulfilled).await;
    assert_eq!(fulfilled["status"], "fulfilled");
    assert_eq!(fulfilled["fulfilment"]["note"], "全年走访40次");
    assert_eq!(fulfilled["progress_percent"], 100);
    let twice = app
        .post(
            &path(&member_pledge, "/fulfil"),
            &branch.secretary,
            json!({}),
        )
        .await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);

    let not_kept = app
        .post(
            &path(&branch_pledge, "/fulfil"),
            &app.world.a.admin,
            json!({ "outcome": "not_fulfilled", "note": "未完成" }),
        )
        .await;
    assert_eq!(not_kept.status(), StatusCode::OK);
    assert_eq!(json_of(not_kept).await["status"], "not_fulfilled");
    let seen = get_pledge(&app, &branch_pledge, &branch.members[0]).await;
    assert_eq!(
        seen.status(),
        StatusCode::OK,
        "an ended pledge stays on the wall"
    );

    let history = json_of(
        app.get(&path(&member_pledge, "/history"), &branch.secretary)
            .await,
    )
    .await;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "fulfilled");
}

#[tokio::test]
async fn only_a_township_admin_of_the_same_township_comments_and_the_owner_hears_of_it() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let owner = &branch.members[0];
    let approved = approved_pledge(&app, branch, owner).await;
    let comment = json!({ "body": "承诺具体，望抓好落实" });

    for (who, expected) in [
        (owner, StatusCode::FORBIDDEN),
        (&branch.secretary, StatusCode::FORBIDDEN),
        (&app.world.b.admin, StatusCode::NOT_FOUND),
    ] {
        let response = app
            .post(&path(&approved, "/comments"), who, comment.clone())
            .await;
        assert_eq!(response.status(), expected, "{}", who.name);
    }
    let too_long = app
        .post(
            &path(&approved, "/comments"),
            &app.world.a.admin,
            json!({ "body": "评".repeat(501) }),
        )
        .await;
    assert_eq!(too_long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .post(&path(&approved, "/comments"), &app.world.a.admin, comment)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let made = json_of(response).await;
    assert_eq!(made["author_id"], app.world.a.admin.id.to_string());

    let detail = json_of(get_pledge(&app, &approved, &branch.members[1]).await).await;
    assert_eq!(detail["leader_comments"][0]["body"], "承诺具体，望抓好落实");
    assert_eq!(detail["comment_count"], 1);
    assert_eq!(wall(&app, owner, "").await[0]["comment_count"], 1);

    let note = notification_of(&app, owner, "pledge.commented").await;
    assert_eq!(note["title"], "领导点评了您的承诺");
    assert!(note["body"].as_str().unwrap().contains("望抓好落实"));
    assert_eq!(
        note["subject"],
        json!({ "kind": "pledge", "id": approved["id"] })
    );
    let reviewed = notification_of(&app, owner, "pledge.reviewed").await;
    assert_eq!(reviewed["title"], "承诺已通过审核");
    notification_of(&app, &branch.secretary, "pledge.submitted").await;
}

#[tokio::test]
async fn the_branch_rates_others_published_pledges_once_each_replacing_on_repeat() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let (owner, rater) = (&branch.members[0], &branch.members[1]);
    let approved = approved_pledge(&app, branch, owner).await;
    let pending = create_ok(&app, rater, pledge_body("member")).await;

    for (who, expected) in [
        (owner, StatusCode::FORBIDDEN),
        (&app.world.a.admin, StatusCode::FORBIDDEN),
        (&app.world.a.branches[1].members[0], StatusCode::NOT_FOUND),
        (&app.world.b.branches[0].members[0], StatusCode::NOT_FOUND),
    ] {
        let response = put_rating(&app, &approved, who, json!({ "score": 4 })).await;
        assert_eq!(response.status(), expected, "{}", who.name);
    }
    let response = put_rating(&app, &pending, &branch.secretary, json!({ "score": 4 })).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    for bad in [
        json!({ "score": 0 }),
        json!({ "score": 6 }),
        json!({ "score": 3, "comment": "评".repeat(501) }),
    ] {
        let response = put_rating(&app, &approved, rater, bad).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    let first = json_of(
        put_rating(
            &app,
            &approved,
            rater,
            json!({ "score": 4, "comment": "为群众办实事" }),
        )
        .await,
    )
    .await;
    assert_eq!(first["rating"], json!({ "average": 4.0, "count": 1 }));
    let second =
        json_of(put_rating(&app, &approved, &branch.secretary, json!({ "score": 5 })).await).await;
    assert_eq!(second["rating"], json!({ "average": 4.5, "count": 2 }));
    let replaced = put_rating(&app, &approved, rater, json!({ "score": 2 })).await;
    assert_eq!(replaced.status(), StatusCode::OK);
    assert_eq!(
        json_of(replaced).await["rating"],
        json!({ "average": 3.5, "count": 2 })
    );

    let detail = json_of(get_pledge(&app, &approved, owner).await).await;
    assert_eq!(detail["rating"], json!({ "average": 3.5, "count": 2 }));
    let ratings = detail["ratings"].as_array().unwrap();
    assert_eq!(ratings.len(), 2);
    let by_rater = ratings
        .iter()
        .find(|r| r["rater_id"] == rater.id.to_string())
        .unwrap();
    assert_eq!(by_rater["score"], 2);
    assert_eq!(by_rater["rater_name"], rater.name);
    assert!(by_rater.get("phone").is_none());
    assert!(
        !detail.to_string().contains(&rater.phone),
        "no rater's phone anywhere"
    );
    assert_eq!(
        wall(
            &app,
            owner,
            &format!("?member_id={}&status=approved", owner.id)
        )
        .await[0]["rating"]["count"],
        2
    );

    let note = notification_of(&app, owner, "pledge.rated").await;
    assert_eq!(note["title"], "您的承诺收到群众评议");
}

/// A tiny lossless WebP; `salt` varies its bytes.
fn webp(salt: u8) -> Vec<u8> {
    let mut webp = b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0".to_vec();
    webp.extend([
        0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, salt,
    ]);
    webp
}

#[tokio::test]
async fn a_progress_photo_is_seen_by_whoever_may_read_the_pledge() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let owner = &branch.members[0];
    let approved = approved_pledge(&app, branch, owner).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(webp(7))
            .file_name("photo.webp")
            .mime_str("image/webp")
            .unwrap(),
    );
    let upload = app
        .request(Method::POST, "/api/v1/uploads", Some(owner))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert!(upload.status().is_success(), "{}", upload.status());
    let photo_id = json_of(upload).await["id"].as_str().unwrap().to_owned();
    let photo = format!("/api/v1/uploads/{photo_id}");
    assert_eq!(
        app.get(&photo, &branch.members[1]).await.status(),
        StatusCode::NOT_FOUND
    );

    let by_other = app
        .post(
            &path(&approved, "/progress"),
            owner,
            json!({ "note": "送去米面油", "photo_ids": [Uuid::now_v7()] }),
        )
        .await;
    assert_eq!(by_other.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = app
        .post(
            &path(&approved, "/progress"),
            owner,
            json!({ "note": "送去米面油", "photo_ids": [photo_id] }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);

    assert_eq!(
        app.get(&photo, &branch.members[1]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get(&photo, &app.world.a.branches[1].members[0])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn member_pledges_wait_in_the_review_queue_and_are_bulk_approved() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let pledge = create_ok(&app, &branch.members[0], pledge_body("member")).await;
    let id = pledge["id"].as_str().unwrap();

    let queue = json_of(app.get("/api/v1/reviews", &branch.secretary).await).await;
    let bulk = json_of(
        app.post(
            "/api/v1/reviews/bulk",
            &branch.secretary,
            json!({ "decision": "approve", "items": [{ "subject_kind": "pledge", "subject_id": id }] }),
        )
        .await,
    )
    .await;
    let after = json_of(get_pledge(&app, &pledge, &branch.members[1]).await).await;

    assert_eq!(queue["items"][0]["subject_kind"], "pledge");
    assert_eq!(queue["items"][0]["subject_id"], id);
    assert_eq!(
        queue["items"][0]["submitted_by"],
        branch.members[0].id.to_string()
    );
    assert_eq!(bulk["results"][0]["review_status"], "approved");
    assert_eq!(after["status"], "approved");
}

/// A mediation report by `member`, decided by the secretary when `decision` is given.
async fn report_by(
    app: &TestApp,
    branch: &Branch,
    member: &user::Model,
    decision: Option<&str>,
) -> Value {
    let response = app
        .post(
            "/api/v1/mediation-reports",
            member,
            json!({
                "title": "邻里纠纷", "category": "neighbourhood", "parties": [{ "name": "张某" }],
                "description": "争执", "occurred_at": Utc::now().to_rfc3339(), "process": "调解",
                "outcome": "resolved", "agreement": "和解", "risk_level": "low"
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let report = json_of(response).await;
    if let Some(decision) = decision {
        let id = report["id"].as_str().unwrap();
        let response = app
            .post(
                &format!("/api/v1/mediation-reports/{id}/review"),
                &branch.secretary,
                json!({ "decision": decision, "comment": "意见" }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    report
}

#[tokio::test]
async fn a_target_measured_from_mediation_reports_counts_the_owners_approved_ones() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let owner = &branch.members[0];
    let mut body = pledge_body("member");
    body["targets"] = json!([
        { "description": "调解纠纷4件", "metric": { "metric": "mediation_reports", "count": 4 } }
    ]);
    let pledge = create_ok(&app, owner, body).await;
    let approved = review(
        &app,
        &branch.secretary,
        &pledge["id"],
        json!({ "decision": "approve" }),
    )
    .await;
    assert_eq!(approved.status(), StatusCode::OK);
    let own = report_by(&app, branch, owner, Some("approve")).await;
    report_by(&app, branch, owner, Some("approve")).await;
    report_by(&app, branch, owner, None).await;
    report_by(&app, branch, &branch.members[1], Some("approve")).await;

    let detail = json_of(get_pledge(&app, &pledge, owner).await).await;
    let cited = app
        .post(
            &path(&pledge, "/progress"),
            owner,
            json!({ "note": "调解两起纠纷", "evidence": [{ "kind": "mediation_report", "id": own["id"] }] }),
        )
        .await;

    assert_eq!(
        detail["targets"][0]["achieved"], 2,
        "approved and the owner's only"
    );
    assert_eq!(detail["progress_percent"], 50);
    assert_eq!(cited.status(), StatusCode::CREATED);
}
