//! Statistics: every figure against a direct count over the raw rows after a
//! random sequence of changes, scope by role, ETag revalidation, the time
//! series in the township's zone, and the lagging-members table.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use reqwest::{Method, StatusCode};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::core::change_versions::VERSION_TTL;
use xianfeng::entities::{audit_log, household, mediation_report, pledge, user, visit};

use crate::helpers::*;

fn visit_body(household_id: Uuid, kind: &str, days_ago: i64) -> Value {
    json!({
        "household_id": household_id, "kind": kind,
        "visited_at": (Utc::now() - Duration::days(days_ago)).to_rfc3339(),
        "location": { "lat": 30.27, "lng": 120.15 }, "summary": "走访"
    })
}

fn report_body(outcome: &str, risk: &str) -> Value {
    json!({
        "title": "邻里纠纷", "category": "neighbourhood",
        "parties": [{ "name": "张某" }], "description": "争执",
        "occurred_at": Utc::now().to_rfc3339(), "process": "调解",
        "outcome": outcome,
        "agreement": if outcome == "resolved" { json!("和解") } else { Value::Null },
        "risk_level": risk
    })
}

/// What the overview should say, counted straight from the tables.
async fn direct_count(app: &TestApp, branch_id: Option<Uuid>) -> Value {
    let township = app.world.a.township.id;
    let in_scope = |b: Uuid| branch_id.is_none_or(|id| id == b);
    let members = user::Entity::find()
        .filter(user::Column::TownshipId.eq(township))
        .filter(user::Column::Active.eq(true))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u.branch_id.is_some_and(in_scope))
        .count();
    let households: Vec<Uuid> = household::Entity::find()
        .filter(household::Column::TownshipId.eq(township))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|h| in_scope(h.branch_id))
        .map(|h| h.id)
        .collect();
    let visits: Vec<visit::Model> = visit::Entity::find()
        .filter(visit::Column::TownshipId.eq(township))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|v| in_scope(v.branch_id))
        .collect();
    let mut visited: Vec<Uuid> = visits
        .iter()
        .filter(|v| v.status != "rejected")
        .map(|v| v.household_id)
        .collect();
    visited.sort();
    visited.dedup();
    let mut by_kind: HashMap<String, u64> = HashMap::new();
    let mut by_status: HashMap<String, u64> = HashMap::new();
    for v in &visits {
        *by_kind.entry(v.kind.clone()).or_default() += 1;
        *by_status.entry(v.status.clone()).or_default() += 1;
    }
    let reports: Vec<mediation_report::Model> = mediation_report::Entity::find()
        .filter(mediation_report::Column::TownshipId.eq(township))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| in_scope(r.branch_id))
        .collect();
    let pledges: Vec<pledge::Model> = pledge::Entity::find()
        .filter(pledge::Column::TownshipId.eq(township))
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter(|p| in_scope(p.branch_id))
        .collect();
    let published = pledges
        .iter()
        .filter(|p| ["approved", "fulfilled", "not_fulfilled"].contains(&p.status.as_str()))
        .count();
    let waiting: Vec<chrono::DateTime<Utc>> = visits
        .iter()
        .filter(|v| v.status == "pending")
        .map(|v| v.submitted_at)
        .chain(
            reports
                .iter()
                .filter(|r| r.status == "pending")
                .map(|r| r.submitted_at),
        )
        .chain(
            pledges
                .iter()
                .filter(|p| p.status == "pending")
                .map(|p| p.submitted_at),
        )
        .collect();
    let oldest_hours = waiting
        .iter()
        .min()
        .map(|at| (Utc::now() - *at).num_seconds() as f64 / 3600.0);
    json!({
        "members": members,
        "households": households.len(),
        "households_visited": visited.len(),
        "visits_total": visits.len(),
        "by_kind": by_kind,
        "by_status": by_status,
        "mediation_total": reports.len(),
        "resolved": reports.iter().filter(|r| r.latest_outcome == "resolved").count(),
        "escalated": reports.iter().filter(|r| r.escalation_status.is_some()).count(),
        "pledges_total": published,
        "fulfilled": pledges.iter().filter(|p| p.status == "fulfilled").count(),
        "pending_reviews": waiting.len(),
        "oldest_pending_hours": oldest_hours,
    })
}

