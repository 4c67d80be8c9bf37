//! Mediation reports: validation, escalation on submission and by hand, the
//! township's handling of escalations, follow-ups and their due dates (with
//! an injected clock), masking of parties' phones, idempotency, history, the
//! review queue and the CSV export.

use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::entities::{mediation_report, outbox_event, user};

use crate::helpers::*;

const PARTY_PHONE: &str = "13912345678";

fn report_body() -> Value {
    json!({
        "title": "张家与李家宅基地边界纠纷",
        "category": "land",
        "parties": [
            { "name": "张某", "role": "申请人", "phone": PARTY_PHONE },
            { "name": "李某", "role": "被申请人" }
        ],
        "description": "两户因院墙位置发生争执，多次口角。",
        "occurred_at": Utc::now().to_rfc3339(),
        "location": { "lat": 30.2741, "lng": 120.1551 },
        "process": "邀请村民小组长到场，查阅原始登记，双方协商。",
        "outcome": "resolved",
        "agreement": "以登记界址为准，院墙后移 0.3 米。",
        "risk_level": "low"
    })
}

fn unresolved_body() -> Value {
    let mut body = report_body();
    body["outcome"] = json!("unresolved");
    body["agreement"] = Value::Null;
    body["risk_level"] = json!("medium");
    body
}

async fn file(app: &TestApp, author: &user::Model, body: Value) -> Value {
    let response = app.post("/api/v1/mediation-reports", author, body).await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json_of(response).await
}

fn id_of(report: &Value) -> String {
    report["id"].as_str().unwrap().to_owned()
}

