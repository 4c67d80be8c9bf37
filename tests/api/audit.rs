//! `GET /api/v1/audit`: the township's audit log, its filters and pages, and
//! reads of personal data on record.

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use xianfeng::entities::audit_log;

use crate::helpers::*;

async fn entries(app: &TestApp, query: &str) -> Vec<Value> {
    let response = app
        .get(
            &format!("/api/v1/audit?limit=100&{query}"),
            &app.world.a.admin,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK, "{query}");
    json_of(response).await["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn admins_read_changes_with_their_actor_and_filters() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[0];
    let changed = app
        .patch(
            &format!("/api/v1/households/{}", household.id),
            &branch.secretary,
            json!({ "group": "第二村民小组" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);

    let updates = entries(&app, "action=household.updated").await;
    let by_secretary = entries(&app, &format!("actor_id={}", branch.secretary.id)).await;
    let by_admin = entries(&app, &format!("actor_id={}", app.world.a.admin.id)).await;
    let about_it = entries(
        &app,
        &format!("subject_kind=household&subject_id={}", household.id),
    )
    .await;
    let of_users = entries(&app, "subject_kind=user").await;
    let future = (Utc::now() + Duration::hours(1)).to_rfc3339();
    let past = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let later = entries(&app, &format!("from={}", urlencode(&future))).await;
    let earlier = entries(&app, &format!("to={}", urlencode(&past))).await;
    let within = entries(
        &app,
        &format!("from={}&to={}", urlencode(&past), urlencode(&future)),
    )
    .await;

    assert_eq!(updates.len(), 1, "{updates:?}");
    let entry = &updates[0];
    assert_eq!(entry["actor_id"], branch.secretary.id.to_string());
    assert_eq!(entry["subject_id"], household.id.to_string());
    assert_eq!(entry["after"]["group"], "第二村民小组");
    assert_eq!(entry["before"]["group"], "第一村民小组");
    assert!(
        entry["after"]["phone"].as_str().unwrap().contains("****"),
        "personal data masked in the log: {entry}"
    );
    assert!(by_secretary.iter().any(|e| e["id"] == entry["id"]));
    assert!(by_admin.iter().all(|e| e["id"] != entry["id"]));
    assert!(
        about_it
            .iter()
            .all(|e| e["subject_id"] == entry["subject_id"])
    );
    assert!(!about_it.is_empty());
    assert!(of_users.iter().all(|e| e["subject_kind"] == "user"));
    assert!(later.is_empty(), "{later:?}");
    assert!(earlier.is_empty(), "{earlier:?}");
    assert!(within.iter().any(|e| e["id"] == entry["id"]));
}

fn urlencode(value: &str) -> String {
    value.replace('+', "%2B").replace(':', "%3A")
}

#[tokio::test]
async fn audit_log_pages_newest_first() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    for group in ["一组", "二组", "三组"] {
        app.patch(
            &format!("/api/v1/households/{}", branch.households[0].id),
            &app.world.a.admin,
            json!({ "group": group }),
        )
        .await;
    }

    let first = json_of(
        app.get(
            "/api/v1/audit?action=household.updated&limit=2",
            &app.world.a.admin,
        )
        .await,
    )
    .await;
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = json_of(
        app.get(
            &format!("/api/v1/audit?action=household.updated&limit=2&cursor={cursor}"),
            &app.world.a.admin,
        )
        .await,
    )
    .await;

    let groups: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|e| e["after"]["group"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["三组", "二组", "一组"]);
    assert!(second["next_cursor"].is_null());
}

#[tokio::test]
async fn audit_log_never_shows_another_townships_entries() {
    let app = spawn_app().await;
    let foreign = &app.world.b.branches[0];
    app.patch(
        &format!("/api/v1/households/{}", foreign.households[0].id),
        &app.world.b.admin,
        json!({ "group": "乙乡的组" }),
    )
    .await;

    let ours = entries(&app, "").await;
    let asked_for = entries(&app, &format!("actor_id={}", app.world.b.admin.id)).await;
    let theirs = json_of(app.get("/api/v1/audit?limit=100", &app.world.b.admin).await).await;

    assert!(
        ours.iter()
            .all(|e| e["subject_id"] != foreign.households[0].id.to_string())
    );
    assert!(asked_for.is_empty());
    assert!(
        theirs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["subject_id"] == foreign.households[0].id.to_string())
    );
}

#[tokio::test]
async fn secretaries_and_members_may_not_read_the_audit_log() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let by_secretary = app.get("/api/v1/audit", &branch.secretary).await;
    let by_member = app.get("/api/v1/audit", &branch.members[0]).await;

    assert_eq!(by_secretary.status(), StatusCode::FORBIDDEN);
    assert_eq!(by_member.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn malformed_audit_filters_answer_4xx_naming_them() {
    let app = spawn_app().await;

    let bad_time = app
        .get("/api/v1/audit?from=yesterday", &app.world.a.admin)
        .await;
    let bad_actor = app
        .get("/api/v1/audit?actor_id=someone", &app.world.a.admin)
        .await;
    let bad_cursor = app
        .get("/api/v1/audit?cursor=not-a-cursor!", &app.world.a.admin)
        .await;

    assert_eq!(bad_time.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(bad_time).await["error"]["details"][0]["field"],
        "from"
    );
    assert_eq!(bad_actor.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(bad_actor).await["error"]["details"][0]["field"],
        "actor_id"
    );
    assert_eq!(bad_cursor.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn households_shown_whole_are_on_record_and_masked_ones_are_not() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[1];
    let path = format!("/api/v1/households/{}", household.id);

    let by_secretary = app.get(&path, &branch.secretary).await;
    let by_unassigned_member = app.get(&path, &branch.members[1]).await;
    let assigned = app.get("/api/v1/me/households", &branch.members[0]).await;

    assert_eq!(by_secretary.status(), StatusCode::OK);
    assert_eq!(by_unassigned_member.status(), StatusCode::OK);
    assert_eq!(assigned.status(), StatusCode::OK);
    let views = entries(&app, "action=household.viewed").await;
    let viewers = |subject: uuid::Uuid| -> Vec<String> {
        views
            .iter()
            .filter(|e| e["subject_id"] == subject.to_string())
            .map(|e| e["actor_id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(viewers(household.id), [branch.secretary.id.to_string()]);
    assert_eq!(
        viewers(branch.households[0].id),
        [branch.members[0].id.to_string()]
    );
    assert!(
        views
            .iter()
            .all(|e| e["before"].is_null() && e["after"].is_null())
    );
}

#[tokio::test]
async fn id_numbers_of_others_shown_whole_are_on_record() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let subject = &branch.members[1];
    let path = format!("/api/v1/users/{}", subject.id);

    let by_secretary = json_of(app.get(&path, &branch.secretary).await).await;
    app.get(&path, &branch.members[0]).await;
    app.get(&path, subject).await;

    assert_eq!(by_secretary["id_number"], "11010519491231002X");
    let views = entries(&app, "action=user.id_number_viewed").await;
    let viewers: Vec<&str> = views
        .iter()
        .map(|e| e["actor_id"].as_str().unwrap())
        .collect();
    assert_eq!(viewers, [branch.secretary.id.to_string()]);
    assert_eq!(views[0]["subject_id"], subject.id.to_string());
}

async fn reads_by(app: &TestApp, reader: uuid::Uuid) -> Vec<audit_log::Model> {
    audit_log::Entity::find()
        .filter(audit_log::Column::Action.eq(xianfeng::core::audit::HOUSEHOLD_VIEWED))
        .filter(audit_log::Column::ActorId.eq(reader))
        .all(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_list_polled_all_day_records_each_household_once_a_day() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let household = &branch.households[0];

    for _ in 0..5 {
        let polled = app.get("/api/v1/me/households", member).await;
        assert_eq!(polled.status(), StatusCode::OK);
    }
    let opened = app
        .get(&format!("/api/v1/households/{}", household.id), member)
        .await;

    assert_eq!(opened.status(), StatusCode::OK);
    let reads = reads_by(&app, member.id).await;
    assert_eq!(reads.len(), 1, "one row per reader, record and day");
    assert_eq!(reads[0].subject_id, household.id);
    assert_eq!(reads[0].read_on, Some(reads[0].created_at.date_naive()));
}

#[tokio::test]
async fn a_read_on_another_day_is_recorded_again() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    app.get("/api/v1/me/households", member).await;
    // Yesterday's read, as the table would hold it.
    let yesterday = Utc::now() - Duration::days(1);
    audit_log::Entity::update_many()
        .col_expr(audit_log::Column::CreatedAt, Expr::value(yesterday))
        .col_expr(
            audit_log::Column::ReadOn,
            Expr::value(yesterday.date_naive()),
        )
        .filter(audit_log::Column::ActorId.eq(member.id))
        .exec(&app.db)
        .await
        .unwrap();

    app.get("/api/v1/me/households", member).await;
    app.get("/api/v1/me/households", member).await;

    let days: Vec<_> = reads_by(&app, member.id)
        .await
        .into_iter()
        .map(|r| r.read_on)
        .collect();
    assert_eq!(days.len(), 2, "{days:?}");
    assert!(days.contains(&Some(yesterday.date_naive())));
    assert!(days.contains(&Some(Utc::now().date_naive())));
}

#[tokio::test]
async fn audit_rows_past_their_retention_are_purged_and_later_ones_kept() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    app.get("/api/v1/me/households", &branch.members[0]).await;
    let changed = app
        .patch(
            &format!("/api/v1/households/{}", branch.households[0].id),
            &branch.secretary,
            json!({ "group": "第二村民小组" }),
        )
        .await;
    assert_eq!(changed.status(), StatusCode::OK);
    // The member's read is four years old; the change is today's.
    audit_log::Entity::update_many()
        .col_expr(
            audit_log::Column::CreatedAt,
            Expr::value(Utc::now() - Duration::days(4 * 365)),
        )
        .filter(audit_log::Column::ActorId.eq(branch.members[0].id))
        .exec(&app.db)
        .await
        .unwrap();
    let settings = xianfeng::platform::config::Settings::from_lookup(|_| None).unwrap();
    let retention = xianfeng::core::retention::Retention::of(&settings);
    let storage = xianfeng::platform::storage::Storage::new(
        std::sync::Arc::new(object_store::memory::InMemory::new()),
        std::env::temp_dir(),
    );

    let purged = xianfeng::core::retention::purge_all(&app.db, &storage, retention)
        .await
        .unwrap();

    assert_eq!(purged.audit_rows, 1);
    assert!(reads_by(&app, branch.members[0].id).await.is_empty());
    let updates = entries(&app, "action=household.updated").await;
    assert_eq!(updates.len(), 1, "the change within retention stays");
}
