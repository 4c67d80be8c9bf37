//! The year-end assessment: schemes and their weights, ballot rounds, the
//! score against a hand-computed example, frozen and versioned snapshots,
//! appeals, and commendations.

use chrono::{Datelike, Duration, Utc};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;
use xianfeng::entities::{assessment_round, assessment_snapshot, audit_log, pledge};

fn year() -> i32 {
    Utc::now().year()
}

/// 党员代表测评 40, 任职承诺 30, 乡党委综合评定 30; members on the 五个模范.
fn scheme_body() -> Value {
    json!({
        "year": year(),
        "branch_components": [
            {"kind": "representative_ballot", "weight": 40},
            {"kind": "pledge_fulfilment", "weight": 30},
            {"kind": "committee_rating", "weight": 30}
        ],
        "member_components": [
            {"kind": "secretary_rating", "weight": 50},
            {"kind": "peer_rating", "weight": 30},
            {"kind": "member_visits", "weight": 20}
        ]
    })
}

fn marks(m: [i32; 5]) -> Value {
    json!({"leadership": m[0], "membership": m[1], "mechanism": m[2], "performance": m[3], "reputation": m[4]})
}

fn model_marks(m: [i32; 5]) -> Value {
    json!({"study": m[0], "policy": m[1], "service": m[2], "dedication": m[3], "discipline": m[4]})
}

async fn create_scheme(app: &TestApp) -> String {
    let response = app
        .post("/api/v1/assessments", &app.world.a.admin, scheme_body())
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await["id"].as_str().unwrap().to_owned()
}