fn compare(overview: &Value, expected: &Value) {
    let got = json!({
        "members": overview["members"],
        "households": overview["households"],
        "households_visited": overview["households_visited"],
        "visits_total": overview["visits"]["total"],
        "mediation_total": overview["mediation"]["total"],
        "resolved": overview["mediation"]["resolved"],
        "escalated": overview["mediation"]["escalated"],
        "pledges_total": overview["pledges"]["total"],
        "fulfilled": overview["pledges"]["fulfilled"],
        "pending_reviews": overview["pending_reviews"],
    });
    for key in got.as_object().unwrap().keys() {
        assert_eq!(got[key], expected[key], "{key}");
    }
    for (kind, n) in expected["by_kind"].as_object().unwrap() {
        assert_eq!(&overview["visits"]["by_kind"][kind], n, "by_kind.{kind}");
    }
    for (status, n) in expected["by_status"].as_object().unwrap() {
        assert_eq!(
            &overview["visits"]["by_status"][status], n,
            "by_status.{status}"
        );
    }
    match expected["oldest_pending_hours"].as_f64() {
        Some(hours) => {
            let got = overview["oldest_pending_hours"].as_f64().unwrap();
            assert!(
                (got - hours).abs() < 0.01,
                "oldest_pending_hours {got} ≠ {hours}"
            );
        }
        None => assert!(overview["oldest_pending_hours"].is_null()),
    }
    let households = expected["households"].as_f64().unwrap();
    let coverage = if households == 0.0 {
        0.0
    } else {
        expected["households_visited"].as_f64().unwrap() / households
    };
    assert!((overview["visit_coverage"].as_f64().unwrap() - coverage).abs() < 1e-3);
}

fn pledge_body(scope: &str) -> Value {
    json!({
        "scope": scope, "year": chrono::Datelike::year(&Utc::now()),
        "title": "践行为民服务承诺", "content": "每月走访包联户",
        "targets": [{ "description": "走访包联户4次" }]
    })
}

/// A submission made during the random sequence: where it lives and whose it is.
struct Made {
    path: &'static str,
    branch: usize,
    author: usize,
    id: String,
}

