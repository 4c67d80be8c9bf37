//! The in-app inbox, fed from the outbox by the in-process notifier.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use xianfeng::entities::{notification, outbox_event, user};
use xianfeng::platform::http::metrics::NotificationMetrics;

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
    let metrics = NotificationMetrics::new().unwrap();
    xianfeng::workers::delivery::deliver_pending(&app.db, None, &metrics)
        .await
        .unwrap();
    xianfeng::workers::delivery::deliver_pending(&app.db, None, &metrics)
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
    use xianfeng::workers::stream::{self, StreamSettings};
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    // A stream of its own, so the app's worker does not take the entry first.
    let settings = StreamSettings {
        url: url.clone(),
        prefix: format!("xftest-reclaim:{}", uuid::Uuid::now_v7()),
        max_len: 1_000,
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

    let metrics = NotificationMetrics::new().unwrap();
    let handled = stream::consume_once(
        &app.db,
        &mut conn,
        &settings,
        "live-consumer",
        10,
        None,
        &metrics,
    )
    .await
    .unwrap();

    assert_eq!(handled, 1);
    assert_eq!(
        notification::Entity::find()
            .filter(notification::Column::EventId.eq(event.id))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let pending: redis::streams::StreamPendingReply =
        redis::AsyncCommands::xpending(&mut conn, settings.stream(), stream::GROUP)
            .await
            .unwrap();
    assert_eq!(pending.count(), 0, "acknowledged after delivery");
}

/// Through Redis only: a batch read at once holds an event twice (relayed
/// again after a crash) and an entry naming no event; the event reaches the
/// inbox once, the stray entry goes to the dead letters, and all are
/// acknowledged.
#[tokio::test]
async fn a_batch_with_a_repeated_and_a_stray_entry_delivers_each_event_once() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        return;
    };
    use xianfeng::workers::stream::{self, StreamSettings};
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let settings = StreamSettings {
        url: url.clone(),
        prefix: format!("xftest-batch:{}", uuid::Uuid::now_v7()),
        max_len: 1_000,
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
    for id in [event.id, event.id, uuid::Uuid::now_v7()] {
        let _: String = redis::AsyncCommands::xadd(
            &mut conn,
            settings.stream(),
            "*",
            &[("event_id", id.to_string())],
        )
        .await
        .unwrap();
    }

    let metrics = NotificationMetrics::new().unwrap();
    let handled = stream::consume_once(
        &app.db, &mut conn, &settings, "worker", 30_000, None, &metrics,
    )
    .await
    .unwrap();

    assert_eq!(handled, 3);
    assert_eq!(
        notification::Entity::find()
            .filter(notification::Column::EventId.eq(event.id))
            .count(&app.db)
            .await
            .unwrap(),
        1
    );
    let pending: redis::streams::StreamPendingReply =
        redis::AsyncCommands::xpending(&mut conn, settings.stream(), stream::GROUP)
            .await
            .unwrap();
    assert_eq!(pending.count(), 0, "every entry acknowledged");
    let dead: usize = redis::AsyncCommands::xlen(&mut conn, settings.dead())
        .await
        .unwrap();
    assert_eq!(dead, 1);
}

/// A Redis server of the test's own, which it may stop and start again.
struct OwnRedis {
    port: u16,
    process: std::process::Child,
}