fn time_of(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn outbox_count(app: &TestApp, kind: &str) -> u64 {
    outbox_event::Entity::find()
        .filter(outbox_event::Column::Kind.eq(kind))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_settled_low_risk_report_is_pending_and_stays_with_the_branch() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let report = file(&app, &branch.members[0], report_body()).await;

    assert_eq!(report["status"], "pending");
    assert_eq!(report["branch_id"], branch.branch.id.to_string());
    assert_eq!(report["member_id"], branch.members[0].id.to_string());
    assert_eq!(report["escalated"], false);
    assert!(report["escalation"].is_null());
    assert!(report["follow_up_due_at"].is_null());
    assert_eq!(report["latest_outcome"], "resolved");
    assert_eq!(
        report["parties"][0]["phone"], PARTY_PHONE,
        "the author sees it whole"
    );
    assert_eq!(report["location"]["coord_system"], "gcj02");
    assert_eq!(outbox_count(&app, "mediation.submitted").await, 1);
    assert_eq!(outbox_count(&app, "mediation.escalated").await, 0);
}

#[tokio::test]
async fn bad_reports_are_422_naming_the_field() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let other_branch_household = app.world.a.branches[1].households[0].id;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("title", json!(""), "title"),
        ("title", json!("题".repeat(101)), "title"),
        ("category", json!("weather"), "category"),
        ("parties", json!([]), "parties"),
        ("parties", json!(vec![json!({"name": "某"}); 21]), "parties"),
        (
            "parties",
            json!([{ "name": "某", "phone": "12345" }]),
            "parties[0].phone",
        ),
        ("parties", json!([{ "name": "  " }]), "parties[0].name"),
        ("description", json!("述".repeat(5001)), "description"),
        ("process", json!(""), "process"),
        (
            "occurred_at",
            json!((Utc::now() + Duration::hours(1)).to_rfc3339()),
            "occurred_at",
        ),
        (
            "occurred_at",
            json!((Utc::now() - Duration::days(31)).to_rfc3339()),
            "occurred_at",
        ),
        (
            "location",
            json!({ "lat": 91.0, "lng": 120.0 }),
            "location.lat",
        ),
        (
            "household_ids",
            json!([other_branch_household]),
            "household_ids[0]",
        ),
        ("agreement", json!(null), "agreement"),
        ("agreement", json!("协".repeat(2001)), "agreement"),
        ("risk_level", json!("extreme"), "risk_level"),
        ("photo_ids", json!([Uuid::now_v7()]), "photo_ids[0]"),
    ];
    for (key, value, field) in cases {
        let mut body = report_body();
        body[key] = value;

        let response = app
            .post("/api/v1/mediation-reports", &branch.members[0], body)
            .await;

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
        assert!(fields.contains(&field), "{field}: {error}");
    }
    assert_eq!(
        mediation_report::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn township_admins_file_no_reports() {
    let app = spawn_app().await;

    let response = app
        .post(
            "/api/v1/mediation-reports",
            &app.world.a.admin,
            report_body(),
        )
        .await;

    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn unresolved_or_high_risk_reports_go_to_the_township_on_submission() {
    let app = spawn_app().await;
    let author = &app.world.a.branches[0].members[0];
    let mut high_risk = report_body();
    high_risk["risk_level"] = json!("high");

    let unresolved = file(&app, author, unresolved_body()).await;
    let risky = file(&app, author, high_risk).await;
    let calm = file(&app, author, report_body()).await;

    assert_eq!(unresolved["escalated"], true);
    assert_eq!(unresolved["escalation"]["status"], "open");
    assert_eq!(
        unresolved["escalation"]["escalated_by"],
        author.id.to_string()
    );
    assert_eq!(risky["escalated"], true);
    assert_eq!(calm["escalated"], false);
    assert_eq!(
        unresolved["status"], "pending",
        "escalation does not replace review"
    );
    assert_eq!(outbox_count(&app, "mediation.escalated").await, 2);
}

#[tokio::test]
async fn escalation_notifies_the_township_admins() {
    let app = spawn_app().await;
    let author = &app.world.a.branches[0].members[0];

    file(&app, author, unresolved_body()).await;

    for _ in 0..40 {
        let inbox = json_of(app.get("/api/v1/notifications", &app.world.a.admin).await).await;
        if let Some(item) = inbox["items"].as_array().unwrap().first() {
            assert_eq!(item["title"], "矛盾纠纷上报待处理");
            assert_eq!(item["subject"]["kind"], "mediation_report");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the admin was never told");
}

#[tokio::test]
async fn the_author_or_the_secretary_escalates_once() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let mine = id_of(&file(&app, &branch.members[0], report_body()).await);
    let theirs = id_of(&file(&app, &branch.members[1], report_body()).await);
    let reason = json!({ "reason": "双方矛盾激化" });

    let by_author = app
        .post(
            &format!("/api/v1/mediation-reports/{mine}/escalate"),
            &branch.members[0],
            reason.clone(),
        )
        .await;
    let again = app
        .post(
            &format!("/api/v1/mediation-reports/{mine}/escalate"),
            &branch.secretary,
            reason.clone(),
        )
        .await;
    let by_secretary = app
        .post(
            &format!("/api/v1/mediation-reports/{theirs}/escalate"),
            &branch.secretary,
            reason.clone(),
        )
        .await;
    let by_admin = app
        .post(
            &format!("/api/v1/mediation-reports/{theirs}/escalate"),
            &app.world.a.admin,
            reason,
        )
        .await;

    assert_eq!(by_author.status(), StatusCode::OK);
    let escalated = json_of(by_author).await;
    assert_eq!(escalated["escalation"]["reason"], "双方矛盾激化");
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "conflict");
    assert_eq!(by_secretary.status(), StatusCode::OK);
    assert_eq!(by_admin.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_member_may_not_escalate_a_branch_mates_report() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[1], report_body()).await);
    let path = format!("/api/v1/mediation-reports/{id}");
    let reason = json!({ "reason": "需要上报" });

    let while_pending = app
        .post(
            &format!("{path}/escalate"),
            &branch.members[0],
            reason.clone(),
        )
        .await;
    app.post(
        &format!("{path}/review"),
        &branch.secretary,
        json!({ "decision": "approve" }),
    )
    .await;
    let once_approved = app
        .post(&format!("{path}/escalate"), &branch.members[0], reason)
        .await;

    assert_eq!(
        while_pending.status(),
        StatusCode::NOT_FOUND,
        "not readable yet"
    );
    assert_eq!(
        once_approved.status(),
        StatusCode::FORBIDDEN,
        "readable, not theirs"
    );
}

#[tokio::test]
async fn only_admins_of_the_same_township_handle_escalations() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[0], unresolved_body()).await);
    let path = format!("/api/v1/mediation-reports/{id}/escalation");
    let acknowledge = json!({ "action": "acknowledge", "note": "已转综治中心" });

    let secretary = app
        .post(&path, &branch.secretary, acknowledge.clone())
        .await;
    let member = app
        .post(&path, &branch.members[0], acknowledge.clone())
        .await;
    let foreign_admin = app
        .post(&path, &app.world.b.admin, acknowledge.clone())
        .await;
    let admin = app
        .post(&path, &app.world.a.admin, acknowledge.clone())
        .await;
    let twice = app.post(&path, &app.world.a.admin, acknowledge).await;
    let resolved = app
        .post(
            &path,
            &app.world.a.admin,
            json!({ "action": "resolve", "note": "联合调解成功" }),
        )
        .await;
    let after = app
        .post(&path, &app.world.a.admin, json!({ "action": "resolve" }))
        .await;

    assert_eq!(secretary.status(), StatusCode::FORBIDDEN);
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
    assert_eq!(foreign_admin.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.status(), StatusCode::OK);
    let acknowledged = json_of(admin).await;
    assert_eq!(acknowledged["escalation"]["status"], "acknowledged");
    assert_eq!(
        acknowledged["escalation"]["acknowledged_by"],
        app.world.a.admin.id.to_string()
    );
    assert!(acknowledged["escalation"]["acknowledged_at"].is_string());
    assert_eq!(twice.status(), StatusCode::CONFLICT);
    assert_eq!(resolved.status(), StatusCode::OK);
    let resolved = json_of(resolved).await;
    assert_eq!(resolved["escalation"]["status"], "resolved");
    assert_eq!(resolved["escalation"]["note"], "联合调解成功");
    assert_eq!(
        resolved["escalation"]["resolved_by"],
        app.world.a.admin.id.to_string()
    );
    assert_eq!(after.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_report_never_escalated_cannot_be_handled() {
    let app = spawn_app().await;
    let id = id_of(&file(&app, &app.world.a.branches[0].members[0], report_body()).await);

    let response = app
        .post(
            &format!("/api/v1/mediation-reports/{id}/escalation"),
            &app.world.a.admin,
            json!({ "action": "resolve" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CONFLICT);
    let error = json_of(response).await;
    assert_eq!(
        error["error"]["details"][0]["code"], "not_escalated",
        "{error}"
    );
}

#[tokio::test]
async fn the_township_sees_open_escalations_first_and_oldest_first() {
    let app = spawn_app().await;
    let a0 = &app.world.a.branches[0];
    let a1 = &app.world.a.branches[1];
    let first = id_of(&file(&app, &a0.members[0], unresolved_body()).await);
    let second = id_of(&file(&app, &a1.members[0], unresolved_body()).await);
    let third = id_of(&file(&app, &a0.members[1], unresolved_body()).await);
    file(&app, &app.world.b.branches[0].members[0], unresolved_body()).await;
    app.post(
        &format!("/api/v1/mediation-reports/{first}/escalation"),
        &app.world.a.admin,
        json!({ "action": "acknowledge" }),
    )
    .await;

    let list = json_of(app.get("/api/v1/escalations", &app.world.a.admin).await).await;
    let open_only = json_of(
        app.get(
            "/api/v1/escalations?status=open&limit=1",
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let by_secretary = app.get("/api/v1/escalations", &a0.secretary).await;

    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second.as_str(), third.as_str(), first.as_str()]);
    assert_eq!(open_only["items"].as_array().unwrap().len(), 1);
    assert!(open_only["next_cursor"].is_string());
    assert_eq!(by_secretary.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn follow_ups_move_the_due_date_until_the_dispute_is_settled() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let report = file(&app, &branch.members[0], unresolved_body()).await;
    let id = id_of(&report);
    let due = time_of(&report["follow_up_due_at"]);
    let received = time_of(&report["received_at"]);
    assert_eq!(due - received, Duration::days(7), "the default interval");
    let path = format!("/api/v1/mediation-reports/{id}/follow-ups");
    let visited = Utc::now() - Duration::days(1);

    let partial = app
        .post(
            &path,
            &branch.secretary,
            json!({ "visited_at": visited.to_rfc3339(), "note": "双方愿意再谈", "outcome": "partially_resolved", "satisfaction": 3 }),
        )
        .await;
    let after_partial = json_of(
        app.get(
            &format!("/api/v1/mediation-reports/{id}"),
            &branch.members[0],
        )
        .await,
    )
    .await;
    let settled = app
        .post(
            &path,
            &branch.members[0],
            json!({ "visited_at": Utc::now().to_rfc3339(), "note": "已按协议履行", "outcome": "resolved", "satisfaction": 5 }),
        )
        .await;
    let after_settled = json_of(
        app.get(
            &format!("/api/v1/mediation-reports/{id}"),
            &branch.members[0],
        )
        .await,
    )
    .await;
    let follow_ups = json_of(app.get(&path, &branch.members[0]).await).await;

    assert_eq!(partial.status(), StatusCode::CREATED);
    assert_eq!(json_of(partial).await["satisfaction"], 3);
    let next_due = time_of(&after_partial["follow_up_due_at"]);
    assert!(
        (next_due - (visited + Duration::days(7)))
            .num_seconds()
            .abs()
            < 2
    );
    assert_eq!(after_partial["latest_outcome"], "partially_resolved");
    assert_eq!(
        after_partial["outcome"], "unresolved",
        "the reported outcome stays"
    );
    assert_eq!(settled.status(), StatusCode::CREATED);
    assert!(after_settled["follow_up_due_at"].is_null());
    assert_eq!(after_settled["follow_up_overdue"], false);
    assert_eq!(after_settled["latest_outcome"], "resolved");
    assert_eq!(after_settled["follow_up_count"], 2);
    assert_eq!(follow_ups.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn follow_ups_are_checked_and_limited_to_author_and_secretary() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[0], unresolved_body()).await);
    let path = format!("/api/v1/mediation-reports/{id}/follow-ups");
    let good =
        json!({ "visited_at": Utc::now().to_rfc3339(), "note": "回访", "outcome": "unresolved" });
    let mut bad_score = good.clone();
    bad_score["satisfaction"] = json!(6);
    let mut no_note = good.clone();
    no_note["note"] = json!(" ");

    let score = app.post(&path, &branch.members[0], bad_score).await;
    let note = app.post(&path, &branch.members[0], no_note).await;
    let other_secretary = app
        .post(&path, &app.world.a.branches[1].secretary, good.clone())
        .await;
    let admin = app.post(&path, &app.world.a.admin, good).await;

    assert_eq!(score.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(score).await["error"]["details"][0]["field"],
        "satisfaction"
    );
    assert_eq!(note.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other_secretary.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_township_sets_its_own_follow_up_interval() {
    let app = spawn_app().await;
    let settings = app
        .patch(
            "/api/v1/township",
            &app.world.a.admin,
            json!({ "settings": { "mediation": { "follow_up_days": 3 } } }),
        )
        .await;
    assert_eq!(settings.status(), StatusCode::OK);
    let out_of_range = app
        .patch(
            "/api/v1/township",
            &app.world.a.admin,
            json!({ "settings": { "mediation": { "follow_up_days": 0 } } }),
        )
        .await;
    assert_eq!(out_of_range.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let report = file(&app, &app.world.a.branches[0].members[0], unresolved_body()).await;

    let due = time_of(&report["follow_up_due_at"]);
    let received = time_of(&report["received_at"]);
    assert_eq!(due - received, Duration::days(3));
}

#[tokio::test]
async fn an_overdue_follow_up_is_flagged_once_per_due_date() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let report = file(&app, &branch.members[0], unresolved_body()).await;
    let id = id_of(&report);
    let due = time_of(&report["follow_up_due_at"]);
    let sweep = |at: DateTime<Utc>| xianfeng::features::mediation::jobs::sweep_overdue(&app.db, at);

    let before_due = sweep(due - Duration::minutes(1)).await.unwrap();
    let after_due = sweep(due + Duration::hours(1)).await.unwrap();
    let again = sweep(due + Duration::days(2)).await.unwrap();
    app.post(
        &format!("/api/v1/mediation-reports/{id}/follow-ups"),
        &branch.members[0],
        json!({ "visited_at": Utc::now().to_rfc3339(), "note": "仍未化解", "outcome": "unresolved" }),
    )
    .await;
    let next_lapse = sweep(Utc::now() + Duration::days(8)).await.unwrap();

    assert_eq!(before_due, 0);
    assert_eq!(after_due, 1);
    assert_eq!(again, 0, "one notice per due date");
    assert_eq!(next_lapse, 1, "a new due date lapses anew");
    assert_eq!(outbox_count(&app, "mediation.follow_up_overdue").await, 2);
}

#[tokio::test]
async fn overdue_follow_ups_reach_the_author_and_the_secretary() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let report = file(&app, &branch.members[0], unresolved_body()).await;
    let due = time_of(&report["follow_up_due_at"]);

    xianfeng::features::mediation::jobs::sweep_overdue(&app.db, due + Duration::hours(1))
        .await
        .unwrap();

    for user in [&branch.members[0], &branch.secretary] {
        let mut told = false;
        for _ in 0..40 {
            let inbox = json_of(app.get("/api/v1/notifications", user).await).await;
            if inbox["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["title"] == "纠纷回访逾期")
            {
                told = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(told, "{} was never told", user.name);
    }
}

#[tokio::test]
async fn parties_phones_are_masked_for_branch_mates_and_in_lists() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[0], report_body()).await);
    app.post(
        &format!("/api/v1/mediation-reports/{id}/review"),
        &branch.secretary,
        json!({ "decision": "approve" }),
    )
    .await;
    let path = format!("/api/v1/mediation-reports/{id}");

    let mate = json_of(app.get(&path, &branch.members[1]).await).await;
    let secretary = json_of(app.get(&path, &branch.secretary).await).await;
    let author = json_of(app.get(&path, &branch.members[0]).await).await;
    let list = json_of(
        app.get("/api/v1/mediation-reports", &branch.members[0])
            .await,
    )
    .await;

    assert_eq!(mate["parties"][0]["phone"], "139****5678");
    assert_eq!(secretary["parties"][0]["phone"], PARTY_PHONE);
    assert_eq!(author["parties"][0]["phone"], PARTY_PHONE);
    assert_eq!(list["items"][0]["parties"][0]["phone"], "139****5678");
}

#[tokio::test]
async fn members_list_their_own_and_their_branchs_approved_reports() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let own = id_of(&file(&app, &branch.members[0], report_body()).await);
    let pending = id_of(&file(&app, &branch.members[1], report_body()).await);
    let approved = id_of(&file(&app, &branch.members[1], unresolved_body()).await);
    app.post(
        &format!("/api/v1/mediation-reports/{approved}/review"),
        &branch.secretary,
        json!({ "decision": "approve" }),
    )
    .await;
    file(&app, &app.world.a.branches[1].members[0], report_body()).await;

    let member = json_of(
        app.get("/api/v1/mediation-reports", &branch.members[0])
            .await,
    )
    .await;
    let secretary = json_of(
        app.get("/api/v1/mediation-reports", &branch.secretary)
            .await,
    )
    .await;
    let admin = json_of(
        app.get("/api/v1/mediation-reports", &app.world.a.admin)
            .await,
    )
    .await;
    let escalated = json_of(
        app.get(
            "/api/v1/mediation-reports?escalated=true&category=land",
            &branch.secretary,
        )
        .await,
    )
    .await;

    let ids = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(id_of)
            .collect()
    };
    assert_eq!(ids(&member), [approved.clone(), own.clone()]);
    assert_eq!(ids(&secretary), [approved.clone(), pending, own]);
    assert_eq!(ids(&admin).len(), 4);
    assert_eq!(ids(&escalated), [approved]);
}

#[tokio::test]
async fn a_returned_report_is_edited_and_escalated_if_it_now_must_be() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[0], report_body()).await);
    let path = format!("/api/v1/mediation-reports/{id}");
    let not_yet = app
        .patch(&path, &branch.members[0], json!({ "title": "改" }))
        .await;
    app.post(
        &format!("{path}/review"),
        &branch.secretary,
        json!({ "decision": "return", "comment": "调解结果写得不实" }),
    )
    .await;

    let by_other = app
        .patch(
            &path,
            &branch.members[1],
            json!({ "outcome": "unresolved" }),
        )
        .await;
    let edited = app
        .patch(
            &path,
            &branch.members[0],
            json!({ "outcome": "unresolved", "agreement": null }),
        )
        .await;

    assert_eq!(not_yet.status(), StatusCode::CONFLICT);
    assert_eq!(by_other.status(), StatusCode::NOT_FOUND);
    assert_eq!(edited.status(), StatusCode::OK);
    let edited = json_of(edited).await;
    assert_eq!(edited["status"], "pending");
    assert_eq!(edited["escalated"], true);
    assert!(edited["agreement"].is_null());
    assert!(edited["follow_up_due_at"].is_string());
    let history = json_of(
        app.get(&format!("{path}/history"), &branch.members[0])
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
        ["submitted", "returned", "resubmitted", "escalated"]
    );
    assert_eq!(
        history[0]["snapshot"]["outcome"], "resolved",
        "the first version stays"
    );
}