#[tokio::test]
async fn every_figure_matches_a_direct_count_after_random_changes() {
    let app = spawn_app().await;
    let mut rng = StdRng::seed_from_u64(20261128);
    let kinds = [
        "assistance",
        "condolence",
        "safety_check",
        "policy_outreach",
    ];
    let mut made: Vec<Made> = Vec::new();
    let mut folds = StdRng::seed_from_u64(7);
    let mut moving: Option<Uuid> = None;
    for step in 0..80 {
        // The rollups are exact whether or not their deltas were folded.
        if folds.random_bool(0.15) {
            xianfeng::features::stats::rollup::fold(&app.db)
                .await
                .unwrap();
        }
        // A household visited in one branch and then moved to the other:
        // its visit stays counted where it was made.
        if step == 30 {
            let branch = &app.world.a.branches[0];
            let body = json!({ "branch_id": branch.branch.id, "head_name": "流动户", "address": "红旗村" });
            let created = app
                .post("/api/v1/households", &app.world.a.admin, body)
                .await;
            assert_eq!(created.status(), StatusCode::CREATED);
            let id: Uuid = json_of(created).await["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            let visited = app
                .post(
                    "/api/v1/visits",
                    &branch.members[0],
                    visit_body(id, kinds[0], 0),
                )
                .await;
            assert_eq!(visited.status(), StatusCode::CREATED);
            moving = Some(id);
        }
        if step == 60
            && let Some(id) = moving
        {
            let to = json!({ "branch_id": app.world.a.branches[1].branch.id });
            let moved = app
                .patch(&format!("/api/v1/households/{id}"), &app.world.a.admin, to)
                .await;
            assert_eq!(moved.status(), StatusCode::OK);
        }
        let b = rng.random_range(0..2);
        let branch = &app.world.a.branches[b];
        let m = rng.random_range(0..2);
        let author = &branch.members[m];
        let (path, response) = match rng.random_range(0..10) {
            0..=2 => {
                let household = &branch.households[rng.random_range(0..2)];
                let kind = kinds[rng.random_range(0..kinds.len())];
                let body = visit_body(household.id, kind, step % 5);
                ("visits", app.post("/api/v1/visits", author, body).await)
            }
            3 => {
                let outcome =
                    ["resolved", "partially_resolved", "unresolved"][rng.random_range(0..3)];
                let body = report_body(outcome, "low");
                (
                    "mediation-reports",
                    app.post("/api/v1/mediation-reports", author, body).await,
                )
            }
            4 => (
                "pledges",
                app.post("/api/v1/pledges", author, pledge_body("member"))
                    .await,
            ),
            5 if step % 3 == 0 => {
                let body = pledge_body("branch");
                (
                    "pledges",
                    app.post("/api/v1/pledges", &branch.secretary, body).await,
                )
            }
            _ if made.is_empty() => continue,
            action => {
                let i = rng.random_range(0..made.len());
                let item = &made[i];
                let owner = &app.world.a.branches[item.branch];
                let at = format!("/api/v1/{}/{}", item.path, item.id);
                let response = match (action, item.path) {
                    (6, "mediation-reports") => {
                        app.post(
                            &format!("{at}/escalate"),
                            &owner.secretary,
                            json!({ "reason": "上报" }),
                        )
                        .await
                    }
                    (6, _) | (7, "mediation-reports") => {
                        let body = json!({ "visited_at": Utc::now().to_rfc3339(), "note": "回访", "outcome": "resolved" });
                        app.post(&format!("{at}/follow-ups"), &owner.secretary, body)
                            .await
                    }
                    (7, "pledges") => {
                        app.post(
                            &format!("{at}/fulfil"),
                            &app.world.a.admin,
                            json!({ "note": "已兑现" }),
                        )
                        .await
                    }
                    (7, _) => {
                        let editor = &owner.members[item.author];
                        let body = match item.path {
                            "visits" => json!({ "summary": "补充了情况" }),
                            _ => json!({ "title": "改过的标题" }),
                        };
                        app.patch(&at, editor, body).await
                    }
                    _ => {
                        let decision = ["approve", "return", "reject"][rng.random_range(0..3)];
                        let body = json!({ "decision": decision, "comment": "意见" });
                        app.post(&format!("{at}/review"), &owner.secretary, body)
                            .await
                    }
                };
                // Refusals (409 for a step out of turn, 404 for a visit's
                // follow-up) are part of a realistic sequence; no 5xx ever.
                assert!(
                    response.status().as_u16() < 500,
                    "{at}: {}",
                    response.status()
                );
                continue;
            }
        };
        assert_eq!(response.status(), StatusCode::CREATED, "{path}");
        let created = json_of(response).await;
        made.push(Made {
            path,
            branch: b,
            author: m,
            id: created["id"].as_str().unwrap().into(),
        });
    }

    let expected = direct_count(&app, None).await;
    for figure in [
        "escalated",
        "resolved",
        "fulfilled",
        "pledges_total",
        "pending_reviews",
    ] {
        assert!(
            expected[figure].as_u64().unwrap() > 0,
            "the sequence never moved {figure}"
        );
    }
    let township = json_of(app.get("/api/v1/stats/overview", &app.world.a.admin).await).await;
    compare(&township, &expected);
    for branch in &app.world.a.branches {
        let path = format!("/api/v1/stats/overview?branch_id={}", branch.branch.id);
        let by_admin = json_of(app.get(&path, &app.world.a.admin).await).await;
        let by_secretary =
            json_of(app.get("/api/v1/stats/overview", &branch.secretary).await).await;
        let expected = direct_count(&app, Some(branch.branch.id)).await;
        compare(&by_admin, &expected);
        compare(&by_secretary, &expected);
    }
    let rows = json_of(app.get("/api/v1/stats/branches", &app.world.a.admin).await).await;
    assert_eq!(rows["items"].as_array().unwrap().len(), 2);
    for row in rows["items"].as_array().unwrap() {
        let id: Uuid = row["branch_id"].as_str().unwrap().parse().unwrap();
        compare(row, &direct_count(&app, Some(id)).await);
    }

    // What the triggers kept equals a recount from the raw rows.
    let nonzero = |counts: Vec<(Uuid, String, i64)>| {
        let mut counts: Vec<_> = counts.into_iter().filter(|c| c.2 != 0).collect();
        counts.sort();
        counts
    };
    let township = app.world.a.township.id;
    let kept = xianfeng::features::stats::rollup::counts(&app.db, township, None)
        .await
        .unwrap();
    xianfeng::features::stats::rollup::rebuild(&app.db)
        .await
        .unwrap();
    let recounted = xianfeng::features::stats::rollup::counts(&app.db, township, None)
        .await
        .unwrap();
    assert_eq!(nonzero(kept), nonzero(recounted));
}

#[tokio::test]
async fn the_overview_answers_from_the_rollups_and_a_rebuild_recounts_them() {
    // Arrange: a visit, counted.
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let body = visit_body(branch.households[0].id, "assistance", 0);
    let created = app.post("/api/v1/visits", &branch.members[0], body).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    xianfeng::features::stats::rollup::fold(&app.db)
        .await
        .unwrap();

    // Act: the rollups are emptied behind the server's back, as a restore
    // of some tables but not others would leave them.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared("DELETE FROM stats_totals")
        .await
        .unwrap();
    let overview = json_of(app.get("/api/v1/stats/overview", &app.world.a.admin).await).await;

    // Assert: the overview answers from the rollups (now empty), and a
    // rebuild restores the figures from the rows.
    assert_eq!(overview["visits"]["total"], 0);
    xianfeng::features::stats::rollup::rebuild(&app.db)
        .await
        .unwrap();
    let overview = json_of(app.get("/api/v1/stats/overview", &app.world.a.admin).await).await;
    assert_eq!(overview["visits"]["total"], 1);
    assert_eq!(overview["households_visited"], 1);
}

#[tokio::test]
async fn stats_are_scoped_by_role() {
    let app = spawn_app().await;
    let own = &app.world.a.branches[0];
    let other = &app.world.a.branches[1];
    let foreign = &app.world.b.branches[0];

    let member = app.get("/api/v1/stats/overview", &own.members[0]).await;
    let secretary_other = app
        .get(
            &format!("/api/v1/stats/overview?branch_id={}", other.branch.id),
            &own.secretary,
        )
        .await;
    let admin_foreign = app
        .get(
            &format!("/api/v1/stats/overview?branch_id={}", foreign.branch.id),
            &app.world.a.admin,
        )
        .await;
    let secretary_table = app.get("/api/v1/stats/branches", &own.secretary).await;
    let secretary_members = json_of(app.get("/api/v1/stats/members", &own.secretary).await).await;
    let secretary_own = json_of(app.get("/api/v1/stats/overview", &own.secretary).await).await;

    assert_eq!(member.status(), StatusCode::FORBIDDEN);
    assert_eq!(secretary_other.status(), StatusCode::NOT_FOUND);
    assert_eq!(admin_foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(secretary_table.status(), StatusCode::FORBIDDEN);
    assert_eq!(secretary_own["branch_id"], own.branch.id.to_string());
    assert_eq!(secretary_own["households"], 2);
    let branches: Vec<&str> = secretary_members["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["branch_id"].as_str().unwrap())
        .collect();
    assert_eq!(branches.len(), 3, "the secretary and two members");
    assert!(branches.iter().all(|b| *b == own.branch.id.to_string()));
}

#[tokio::test]
async fn an_unchanged_township_answers_304_and_a_change_a_new_tag() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let admin = &app.world.a.admin;
    let ask = |tag: Option<String>| {
        let mut request = app.request(Method::GET, "/api/v1/stats/overview", Some(admin));
        if let Some(tag) = tag {
            request = request.header("If-None-Match", tag);
        }
        request.send()
    };

    let first = ask(None).await.unwrap();
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let cache = first.headers()["cache-control"]
        .to_str()
        .unwrap()
        .to_owned();
    let again = ask(Some(tag.clone())).await.unwrap();
    app.post(
        "/api/v1/visits",
        &branch.members[0],
        visit_body(branch.households[0].id, "assistance", 0),
    )
    .await;
    let after_change = ask(Some(tag.clone())).await.unwrap();

    assert_eq!(first.status(), StatusCode::OK);
    assert!(cache.contains("private"), "{cache}");
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(again.headers()["etag"], tag.as_str());
    assert_eq!(after_change.status(), StatusCode::OK);
    assert_ne!(after_change.headers()["etag"], tag.as_str());
    assert_eq!(json_of(after_change).await["visits"]["total"], 1);
}

#[tokio::test]
async fn a_change_committed_by_another_replica_moves_the_tag_within_the_version_ttl() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let first = app.get("/api/v1/stats/overview", admin).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();

    // Another replica's write reaches only the database, not this replica's
    // memory of the township's version.
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(app.world.a.township.id),
        actor_id: Set(Some(admin.id)),
        action: Set("branch.updated".into()),
        subject_kind: Set("branch".into()),
        subject_id: Set(app.world.a.branches[0].branch.id),
        before: Set(None),
        after: Set(None),
        request_id: Set(None),
        created_at: Set(Utc::now()),
        read_on: Set(None),
    }
    .insert(&app.db)
    .await
    .unwrap();
    tokio::time::sleep(VERSION_TTL).await;
    let later = app
        .request(Method::GET, "/api/v1/stats/overview", Some(admin))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();

    assert_eq!(later.status(), StatusCode::OK);
    assert_ne!(later.headers()["etag"], tag.as_str());
}