impl OwnRedis {
    /// `None` (and the reason printed) where no `redis-server` can be run.
    fn start(port: u16) -> Option<Self> {
        let process = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn();
        match process {
            Ok(process) => Some(OwnRedis { port, process }),
            Err(err) => {
                eprintln!("skipped: cannot run redis-server ({err})");
                None
            }
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    async fn wait_up(&self) {
        for _ in 0..50 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("redis-server on {} never came up", self.port);
    }

    fn stop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Redis stops while members submit: every submission still answers 201,
/// readiness reports it, and once Redis is back every notification arrives,
/// each once.
#[tokio::test]
async fn submissions_outlive_a_redis_outage_and_notifications_catch_up() {
    let port = free_port();
    let Some(mut redis) = OwnRedis::start(port) else {
        return;
    };
    redis.wait_up().await;
    let app = spawn_app_with(Options {
        env: vec![("REDIS_URL", redis.url())],
    })
    .await;
    let branch = &app.world.a.branches[0];

    redis.stop();
    let mut statuses = Vec::new();
    for member in &branch.members {
        for household in &branch.households {
            let response = app
                .post("/api/v1/visits", member, check_in_body(household.id))
                .await;
            statuses.push(response.status());
        }
    }
    let ready_while_down = app.client.get(app.url("/readyz")).send().await.unwrap();
    let ready_while_down = (
        ready_while_down.status(),
        ready_while_down.json::<Value>().await.unwrap(),
    );
    let redis = OwnRedis::start(port).unwrap();
    redis.wait_up().await;
    let inbox = inbox_of_within(&app, &branch.secretary, 4, 150).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let settled = json_of(app.get("/api/v1/notifications", &branch.secretary).await).await;
    let ready_after = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .unwrap()
        .status();

    assert!(
        statuses.iter().all(|s| *s == StatusCode::CREATED),
        "{statuses:?}"
    );
    // Still serving: degraded, not taken out of the load balancer.
    assert_eq!(ready_while_down.0, StatusCode::OK);
    assert_eq!(ready_while_down.1["status"], "degraded");
    assert_eq!(ready_while_down.1["redis"], "down");
    assert_eq!(inbox["items"].as_array().unwrap().len(), 4);
    assert_eq!(settled["items"].as_array().unwrap().len(), 4, "each once");
    assert_eq!(ready_after, StatusCode::OK);
}

/// The inbox of `user` once it holds `count` notifications, polling every 100 ms.
async fn inbox_of_within(app: &TestApp, user: &user::Model, count: usize, polls: usize) -> Value {
    for _ in 0..polls {
        let inbox = json_of(app.get("/api/v1/notifications", user).await).await;
        if inbox["items"].as_array().unwrap().len() >= count {
            return inbox;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{} never received {count} notifications", user.name);
}

/// 10:00 Beijing time some days from now, as UTC. Tests use days ahead, which
/// the app's own background run (at the real time) never claims.
fn morning(days_from_now: i64) -> chrono::DateTime<Utc> {
    let beijing = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let day =
        (Utc::now().with_timezone(&beijing) + chrono::Duration::days(days_from_now)).date_naive();
    day.and_hms_opt(10, 0, 0)
        .unwrap()
        .and_local_timezone(beijing)
        .unwrap()
        .with_timezone(&Utc)
}

async fn outbox_of(app: &TestApp, kind: &str) -> u64 {
    outbox_event::Entity::find()
        .filter(outbox_event::Column::Kind.eq(kind))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn the_daily_digests_go_out_once_however_many_replicas_race() {
    use xianfeng::core::events::{OVERDUE_HOUSEHOLDS, STALE_REVIEWS};
    use xianfeng::features::notifications::digest::send_due;
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let visit = json_of(
        app.post(
            "/api/v1/visits",
            &branch.members[1],
            check_in_body(branch.households[1].id),
        )
        .await,
    )
    .await;
    xianfeng::entities::visit::Entity::update_many()
        .col_expr(
            xianfeng::entities::visit::Column::SubmittedAt,
            Expr::value(Utc::now() - chrono::Duration::days(2)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let today = morning(10);

    let too_early = send_due(&app.db, today - chrono::Duration::hours(3))
        .await
        .unwrap();
    let (first, second) = tokio::join!(send_due(&app.db, today), send_due(&app.db, today));
    let later_today = send_due(&app.db, today + chrono::Duration::hours(6))
        .await
        .unwrap();
    let tomorrow = send_due(&app.db, morning(11)).await.unwrap();

    assert_eq!(too_early, 0, "before 08:00 nothing goes out");
    let (first, second) = (first.unwrap(), second.unwrap());
    // Every branch's first member has an unvisited household (three
    // branches in two townships); one branch has a visit waiting two days.
    // The racers may split the digests between them; each goes out once.
    assert_eq!(first + second, 3 + 1, "{first} and {second}");
    assert_eq!(later_today, 0);
    assert_eq!(tomorrow, 4);
    assert_eq!(outbox_of(&app, OVERDUE_HOUSEHOLDS).await, 6);
    assert_eq!(outbox_of(&app, STALE_REVIEWS).await, 2);
    assert!(visit["id"].is_string());
}

#[tokio::test]
async fn members_hear_of_their_overdue_households_and_secretaries_of_waiting_reviews() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    app.post(
        "/api/v1/visits",
        &branch.members[1],
        check_in_body(branch.households[1].id),
    )
    .await;
    xianfeng::entities::visit::Entity::update_many()
        .col_expr(
            xianfeng::entities::visit::Column::SubmittedAt,
            Expr::value(Utc::now() - chrono::Duration::days(2)),
        )
        .exec(&app.db)
        .await
        .unwrap();
    let before = inbox_of(&app, &branch.secretary, 1).await;
    assert_eq!(before["items"].as_array().unwrap().len(), 1);

    xianfeng::features::notifications::digest::send_due(&app.db, morning(10))
        .await
        .unwrap();

    let member = inbox_of(&app, &branch.members[0], 1).await;
    assert_eq!(member["items"][0]["title"], "包联农户待走访");
    let body = member["items"][0]["body"].as_str().unwrap();
    assert!(body.contains(&branch.households[0].head_name), "{body}");
    let secretary = inbox_of(&app, &branch.secretary, 2).await;
    assert_eq!(secretary["items"][0]["title"], "待审核事项提醒");
    let other_member = json_of(app.get("/api/v1/notifications", &branch.members[1]).await).await;
    assert_eq!(
        other_member["items"].as_array().unwrap().len(),
        0,
        "no household assigned"
    );
}

/// A poll so long that, within a test, only the wake on commit delivers.
fn without_poll() -> Options {
    Options {
        env: vec![("NOTIFICATIONS_POLL_MS", "600000".to_owned())],
    }
}

#[tokio::test]
async fn a_submission_is_delivered_at_once_not_at_the_next_poll() {
    let app = spawn_app_with(without_poll()).await;
    let branch = &app.world.a.branches[0];

    app.post(
        "/api/v1/visits",
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;

    let inbox = inbox_of_within(&app, &branch.secretary, 1, 30).await;
    assert_eq!(inbox["items"][0]["kind"], "visit.submitted");
}

/// The value of the sample `name` (with its labels, if any) in `/metrics`.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
}

/// `/metrics` once `ready` holds of it (the notifier counts just after it
/// commits), or as it is after two seconds.
async fn metrics_once(app: &TestApp, ready: impl Fn(&str) -> bool) -> String {
    let mut text = String::new();
    for _ in 0..40 {
        text = app
            .client
            .get(app.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if ready(&text) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    text
}

#[tokio::test]
async fn metrics_follow_a_submission_from_the_outbox_to_the_inbox() {
    let through_redis = std::env::var("TEST_REDIS_URL").is_ok();
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    app.post(
        "/api/v1/visits",
        &branch.members[0],
        check_in_body(branch.households[0].id),
    )
    .await;
    inbox_of(&app, &branch.secretary, 1).await;
    let text = metrics_once(&app, |t| {
        sample(t, "xianfeng_notification_events_delivered_total") == Some(1.0)
            && sample(t, "xianfeng_notification_stream_pending") == Some(0.0)
    })
    .await;

    let value = |name: &str| sample(&text, name).unwrap_or_else(|| panic!("no {name}:\n{text}"));
    assert_eq!(value("xianfeng_notification_events_written_total"), 1.0);
    assert_eq!(
        value("xianfeng_notification_events_relayed_total"),
        if through_redis { 1.0 } else { 0.0 }
    );
    assert_eq!(value("xianfeng_notification_events_delivered_total"), 1.0);
    assert_eq!(value("xianfeng_notification_inbox_entries_total"), 1.0);
    assert_eq!(value("xianfeng_notification_events_failed_total"), 0.0);
    assert_eq!(value("xianfeng_notification_events_dead_total"), 0.0);
    assert_eq!(value("xianfeng_notification_delivery_seconds_count"), 1.0);
    let waited = value("xianfeng_notification_delivery_seconds_sum");
    assert!(waited > 0.0 && waited < 5.0, "{waited}");
    assert_eq!(value("xianfeng_outbox_pending_events"), 0.0);
    assert_eq!(
        value("xianfeng_notification_stream_length"),
        if through_redis { 1.0 } else { 0.0 }
    );
    assert_eq!(value("xianfeng_notification_stream_lag"), 0.0);
    assert_eq!(value("xianfeng_notification_stream_pending"), 0.0);
}

/// Through Redis only: an entry naming no outbox event cannot be delivered;
/// it is counted as failed and as given up on, and goes to the dead letters.
#[tokio::test]
async fn an_entry_that_cannot_be_delivered_is_counted_failed_and_dead() {
    let Ok(url) = std::env::var("TEST_REDIS_URL") else {
        return;
    };
    let prefix = format!("xftest-dead:{}", uuid::Uuid::now_v7());
    let app = spawn_app_with(Options {
        env: vec![("REDIS_PREFIX", prefix.clone())],
    })
    .await;
    let mut conn = xianfeng::workers::stream::connect(&url).await.unwrap();

    let _: String = redis::AsyncCommands::xadd(
        &mut conn,
        format!("{prefix}:notifications"),
        "*",
        &[("event_id", uuid::Uuid::now_v7().to_string())],
    )
    .await
    .unwrap();
    let text = metrics_once(&app, |t| {
        sample(t, "xianfeng_notifications_dead_letters") == Some(1.0)
    })
    .await;

    assert_eq!(
        sample(&text, "xianfeng_notification_events_failed_total"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "xianfeng_notification_events_dead_total"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "xianfeng_notifications_dead_letters"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "xianfeng_notification_events_delivered_total"),
        Some(0.0)
    );
}
