//! Backups and their restore, and soft delete with its purge.

use std::time::Duration;

use chrono::Utc;
use reqwest::StatusCode;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, Database, EntityTrait,
    IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use uuid::Uuid;
use xianfeng::entities::{assignment, household, visit};
use xianfeng::platform::config::Settings;

use crate::helpers::*;

/// What a restore must bring back: every household and visit, field by field.
async fn contents(db: &impl ConnectionTrait) -> (Vec<household::Model>, Vec<visit::Model>) {
    let households = household::Entity::find()
        .order_by_asc(household::Column::Id)
        .all(db)
        .await
        .unwrap();
    let visits = visit::Entity::find()
        .order_by_asc(visit::Column::Id)
        .all(db)
        .await
        .unwrap();
    (households, visits)
}

fn sqlite_settings(data_dir: &std::path::Path) -> Settings {
    let dir = data_dir.display().to_string();
    Settings::from_lookup(|name| match name {
        "DATA_DIR" => Some(dir.clone()),
        _ => None,
    })
    .unwrap()
}

#[tokio::test]
async fn sqlite_backup_taken_online_restores_the_data_as_it_was() {
    // Arrange: the demo township in a SQLite database of its own.
    let data_dir = std::env::temp_dir().join(format!("xianfeng-backup-{}", Uuid::now_v7()));
    let settings = sqlite_settings(&data_dir);
    let db = xianfeng::platform::db::connect(&settings).await.unwrap();
    xianfeng::platform::db::migrate(&db).await.unwrap();
    xianfeng::app::demo::load(&db).await.unwrap();
    let before = contents(&db).await;
    assert!(!before.0.is_empty() && !before.1.is_empty());
    let backup = data_dir.join("backup.db");

    // Act: back up with the pool open, change and remove rows, restore.
    xianfeng::platform::backup::backup(&settings, &db, &backup)
        .await
        .unwrap();
    let mut changed = before.0[0].clone().into_active_model();
    changed.head_name = Set("改过的名字".into());
    changed.update(&db).await.unwrap();
    visit::Entity::delete_many().exec(&db).await.unwrap();
    assert_ne!(contents(&db).await, before);
    db.close().await.unwrap();
    xianfeng::platform::backup::restore(&settings, &backup)
        .await
        .unwrap();

    // Assert
    let reopened = xianfeng::platform::db::connect(&settings).await.unwrap();
    assert_eq!(contents(&reopened).await, before);
    reopened.close().await.ok();
    std::fs::remove_dir_all(&data_dir).ok();
}

#[tokio::test]
async fn backup_never_overwrites_and_restore_refuses_what_is_not_a_database() {
    let data_dir = std::env::temp_dir().join(format!("xianfeng-backup-{}", Uuid::now_v7()));
    let settings = sqlite_settings(&data_dir);
    let db = xianfeng::platform::db::connect(&settings).await.unwrap();
    xianfeng::platform::db::migrate(&db).await.unwrap();
    let existing = data_dir.join("existing.db");
    std::fs::write(&existing, b"not a database").unwrap();

    let overwrite = xianfeng::platform::backup::backup(&settings, &db, &existing).await;
    db.close().await.ok();
    let from_junk = xianfeng::platform::backup::restore(&settings, &existing).await;

    assert!(overwrite.is_err());
    assert_eq!(std::fs::read(&existing).unwrap(), b"not a database");
    assert!(from_junk.is_err());
    let reopened = xianfeng::platform::db::connect(&settings).await.unwrap();
    let migrated = reopened
        .query_one_raw(sea_orm::Statement::from_string(
            reopened.get_database_backend(),
            "SELECT count(*) FROM seaql_migrations",
        ))
        .await;
    assert!(migrated.is_ok(), "the database was left as it was");
    std::fs::remove_dir_all(&data_dir).ok();
}

#[tokio::test]
async fn backup_on_postgresql_points_to_pg_dump() {
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some("postgres://postgres@127.0.0.1:5432/test".into()),
        "JWT_SECRET" => Some(JWT_SECRET.into()),
        "ID_NUMBER_KEY" => Some(ID_NUMBER_KEY.into()),
        _ => None,
    })
    .unwrap();
    let db = Database::connect("sqlite::memory:").await.unwrap();

    let answer =
        xianfeng::platform::backup::backup(&settings, &db, std::path::Path::new("/tmp/x.dump"))
            .await
            .unwrap_err()
            .to_string();

    assert!(answer.contains("pg_dump"), "{answer}");
}

#[tokio::test]
async fn ended_assignments_vanish_from_every_read_but_keep_their_row() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[0];
    let member = &branch.members[0];
    let path = format!(
        "/api/v1/households/{}/assignees/{}",
        household.id, member.id
    );

    let ended = app.delete(&path, &branch.secretary).await;

    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    let shown = json_of(
        app.get(
            &format!("/api/v1/households/{}", household.id),
            &branch.secretary,
        )
        .await,
    )
    .await;
    assert_eq!(shown["assignees"], json!([]));
    let mine = json_of(app.get("/api/v1/me/households", member).await).await;
    assert_eq!(mine["items"], json!([]));
    let filtered = json_of(
        app.get(
            &format!("/api/v1/households?assignee_id={}", member.id),
            &branch.secretary,
        )
        .await,
    )
    .await;
    assert_eq!(filtered["items"], json!([]));
    let again = app.delete(&path, &branch.secretary).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    let kept = assignment::Entity::find()
        .filter(assignment::Column::HouseholdId.eq(household.id))
        .all(&app.db)
        .await
        .unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].deleted_at.is_some());
}

#[tokio::test]
async fn a_member_can_be_assigned_again_after_an_assignment_ended() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[0];
    let member = &branch.members[0];
    app.delete(
        &format!(
            "/api/v1/households/{}/assignees/{}",
            household.id, member.id
        ),
        &branch.secretary,
    )
    .await;

    let assigned = app
        .post(
            &format!("/api/v1/households/{}/assignees", household.id),
            &branch.secretary,
            json!({ "member_id": member.id }),
        )
        .await;

    assert_eq!(assigned.status(), StatusCode::CREATED);
    let mine = json_of(app.get("/api/v1/me/households", member).await).await;
    assert_eq!(mine["items"][0]["id"], household.id.to_string());
}

#[tokio::test]
async fn purge_removes_deleted_rows_only_after_the_retention_period() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[0];
    app.delete(
        &format!(
            "/api/v1/households/{}/assignees/{}",
            household.id, branch.members[0].id
        ),
        &branch.secretary,
    )
    .await;
    let retention = Duration::from_secs(90 * 24 * 3600);
    let live_before = xianfeng::core::retention::live_assignments()
        .count(&app.db)
        .await
        .unwrap();

    let too_soon = xianfeng::core::retention::purge(&app.db, retention)
        .await
        .unwrap();
    let ended = assignment::Entity::find()
        .filter(assignment::Column::DeletedAt.is_not_null())
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mut aged = ended.into_active_model();
    aged.deleted_at = Set(Some(Utc::now() - chrono::Duration::days(91)));
    aged.update(&app.db).await.unwrap();
    let due = xianfeng::core::retention::purge(&app.db, retention)
        .await
        .unwrap();

    assert_eq!(too_soon, 0);
    assert_eq!(due, 1);
    assert_eq!(
        assignment::Entity::find()
            .filter(assignment::Column::HouseholdId.eq(household.id))
            .count(&app.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        xianfeng::core::retention::live_assignments()
            .count(&app.db)
            .await
            .unwrap(),
        live_before
    );
    assert!(live_before > 0);
}