#[tokio::test]
async fn history_records_every_step_in_order() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[0], unresolved_body()).await);
    let path = format!("/api/v1/mediation-reports/{id}");
    app.post(
        &format!("{path}/review"),
        &branch.secretary,
        json!({ "decision": "approve" }),
    )
    .await;
    app.post(
        &format!("{path}/escalation"),
        &app.world.a.admin,
        json!({ "action": "acknowledge", "note": "已受理" }),
    )
    .await;
    app.post(
        &format!("{path}/follow-ups"),
        &branch.members[0],
        json!({ "visited_at": Utc::now().to_rfc3339(), "note": "回访一次", "outcome": "partially_resolved" }),
    )
    .await;

    let history = json_of(
        app.get(&format!("{path}/history"), &app.world.a.admin)
            .await,
    )
    .await;

    let steps: Vec<(&str, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["actor_id"].as_str().unwrap(),
            )
        })
        .collect();
    let (member, secretary, admin) = (
        branch.members[0].id.to_string(),
        branch.secretary.id.to_string(),
        app.world.a.admin.id.to_string(),
    );
    assert_eq!(
        steps,
        [
            ("submitted", member.as_str()),
            ("escalated", member.as_str()),
            ("approved", secretary.as_str()),
            ("escalation_acknowledged", admin.as_str()),
            ("followed_up", member.as_str()),
        ]
    );
    assert_eq!(history[3]["comment"], "已受理");
}