#[tokio::test]
async fn recorded_reads_of_personal_data_leave_the_tag_alone() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let admin = &app.world.a.admin;
    // The tag also names the minute; keep the whole exchange inside one.
    let second = Utc::now().timestamp() % 60;
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    let first = app.get("/api/v1/stats/overview", admin).await;
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();

    let households = app.get("/api/v1/me/households", &branch.members[0]).await;
    assert_eq!(households.status(), StatusCode::OK);
    let viewed = audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(xianfeng::core::audit::HOUSEHOLD_VIEWED))
        .all(&app.db)
        .await
        .unwrap();
    assert!(!viewed.is_empty(), "the reads were recorded");
    tokio::time::sleep(VERSION_TTL).await;
    let later = app
        .request(Method::GET, "/api/v1/stats/overview", Some(admin))
        .header("If-None-Match", &tag)
        .send()
        .await
        .unwrap();

    assert_eq!(later.status(), StatusCode::NOT_MODIFIED);
}

#[tokio::test]
async fn the_time_series_counts_per_local_day_with_empty_days_as_zero() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    for days_ago in [0, 0, 2] {
        app.post(
            "/api/v1/visits",
            &branch.members[0],
            visit_body(branch.households[0].id, "assistance", days_ago),
        )
        .await;
    }

    let days = json_of(
        app.get(
            "/api/v1/stats/timeseries?metric=visits&bucket=day",
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let weeks = json_of(
        app.get("/api/v1/stats/timeseries?bucket=week", &branch.secretary)
            .await,
    )
    .await;
    let months = json_of(
        app.get(
            "/api/v1/stats/timeseries?bucket=month&metric=mediation_reports",
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let backwards = app
        .get(
            &format!(
                "/api/v1/stats/timeseries?from={}&to={}",
                urlencode(&Utc::now().to_rfc3339()),
                urlencode(&(Utc::now() - Duration::days(1)).to_rfc3339())
            ),
            &app.world.a.admin,
        )
        .await;

    let items = days["items"].as_array().unwrap();
    assert_eq!(items.len(), 30);
    let counts: Vec<u64> = items.iter().map(|p| p["count"].as_u64().unwrap()).collect();
    assert_eq!(counts[29], 2, "today");
    assert_eq!(counts[27], 1, "two days ago");
    assert_eq!(counts.iter().sum::<u64>(), 3);
    assert!(
        items[29]["bucket_start"]
            .as_str()
            .unwrap()
            .ends_with("T00:00:00+08:00")
    );
    assert_eq!(weeks["items"].as_array().unwrap().len(), 12);
    assert_eq!(months["items"].as_array().unwrap().len(), 12);
    assert!(
        months["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["count"] == 0)
    );
    assert_eq!(backwards.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn lagging_members_come_first() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    for _ in 0..2 {
        app.post(
            "/api/v1/visits",
            &branch.members[0],
            visit_body(branch.households[0].id, "assistance", 1),
        )
        .await;
    }
    app.post(
        "/api/v1/visits",
        &branch.members[1],
        visit_body(branch.households[1].id, "assistance", 3),
    )
    .await;

    let rows = json_of(app.get("/api/v1/stats/members", &branch.secretary).await).await;
    let rows = &rows["items"];

    let order: Vec<(&str, u64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["visits"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        order,
        [
            (branch.secretary.name.as_str(), 0),
            (branch.members[1].name.as_str(), 1),
            (branch.members[0].name.as_str(), 2),
        ]
    );
    assert!(rows[0]["days_since_last_visit"].is_null());
    assert_eq!(rows[1]["days_since_last_visit"], 3);
    assert_eq!(rows[2]["assigned_households"], 1);
}

#[tokio::test]
async fn the_branch_table_puts_the_least_covered_branch_first() {
    let app = spawn_app().await;
    let covered = &app.world.a.branches[1];
    for household in &covered.households {
        app.post(
            "/api/v1/visits",
            &covered.members[0],
            visit_body(household.id, "assistance", 0),
        )
        .await;
    }

    let table = json_of(app.get("/api/v1/stats/branches", &app.world.a.admin).await).await;

    let rows = &table["items"];
    assert_eq!(
        rows[0]["branch_id"],
        app.world.a.branches[0].branch.id.to_string()
    );
    assert_eq!(rows[0]["visit_coverage"], 0.0);
    assert_eq!(rows[1]["visit_coverage"], 1.0);
    assert_eq!(rows[1]["pending_reviews"], 2);
    assert!(rows[1]["oldest_pending_hours"].as_f64().unwrap() < 0.1);
}

#[tokio::test]
async fn concurrent_check_ins_on_one_household_and_concurrent_folds_count_it_once() {
    // Arrange: a household nobody has visited.
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = branch.households[1].id;

    // Act: both members check in there twenty times at once while two
    // folders run beside them.
    let check_ins = futures_util::future::join_all((0..20).map(|i| {
        let member = &branch.members[i % 2];
        app.post(
            "/api/v1/visits",
            member,
            visit_body(household, "assistance", 0),
        )
    }));
    let folds = async {
        for _ in 0..10 {
            let (a, b) = tokio::join!(
                xianfeng::features::stats::rollup::fold(&app.db),
                xianfeng::features::stats::rollup::fold(&app.db)
            );
            a.unwrap();
            b.unwrap();
        }
    };
    let (answers, ()) = tokio::join!(check_ins, folds);

    // Assert: every check-in counted, the household once.
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::CREATED);
    }
    let path = format!("/api/v1/stats/overview?branch_id={}", branch.branch.id);
    let overview = json_of(app.get(&path, &app.world.a.admin).await).await;
    compare(&overview, &direct_count(&app, Some(branch.branch.id)).await);
    assert_eq!(overview["visits"]["total"], 20);
    assert_eq!(overview["households_visited"], 1);
}