async fn open_round(app: &TestApp, assessment: &str) -> String {
    let closes = (Utc::now() + Duration::days(3)).to_rfc3339();
    let response = app
        .post(
            &format!("/api/v1/assessments/{assessment}/rounds"),
            &app.world.a.admin,
            json!({ "closes_at": closes }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await["id"].as_str().unwrap().to_owned()
}

async fn vote(
    app: &TestApp,
    round: &str,
    voter: &xianfeng::entities::user::Model,
    branch: Uuid,
    body_marks: [i32; 5],
) -> reqwest::Response {
    app.post(
        &format!("/api/v1/assessment-rounds/{round}/ballots"),
        voter,
        json!({ "branch_id": branch, "scores": marks(body_marks) }),
    )
    .await
}

/// Published branch pledges of the year: `fulfilled` of them fulfilled, the
/// rest judged not fulfilled.
async fn branch_pledges(app: &TestApp, branch: &Branch, fulfilled: usize, not_fulfilled: usize) {
    let actor = xianfeng::core::Actor {
        user_id: branch.secretary.id,
        township_id: branch.branch.township_id,
        branch_id: Some(branch.branch.id),
        role: xianfeng::domain::Role::Secretary,
        request_id: None,
    };
    for i in 0..fulfilled + not_fulfilled {
        let content = xianfeng::features::pledges::dto::PledgeContent::parse(
            year(),
            "任职承诺",
            "修通村道",
            vec![xianfeng::domain::pledge::Target {
                description: "完成".into(),
                due_date: None,
                metric: None,
            }],
            None,
            None,
        )
        .unwrap();
        let made = xianfeng::features::pledges::repo::insert(
            &app.db,
            &actor,
            branch.branch.id,
            xianfeng::domain::PledgeScope::Branch,
            &content,
            xianfeng::platform::db::now(),
        )
        .await
        .unwrap();
        let status = if i < fulfilled {
            "fulfilled"
        } else {
            "not_fulfilled"
        };
        pledge::Entity::update_many()
            .col_expr(pledge::Column::Status, Expr::value(status))
            .filter(pledge::Column::Id.eq(made.id))
            .exec(&app.db)
            .await
            .unwrap();
    }
}

async fn rate(app: &TestApp, assessment: &str, ratings: Value) {
    let response = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/assessments/{assessment}/committee-ratings"),
            Some(&app.world.a.admin),
        )
        .json(&json!({ "ratings": ratings }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

async fn compute(app: &TestApp, assessment: &str) -> Value {
    let response = app
        .post(
            &format!("/api/v1/assessments/{assessment}/snapshots"),
            &app.world.a.admin,
            json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await
}

async fn publish(app: &TestApp, snapshot: &str) {
    let response = app
        .post(
            &format!("/api/v1/assessment-snapshots/{snapshot}/publish"),
            &app.world.a.admin,
            json!({ "appeal_days": 7 }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

async fn branch_results(app: &TestApp, snapshot: &str) -> Vec<Value> {
    let list = json_of(
        app.get(
            &format!("/api/v1/assessment-snapshots/{snapshot}/results?subject=branch"),
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    list["items"].as_array().unwrap().clone()
}

/// Both branches of 甲乡 set up as in the domain's hand-computed example,
/// with a round open; answers (assessment, round).
async fn example(app: &TestApp) -> (String, String) {
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let assessment = create_scheme(app).await;
    let round = open_round(app, &assessment).await;
    // First branch: one ballot, marks 4+4+4+5+4 = 21 over 5 → mean 4.2.
    assert_eq!(
        vote(
            app,
            &round,
            &first.secretary,
            first.branch.id,
            [4, 4, 4, 5, 4]
        )
        .await
        .status(),
        StatusCode::CREATED
    );
    // Second branch: 25 + 21 = 46 over 10 marks → mean 4.6.
    for (voter, m) in [
        (&second.members[0], [5, 5, 5, 5, 5]),
        (&second.members[1], [5, 5, 4, 4, 3]),
    ] {
        assert_eq!(
            vote(app, &round, voter, second.branch.id, m).await.status(),
            StatusCode::CREATED
        );
    }
    // Pledges: 3 of 4 fulfilled → 75 %; 1 of 2 → 50 %.
    branch_pledges(app, first, 3, 1).await;
    branch_pledges(app, second, 1, 1).await;
    rate(
        app,
        &assessment,
        json!([
            {"branch_id": first.branch.id, "points": 90},
            {"branch_id": second.branch.id, "points": 85, "comment": "群众满意度较高"}
        ]),
    )
    .await;
    (assessment, round)
}

#[tokio::test]
async fn weights_must_sum_to_exactly_one_hundred() {
    let app = spawn_app().await;
    let mut body = scheme_body();
    body["branch_components"][2]["weight"] = json!(29.99);
    body["member_components"][0]["kind"] = json!("committee_rating");
    let response = app
        .post("/api/v1/assessments", &app.world.a.admin, body)
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let details = json_of(response).await["error"]["details"].clone();
    let named: Vec<(String, String)> = details
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["field"].as_str().unwrap().to_owned(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(named.contains(&("branch_components".into(), "weights_sum".into())));
    assert!(named.contains(&("member_components[0].kind".into(), "wrong_subject".into())));

    // Secretaries do not set schemes; a good one is made once a year.
    let secretary = &app.world.a.branches[0].secretary;
    assert_eq!(
        app.post("/api/v1/assessments", secretary, scheme_body())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let id = create_scheme(&app).await;
    let again = app
        .post("/api/v1/assessments", &app.world.a.admin, scheme_body())
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "conflict");

    // Changing the weights checks them the same way.
    let bad = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/assessments/{id}/components"),
            Some(&app.world.a.admin),
        )
        .json(&json!({
            "branch_components": [{"kind": "committee_rating", "weight": 100}],
            "member_components": [{"kind": "peer_rating", "weight": 100.5}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(bad).await;
    assert_eq!(
        body["error"]["details"][0]["field"],
        "member_components[0].weight"
    );
}

#[tokio::test]
async fn the_score_is_the_hand_computed_example() {
    let app = spawn_app().await;
    let (assessment, _) = example(&app).await;

    let snapshot = compute(&app, &assessment).await;
    assert_eq!(snapshot["version"], 1);
    let results = branch_results(&app, snapshot["id"].as_str().unwrap()).await;

    // 0.4 × 80 + 0.3 × 75 + 0.3 × 90 = 32 + 22.5 + 27 = 81.5
    // 0.4 × 90 + 0.3 × 50 + 0.3 × 85 = 36 + 15 + 25.5 = 76.5
    let first = &results[0];
    assert_eq!(
        first["branch_id"],
        app.world.a.branches[0].branch.id.to_string()
    );
    assert_eq!(first["rank"], 1);
    assert_eq!(first["total"], 81.5);
    let parts: Vec<(String, f64, f64, f64, f64)> = first["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["weight"].as_f64().unwrap(),
                c["raw"].as_f64().unwrap(),
                c["normalised"].as_f64().unwrap(),
                c["contribution"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            ("representative_ballot".into(), 40.0, 4.2, 80.0, 32.0),
            ("pledge_fulfilment".into(), 30.0, 0.75, 75.0, 22.5),
            ("committee_rating".into(), 30.0, 90.0, 90.0, 27.0),
        ]
    );
    assert_eq!(first["components"][0]["detail"]["ballots"], 1);
    assert_eq!(
        first["components"][0]["detail"]["criteria"]["performance"],
        5.0
    );
    assert_eq!(first["components"][0]["rule"], "(mean - 1) / 4 * 100");
    let second = &results[1];
    assert_eq!(second["rank"], 2);
    assert_eq!(second["total"], 76.5);
    assert_eq!(second["components"][0]["raw"], 4.6);
    assert_eq!(second["components"][0]["detail"]["ballots"], 2);
}

#[tokio::test]
async fn one_ballot_per_member_per_round_for_their_own_branch_while_open() {
    let app = spawn_app().await;
    let (own, other) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let assessment = create_scheme(&app).await;
    let round = open_round(&app, &assessment).await;
    let voter = &own.members[0];
    let path = format!("/api/v1/assessment-rounds/{round}/ballots");
    let body = json!({
        "branch_id": own.branch.id,
        "scores": marks([5, 4, 4, 5, 4]),
        "member_ratings": [{"member_id": own.members[1].id, "scores": model_marks([5, 5, 4, 4, 5])}]
    });

    // Another branch is out of reach; the office does not vote.
    assert_eq!(
        vote(&app, &round, voter, other.branch.id, [5; 5])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        vote(&app, &round, &app.world.a.admin, own.branch.id, [5; 5])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Marks are 1 to 5; nobody rates themselves.
    for (marks_sent, rated, field) in [
        ([5, 5, 5, 5, 6], own.members[1].id, "scores.reputation"),
        ([5, 5, 5, 5, 5], voter.id, "member_ratings[0].member_id"),
        (
            [5, 5, 5, 5, 5],
            other.members[0].id,
            "member_ratings[0].member_id",
        ),
    ] {
        let refused = app
            .post(
                &path,
                voter,
                json!({"branch_id": own.branch.id, "scores": marks(marks_sent),
                       "member_ratings": [{"member_id": rated, "scores": model_marks([5; 5])}]}),
            )
            .await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            json_of(refused).await["error"]["details"][0]["field"],
            field
        );
    }

    // One ballot: a retry with its key answers the same; a second is 409.
    let key = Uuid::now_v7().to_string();
    let first = app
        .request(reqwest::Method::POST, &path, Some(voter))
        .header("Idempotency-Key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let receipt = json_of(first).await;
    assert!(
        !receipt.to_string().contains(&voter.id.to_string()),
        "the receipt names no voter"
    );
    let retry = app
        .request(reqwest::Method::POST, &path, Some(voter))
        .header("Idempotency-Key", &key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(json_of(retry).await, receipt);
    let second = app.post(&path, voter, body.clone()).await;
    assert_eq!(second.status(), StatusCode::CONFLICT);
    assert_eq!(
        json_of(second).await["error"]["details"][0]["code"],
        "already_voted"
    );
    let rounds = json_of(
        app.get(&format!("/api/v1/assessments/{assessment}/rounds"), voter)
            .await,
    )
    .await;
    assert_eq!(rounds["items"][0]["voted"], true);
    assert_eq!(rounds["items"][0]["ballots_cast"], Value::Null);

    // Only while open: a round that closed, and one not yet open.
    assessment_round::Entity::update_many()
        .col_expr(
            assessment_round::Column::ClosesAt,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(assessment_round::Column::Id.eq(round.parse::<Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    let late = vote(&app, &round, &own.members[1], own.branch.id, [3; 5]).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(
        json_of(late).await["error"]["details"][0]["code"],
        "round_not_open"
    );
    let later = app
        .post(
            &format!("/api/v1/assessments/{assessment}/rounds"),
            &app.world.a.admin,
            json!({"opens_at": (Utc::now() + Duration::days(1)).to_rfc3339(),
                   "closes_at": (Utc::now() + Duration::days(2)).to_rfc3339()}),
        )
        .await;
    let later = json_of(later).await["id"].as_str().unwrap().to_owned();
    assert_eq!(
        vote(&app, &later, &own.members[1], own.branch.id, [3; 5])
            .await
            .status(),
        StatusCode::CONFLICT
    );

    // The secretary reads the branch's and the members' marks, never whose.
    let snapshot = compute(&app, &assessment).await;
    let id = snapshot["id"].as_str().unwrap();
    publish(&app, id).await;
    let seen = json_of(
        app.get(
            &format!("/api/v1/assessment-snapshots/{id}/results"),
            &own.secretary,
        )
        .await,
    )
    .await;
    let rated = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject_id"] == own.members[1].id.to_string())
        .unwrap();
    assert_eq!(rated["components"][1]["kind"], "peer_rating");
    assert_eq!(rated["components"][1]["raw"], 4.6);
    let branch_row = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["subject_kind"] == "branch")
        .unwrap();
    assert!(!branch_row.to_string().contains(&voter.id.to_string()));
}

#[tokio::test]
async fn snapshots_are_frozen_and_a_recomputation_is_the_next_version() {
    let app = spawn_app().await;
    let (assessment, _) = example(&app).await;
    let own = &app.world.a.branches[0];
    let v1 = compute(&app, &assessment).await;
    let v1_id = v1["id"].as_str().unwrap().to_owned();
    let before = branch_results(&app, &v1_id).await;

    // A draft is the admins' alone.
    assert_eq!(
        app.get(
            &format!("/api/v1/assessment-snapshots/{v1_id}/results"),
            &own.secretary
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );

    // The committee changes its mind; v1 does not move, v2 has the new figure.
    rate(
        &app,
        &assessment,
        json!([{"branch_id": own.branch.id, "points": 50}]),
    )
    .await;
    assert_eq!(branch_results(&app, &v1_id).await, before);
    let v2 = compute(&app, &assessment).await;
    assert_eq!(v2["version"], 2);
    let after = branch_results(&app, v2["id"].as_str().unwrap()).await;
    // 32 + 22.5 + 0.3 × 50 = 69.5: now second behind 76.5.
    let own_row = after
        .iter()
        .find(|r| r["branch_id"] == own.branch.id.to_string())
        .unwrap();
    assert_eq!(own_row["total"], 69.5);
    assert_eq!(own_row["rank"], 2);
    assert_eq!(before[0]["total"], 81.5);
    let versions = json_of(
        app.get(
            &format!("/api/v1/assessments/{assessment}/snapshots"),
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let listed: Vec<i64> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["version"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [2, 1]);

    // Published, a secretary reads their own branch's rows only.
    publish(&app, &v1_id).await;
    let again = app
        .post(
            &format!("/api/v1/assessment-snapshots/{v1_id}/publish"),
            &app.world.a.admin,
            json!({}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let seen = json_of(
        app.get(
            &format!("/api/v1/assessment-snapshots/{v1_id}/results"),
            &own.secretary,
        )
        .await,
    )
    .await;
    let rows = seen["items"].as_array().unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r["branch_id"] == own.branch.id.to_string())
    );
    assert_eq!(
        app.get(
            &format!(
                "/api/v1/assessment-snapshots/{v1_id}/results?branch_id={}",
                app.world.a.branches[1].branch.id
            ),
            &own.secretary
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    // A member reads their own score.
    let mine = json_of(
        app.get(
            &format!("/api/v1/assessment-snapshots/{v1_id}/results"),
            &own.members[0],
        )
        .await,
    )
    .await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        mine["items"][0]["subject_id"],
        own.members[0].id.to_string()
    );
}

#[tokio::test]
async fn a_branch_objects_within_the_window_and_the_township_answers() {
    let app = spawn_app().await;
    let (assessment, _) = example(&app).await;
    let (own, other) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let snapshot = compute(&app, &assessment).await;
    let id = snapshot["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/assessment-snapshots/{id}/appeals");
    let reason = json!({"reason": "本支部承诺事项已于12月完成，未计入"});

    // Not published: nothing to object to yet.
    assert_eq!(
        app.post(&path, &own.secretary, reason.clone())
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    publish(&app, &id).await;
    assert_eq!(
        app.post(&path, &own.members[0], reason.clone())
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let filed = app.post(&path, &own.secretary, reason.clone()).await;
    assert_eq!(filed.status(), StatusCode::CREATED);
    let appeal = json_of(filed).await;
    assert_eq!(appeal["branch_id"], own.branch.id.to_string());
    let twice = app.post(&path, &own.secretary, reason.clone()).await;
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert_eq!(
        json_of(twice).await["error"]["details"][0]["code"],
        "already_appealed"
    );
    // The other branch's secretary does not see it.
    let theirs = json_of(app.get(&path, &other.secretary).await).await;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 0);

    let answer_path = format!(
        "/api/v1/assessment-appeals/{}/answer",
        appeal["id"].as_str().unwrap()
    );
    assert_eq!(
        app.post(&answer_path, &own.secretary, json!({"answer": "自己答复"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let answered = app
        .post(
            &answer_path,
            &app.world.a.admin,
            json!({"answer": "经复核，维持原结果"}),
        )
        .await;
    assert_eq!(answered.status(), StatusCode::OK);
    assert_eq!(json_of(answered).await["answer"], "经复核，维持原结果");
    assert_eq!(
        app.post(&answer_path, &app.world.a.admin, json!({"answer": "再答"}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let mine = json_of(app.get(&path, &own.secretary).await).await;
    assert_eq!(mine["items"][0]["answer"], "经复核，维持原结果");

    // After the window: 409.
    assessment_snapshot::Entity::update_many()
        .col_expr(
            assessment_snapshot::Column::AppealUntil,
            Expr::value(Utc::now() - Duration::minutes(1)),
        )
        .filter(assessment_snapshot::Column::Id.eq(id.parse::<Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();
    let late = app.post(&path, &other.secretary, reason).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(
        json_of(late).await["error"]["details"][0]["code"],
        "appeal_window_closed"
    );
}

#[tokio::test]
async fn an_override_of_the_ranking_must_carry_its_reason() {
    let app = spawn_app().await;
    let (assessment, _) = example(&app).await;
    let (first, second) = (&app.world.a.branches[0], &app.world.a.branches[1]);
    let snapshot = compute(&app, &assessment).await;
    let id = snapshot["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/assessment-snapshots/{id}/commendations");
    let confirm = json!({"secretaries": 1, "branches": 1, "members": 0});
    assert_eq!(
        app.post(&path, &app.world.a.admin, confirm.clone())
            .await
            .status(),
        StatusCode::CONFLICT,
        "not published yet"
    );
    publish(&app, &id).await;

    let proposal = json_of(
        app.get(
            &format!("{path}/proposal?secretaries=1&branches=1&members=0"),
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let proposed: Vec<(String, String)> = proposal["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["title"].as_str().unwrap().to_owned(),
                e["subject_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        proposed,
        [
            (
                "outstanding_secretary".into(),
                first.secretary.id.to_string()
            ),
            ("advanced_branch".into(), first.branch.id.to_string()),
        ]
    );

    // The committee swaps the second branch's secretary in: without a reason, 422.
    let mut swap = confirm.clone();
    swap["overrides"] = json!([
        {"title": "outstanding_secretary", "subject_id": first.secretary.id, "action": "remove", "reason": "已调任乡机关"},
        {"title": "outstanding_secretary", "subject_id": second.secretary.id, "action": "add"}
    ]);
    let refused = app.post(&path, &app.world.a.admin, swap.clone()).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let details = json_of(refused).await["error"]["details"].clone();
    assert_eq!(details[0]["field"], "overrides[1].reason");
    assert_eq!(details[0]["code"], "override_needs_reason");

    swap["overrides"][1]["reason"] = json!("带领群众抗洪抢险，表现突出");
    let confirmed = app.post(&path, &app.world.a.admin, swap.clone()).await;
    assert_eq!(confirmed.status(), StatusCode::CREATED);
    let list = json_of(confirmed).await;
    assert_eq!(list["removed"][0]["reason"], "已调任乡机关");
    let secretary_entry = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["title"] == "outstanding_secretary")
        .unwrap();
    assert_eq!(
        secretary_entry["subject_id"],
        second.secretary.id.to_string()
    );
    assert_eq!(
        secretary_entry["override_reason"],
        "带领群众抗洪抢险，表现突出"
    );
    assert_eq!(
        app.post(&path, &app.world.a.admin, swap).await.status(),
        StatusCode::CONFLICT,
        "confirmed once"
    );
    let audited = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq("assessment.commendations_confirmed"))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert!(audited.after.unwrap().to_string().contains("已调任乡机关"));

    // Everyone reads the list; admins print it.
    let read = json_of(app.get(&path, &first.members[0]).await).await;
    assert_eq!(read["items"].as_array().unwrap().len(), 2);
    let certificates = json_of(
        app.get(&format!("{path}/certificates"), &app.world.a.admin)
            .await,
    )
    .await;
    let citations: Vec<&str> = certificates["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["citation"].as_str().unwrap())
        .collect();
    assert!(
        citations.contains(
            &format!(
                "授予{}同志{}年度“优秀党支部书记”称号",
                second.secretary.name,
                year()
            )
            .as_str()
        )
    );
    assert!(
        citations.contains(
            &format!(
                "授予{}{}年度“先进基层党组织”称号",
                first.branch.name,
                year()
            )
            .as_str()
        )
    );
    let export = app.get(&format!("{path}/export"), &app.world.a.admin).await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(
        export.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        app.get(&format!("{path}/export"), &first.secretary)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
}
