//! Sessions end when what they were granted on changes: a password change or
//! reset, a deactivation, a change of role or branch, a sign-out. And a token
//! holds only for a user who exists as it says, even if its signature is good.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::domain::Role;
use xianfeng::entities::user;
use xianfeng::platform::tokens::{AccessClaims, TokenType, now_secs};

use crate::helpers::*;

/// A signed-in session of `user`: (access token, refresh token).
async fn sign_in(app: &TestApp, user: &user::Model) -> (String, String) {
    let response = app.login(&user.phone, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::OK);
    let session = json_of(response).await;
    (
        session["access_token"].as_str().unwrap().to_owned(),
        session["refresh_token"].as_str().unwrap().to_owned(),
    )
}

async fn get_with(app: &TestApp, path: &str, token: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn post_with(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn refresh(app: &TestApp, refresh_token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap()
}

async fn change_user(app: &TestApp, by: &user::Model, id: Uuid, body: Value) {
    let response = app.patch(&format!("/api/v1/users/{id}"), by, body).await;
    assert_eq!(response.status(), StatusCode::OK);
}

fn check_in_body(household_id: Uuid) -> Value {
    json!({
        "household_id": household_id,
        "kind": "assistance",
        "visited_at": Utc::now().to_rfc3339(),
        "location": { "lat": 30.2741, "lng": 120.1551, "accuracy_m": 10.0 },
        "summary": "了解冬季取暖情况"
    })
}

/// Asserts that `token` no longer reaches anything.
async fn assert_ended(app: &TestApp, token: &str) {
    let response = get_with(app, "/api/v1/me/households", token).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(response).await, "unauthenticated");
}

#[tokio::test]
async fn a_forged_admin_token_of_a_user_that_does_not_exist_is_401() {
    let app = spawn_app().await;
    let town = &app.world.a;
    let forged = app
        .keys
        .sign(&AccessClaims {
            sub: Uuid::now_v7(),
            twp: town.township.id,
            br: None,
            role: Role::TownshipAdmin,
            ver: 0,
            typ: TokenType::Access,
            iat: now_secs(),
            exp: now_secs() + 900,
        })
        .unwrap();

    let listed = get_with(&app, "/api/v1/users", &forged).await;
    let created = post_with(
        &app,
        "/api/v1/users",
        &forged,
        json!({ "name": "冒名管理员", "phone": unique_phone(), "role": "township_admin", "password": "another-horse-battery" }),
    )
    .await;

    assert_eq!(listed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(created.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_claiming_more_than_its_user_has_is_401() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let promoted = app
        .keys
        .sign(&AccessClaims {
            sub: member.id,
            twp: member.township_id,
            br: None,
            role: Role::TownshipAdmin,
            ver: member.token_version,
            typ: TokenType::Access,
            iat: now_secs(),
            exp: now_secs() + 900,
        })
        .unwrap();

    let listed = get_with(&app, "/api/v1/users", &promoted).await;

    assert_eq!(listed.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_change_ends_every_session_but_the_new_password_signs_in() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let (access, refresh_token) = sign_in(&app, member).await;

    change_user(
        &app,
        member,
        member.id,
        json!({ "password": "a-new-horse-battery" }),
    )
    .await;

    assert_ended(&app, &access).await;
    assert_eq!(
        refresh(&app, &refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let again = app.login(&member.phone, "a-new-horse-battery").await;
    assert_eq!(again.status(), StatusCode::OK);
    let fresh = json_of(again).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let households = get_with(&app, "/api/v1/me/households", &fresh).await;
    assert_eq!(households.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_admin_password_reset_ends_the_users_sessions() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let (access, refresh_token) = sign_in(&app, member).await;

    change_user(
        &app,
        &app.world.a.admin,
        member.id,
        json!({ "password": "reset-by-the-admin" }),
    )
    .await;

    assert_ended(&app, &access).await;
    assert_eq!(
        refresh(&app, &refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_deactivated_member_can_no_longer_submit_visits() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[0];
    let (access, _) = sign_in(&app, member).await;
    let before = post_with(
        &app,
        "/api/v1/visits",
        &access,
        check_in_body(branch.households[0].id),
    )
    .await;
    assert_eq!(before.status(), StatusCode::CREATED);

    change_user(
        &app,
        &branch.secretary,
        member.id,
        json!({ "active": false }),
    )
    .await;
    let after = post_with(
        &app,
        "/api/v1/visits",
        &access,
        check_in_body(branch.households[0].id),
    )
    .await;

    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(after).await, "unauthenticated");
}

#[tokio::test]
async fn a_demoted_secretary_can_no_longer_review() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let secretary = &branch.secretary;
    let (access, refresh_token) = sign_in(&app, secretary).await;
    let submitted = app
        .post(
            "/api/v1/visits",
            &branch.members[0],
            check_in_body(branch.households[0].id),
        )
        .await;
    assert_eq!(submitted.status(), StatusCode::CREATED);
    let visit_id = json_of(submitted).await["id"].as_str().unwrap().to_owned();

    change_user(
        &app,
        &app.world.a.admin,
        secretary.id,
        json!({ "role": "member" }),
    )
    .await;
    let reviewed = post_with(
        &app,
        &format!("/api/v1/visits/{visit_id}/review"),
        &access,
        json!({ "decision": "approve" }),
    )
    .await;

    assert_eq!(reviewed.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&app, &refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_member_moved_to_another_branch_signs_in_again() {
    let app = spawn_app().await;
    let town = &app.world.a;
    let member = &town.branches[0].members[0];
    let (access, _) = sign_in(&app, member).await;

    change_user(
        &app,
        &town.admin,
        member.id,
        json!({ "branch_id": town.branches[1].branch.id }),
    )
    .await;

    assert_ended(&app, &access).await;
    let (moved, _) = sign_in(&app, member).await;
    let me = json_of(get_with(&app, "/api/v1/me", &moved).await).await;
    assert_eq!(me["branch_id"], json!(town.branches[1].branch.id));
}

#[tokio::test]
async fn logout_ends_the_access_token_and_other_sessions_refresh() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let (phone, phone_refresh) = sign_in(&app, member).await;
    let (_, desktop_refresh) = sign_in(&app, member).await;

    let response = post_with(
        &app,
        "/api/v1/auth/logout",
        &phone,
        json!({ "refresh_token": phone_refresh }),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);

    assert_ended(&app, &phone).await;
    assert_eq!(
        refresh(&app, &phone_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let desktop = refresh(&app, &desktop_refresh).await;
    assert_eq!(desktop.status(), StatusCode::OK);
    let desktop = json_of(desktop).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let households = get_with(&app, "/api/v1/me/households", &desktop).await;
    assert_eq!(households.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_change_of_name_keeps_the_session() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let (access, refresh_token) = sign_in(&app, member).await;

    change_user(&app, member, member.id, json!({ "name": "张伟" })).await;

    let households = get_with(&app, "/api/v1/me/households", &access).await;
    assert_eq!(households.status(), StatusCode::OK);
    assert_eq!(refresh(&app, &refresh_token).await.status(), StatusCode::OK);
}
