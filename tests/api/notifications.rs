//! The in-app inbox, fed from the outbox by the in-process notifier.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use xianfeng::entities::{notification, outbox_event, user};

use crate::helpers::*;

fn check_in_body(household_id: uuid::Uuid) -> Value {
    json!({
        "household_id": household_id, "kind": "assistance", "visited_at": Utc::now().to_rfc3339(),
        "location": { "lat": 30.27, "lng": 120.15 }, "summary": "了解近况"
    })
}

/// The inbox of `user` once it holds `count` notifications (the notifier runs every 250 ms).
async fn inbox_of(app: &TestApp, user: &user::Model, count: usize) -> Value {
    for _ in 0..40 {
        let inbox = json_of(app.get("/api/v1/notifications", user).await).await;
        if inbox["items"].as_array().unwrap().len() >= count {
            return inbox;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} never received {count} notifications", user.name);
}

#[tokio::test]
async fn a_new_visit_notifies_the_branch_secretary_and_nobody_else() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let visit = json_of(
        app.post(
            "/api/v1/visits",
            &branch.members[0],
            check_in_body(branch.households[0].id),
        )
        .await,
    )
    .await;

    let inbox = inbox_of(&app, &branch.secretary, 1).await;

    let note = &inbox["items"][0];
    assert_eq!(note["kind"], "visit.submitted");
    assert_eq!(note["title"], "新的走访记录待审核");
    let body = note["body"].as_str().unwrap();
    assert!(
        body.contains(&branch.members[0].name) && body.contains(&branch.households[0].head_name),
        "{body}"
    );
    assert_eq!(
        note["subject"],
        json!({ "kind": "visit", "id": visit["id"] })
    );
    assert!(note["read_at"].is_null());
    for bystander in [
        &branch.members[0],
        &branch.members[1],
        &app.world.a.admin,
        &app.world.a.branches[1].secretary,
    ] {
        assert_eq!(
            json_of(
                app.get("/api/v1/notifications/unread-count", bystander)
                    .await
            )
            .await["count"],
            0
        );
    }
}

#[tokio::test]
async fn a_decision_notifies_the_submitter_with_the_reason() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let visit = json_of(
        app.post(
            "/api/v1/visits",
            &branch.members[0],
            check_in_body(branch.households[0].id),
        )
        .await,
    )
    .await;
    let path = format!("/api/v1/visits/{}/review", visit["id"].as_str().unwrap());

    app.post(
        &path,
        &branch.secretary,
        json!({ "decision": "return", "comment": "请补充照片" }),
    )
    .await;
    let inbox = inbox_of(&app, &branch.members[0], 1).await;

    assert_eq!(inbox["items"][0]["kind"], "visit.reviewed");
    assert_eq!(inbox["items"][0]["title"], "走访记录被退回");
    assert!(
        inbox["items"][0]["body"]
            .as_str()
            .unwrap()
            .contains("请补充照片")
    );
}

#[tokio::test]
async fn a_secretarys_own_visit_goes_to_the_township_admins() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    app.post(
        "/api/v1/visits",
        &branch.secretary,
        check_in_body(branch.households[0].id),
    )
    .await;

    let inbox = inbox_of(&app, &app.world.a.admin, 1).await;
    assert_eq!(inbox["items"][0]["kind"], "visit.submitted");
    assert_eq!(
        json_of(
            app.get("/api/v1/notifications/unread-count", &branch.secretary)
                .await
        )
        .await["count"],
        0
    );
}

#[tokio::test]
async fn reading_marks_read_and_only_the_recipient_may() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    for household in &branch.households {
        app.post(
            "/api/v1/visits",
            &branch.members[0],
            check_in_body(household.id),
        )
        .await;
    }
    let inbox = inbox_of(&app, &branch.secretary, 2).await;
    let first = inbox["items"][0]["id"].as_str().unwrap();

    assert_eq!(
        app.post(
            &format!("/api/v1/notifications/{first}/read"),
            &branch.members[1],
            json!({})
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    let read = json_of(
        app.post(
            &format!("/api/v1/notifications/{first}/read"),
            &branch.secretary,
            json!({}),
        )
        .await,
    )
    .await;
    assert!(read["read_at"].is_string());
    assert_eq!(
        json_of(
            app.get("/api/v1/notifications/unread-count", &branch.secretary)
                .await
        )
        .await["count"],
        1
    );
    let unread = json_of(
        app.get("/api/v1/notifications?unread_only=true", &branch.secretary)
            .await,
    )
    .await;
    assert_eq!(unread["items"].as_array().unwrap().len(), 1);

    let all = json_of(
        app.post(
            "/api/v1/notifications/read-all",
            &branch.secretary,
            json!({}),
        )
        .await,
    )
    .await;
    assert_eq!(all["count"], 1);
    assert_eq!(
        json_of(
            app.get("/api/v1/notifications/unread-count", &branch.secretary)
                .await
        )
        .await["count"],
        0
    );
}

#[tokio::test]
async fn delivering_an_event_again_never_shows_it_twice() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    app.post(
        "/api/v1/visits",
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    inbox_of(&app, &branch.secretary, 1).await;

    // As if a worker died after writing the inbox but before marking the event.
    outbox_event::Entity::update_many()
        .col_expr(
            outbox_event::Column::RelayedAt,
            Expr::value(Option::<chrono::DateTime<Utc>>::None),
        )
        .exec(&app.db)
        .await
        .unwrap();
    xianfeng::notifications::delivery::deliver_pending(&app.db, None)
        .await
        .unwrap();
    xianfeng::notifications::delivery::deliver_pending(&app.db, None)
        .await
        .unwrap();

    assert_eq!(
        notification::Entity::find().count(&app.db).await.unwrap(),
        1
    );
}

/// Through Redis only: an entry a dead consumer read and never acknowledged
/// is taken over by a live worker and delivered.
#[tokio::test]
async fn a_dead_consumers_entries_are_reclaimed() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        return;
    };
    use xianfeng::notifications::stream::{self, StreamSettings};
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    // A stream of its own, so the app's worker does not take the entry first.
    let settings = StreamSettings {
        url: url.clone(),
        prefix: format!("xftest-reclaim:{}", uuid::Uuid::now_v7()),
    };
    let mut conn = stream::connect(&url).await.unwrap();
    app.post(
        "/api/v1/visits",
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    inbox_of(&app, &branch.secretary, 1).await;
    let event = outbox_event::Entity::find()
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    notification::Entity::delete_many()
        .exec(&app.db)
        .await
        .unwrap();
    stream::ensure_group(&mut conn, &settings).await.unwrap();
    let _: String = redis::AsyncCommands::xadd(
        &mut conn,
        settings.stream(),
        "*",
        &[("event_id", event.id.to_string())],
    )
    .await
    .unwrap();
    // The dead consumer reads the entry and never acknowledges it.
    let _: redis::streams::StreamReadReply = redis::AsyncCommands::xread_options(
        &mut conn,
        &[settings.stream()],
        &[">"],
        &redis::streams::StreamReadOptions::default()
            .group(stream::GROUP, "dead-consumer")
            .count(10),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;

    let handled = stream::consume_once(&app.db, &mut conn, &settings, "live-consumer", 10, None)
        .await
        .unwrap();

    assert_eq!(handled, 1);
    assert_eq!(
        notification::Entity::find().count(&app.db).await.unwrap(),
        1
    );
    let pending: redis::streams::StreamPendingReply =
        redis::AsyncCommands::xpending(&mut conn, settings.stream(), stream::GROUP)
            .await
            .unwrap();
    assert_eq!(pending.count(), 0, "acknowledged after delivery");
}