#[tokio::test]
async fn a_retry_with_the_same_key_files_one_report() {
    let app = spawn_app().await;
    let author = &app.world.a.branches[0].members[0];
    let key = Uuid::now_v7().to_string();
    let body = unresolved_body();
    let send = |body: Value| {
        app.request(Method::POST, "/api/v1/mediation-reports", Some(author))
            .header("Idempotency-Key", key.clone())
            .json(&body)
            .send()
    };

    let first = send(body.clone()).await.unwrap();
    let first_status = first.status();
    let first_body = first.text().await.unwrap();
    let retry = send(body.clone()).await.unwrap();
    let mut changed = body;
    changed["title"] = json!("另一件事");
    let reused = send(changed).await.unwrap();

    assert_eq!(first_status, StatusCode::CREATED);
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.text().await.unwrap(), first_body);
    assert_eq!(reused.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(reused).await, "idempotency_key_reused");
    assert_eq!(
        mediation_report::Entity::find()
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    assert_eq!(outbox_count(&app, "mediation.escalated").await, 1);
}

#[tokio::test]
async fn reports_wait_in_the_review_queue_beside_visits_and_are_bulk_decided() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let report = id_of(&file(&app, &branch.members[0], report_body()).await);
    let visit = json_of(
        app.post(
            "/api/v1/visits",
            &branch.members[0],
            json!({
                "household_id": branch.households[0].id, "kind": "assistance",
                "visited_at": Utc::now().to_rfc3339(),
                "location": { "lat": 30.27, "lng": 120.15 }, "summary": "了解近况"
            }),
        )
        .await,
    )
    .await;
    let visit = id_of(&visit);

    let queue = json_of(app.get("/api/v1/reviews?limit=1", &branch.secretary).await).await;
    let rest = json_of(
        app.get(
            &format!(
                "/api/v1/reviews?cursor={}",
                queue["next_cursor"].as_str().unwrap()
            ),
            &branch.secretary,
        )
        .await,
    )
    .await;
    let bulk = json_of(
        app.post(
            "/api/v1/reviews/bulk",
            &branch.secretary,
            json!({ "decision": "approve", "items": [{ "subject_kind": "mediation_report", "subject_id": report }] }),
        )
        .await,
    )
    .await;
    let after = json_of(app.get("/api/v1/reviews", &branch.secretary).await).await;

    assert_eq!(queue["items"][0]["subject_kind"], "mediation_report");
    assert_eq!(queue["items"][0]["subject_id"], report);
    assert_eq!(
        queue["items"][0]["title"],
        "矛盾纠纷：张家与李家宅基地边界纠纷"
    );
    assert_eq!(rest["items"][0]["subject_id"], visit);
    assert_eq!(bulk["results"][0]["status"], 200);
    assert_eq!(bulk["results"][0]["review_status"], "approved");
    assert_eq!(after["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_secretary_sees_overdue_follow_ups_in_a_queue() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let id = id_of(&file(&app, &branch.members[0], unresolved_body()).await);
    file(&app, &branch.members[1], unresolved_body()).await;
    mediation_report::Entity::update_many()
        .col_expr(
            mediation_report::Column::FollowUpDueAt,
            sea_orm::sea_query::Expr::value(Utc::now() - Duration::days(1)),
        )
        .filter(mediation_report::Column::Id.eq(id.parse::<Uuid>().unwrap()))
        .exec(&app.db)
        .await
        .unwrap();

    let queue = json_of(
        app.get("/api/v1/reviews/follow-ups", &branch.secretary)
            .await,
    )
    .await;
    let other = json_of(
        app.get(
            "/api/v1/reviews/follow-ups",
            &app.world.a.branches[1].secretary,
        )
        .await,
    )
    .await;
    let overdue_filter = json_of(
        app.get(
            "/api/v1/mediation-reports?follow_up=overdue",
            &branch.secretary,
        )
        .await,
    )
    .await;
    let member = app
        .get("/api/v1/reviews/follow-ups", &branch.members[0])
        .await;

    assert_eq!(queue["items"].as_array().unwrap().len(), 1);
    assert_eq!(queue["items"][0]["id"], id);
    assert_eq!(queue["items"][0]["follow_up_overdue"], true);
    assert_eq!(other["items"].as_array().unwrap().len(), 0);
    assert_eq!(overdue_filter["items"].as_array().unwrap().len(), 1);
    assert_eq!(member.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_export_is_csv_with_a_bom_and_the_lists_filters() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    file(&app, &branch.members[0], report_body()).await;
    file(&app, &branch.members[0], unresolved_body()).await;

    let response = app
        .get(
            "/api/v1/mediation-reports/export?outcome=unresolved",
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
    let body = response.text().await.unwrap();
    assert!(body.starts_with('\u{feff}'));
    let lines: Vec<&str> = body.trim_end().split("\r\n").collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[0].contains("纠纷类型"));
    assert!(lines[1].contains("未化解"));
    assert!(lines[1].contains("139****5678"));
    assert!(!lines[1].contains(PARTY_PHONE));
}

#[tokio::test]
async fn the_demo_township_has_an_escalated_dispute_in_each_village() {
    let app = spawn_app().await;
    xianfeng::app::demo::load(&app.db).await.unwrap();
    let login = json_of(
        app.login("13800000000", xianfeng::app::demo::DEMO_PASSWORD)
            .await,
    )
    .await;
    let token = login["access_token"].as_str().unwrap();
    let get = |path: &str| app.client.get(app.url(path)).bearer_auth(token).send();

    let escalations = json_of(get("/api/v1/escalations").await.unwrap()).await;
    let reports = json_of(get("/api/v1/mediation-reports?limit=100").await.unwrap()).await;

    let escalated = escalations["items"].as_array().unwrap();
    assert!(!escalated.is_empty());
    assert!(
        escalated
            .iter()
            .all(|r| r["escalation"]["status"] == "open")
    );
    assert_eq!(
        reports["items"].as_array().unwrap().len(),
        escalated.len() * 2,
        "one settled and one escalated per village"
    );
}
