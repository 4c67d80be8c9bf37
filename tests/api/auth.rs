//! Password sign-in, refresh rotation, logout, hostile tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn login_answers_tokens_and_the_unmasked_user() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let response = app.login(&member.phone, PASSWORD).await;

    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["phone"], member.phone.as_str());
    assert_eq!(body["user"]["role"], "member");
    let me = app
        .client
        .get(app.url("/api/v1/me"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(me).await["id"], member.id.to_string());
}

#[tokio::test]
async fn wrong_password_and_unknown_phone_answer_the_same_401() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    let wrong = app.login(&member.phone, "not-the-password").await;
    let unknown = app.login("13999999999", PASSWORD).await;

    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(wrong).await, error_code(unknown).await);
}

#[tokio::test]
async fn ten_failures_lock_the_phone_with_retry_after_and_others_stay_open() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let other = &app.world.a.branches[0].members[1];

    for _ in 0..10 {
        assert_eq!(
            app.login(&member.phone, "wrong-password").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let locked = app.login(&member.phone, PASSWORD).await;

    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after > 0 && retry_after <= 900, "{retry_after}");
    assert_eq!(error_code(locked).await, "rate_limited");
    assert_eq!(
        app.login(&other.phone, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_successful_login_resets_the_failure_count() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];

    for _ in 0..9 {
        app.login(&member.phone, "wrong-password").await;
    }
    assert_eq!(
        app.login(&member.phone, PASSWORD).await.status(),
        StatusCode::OK
    );
    for _ in 0..9 {
        app.login(&member.phone, "wrong-password").await;
    }

    assert_eq!(
        app.login(&member.phone, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn missing_or_malformed_login_fields_are_422_naming_them() {
    let app = spawn_app().await;

    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "phone": "13800000000" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "password");
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/refresh"))
        .json(&json!({ "refresh_token": token }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn refresh_rotates_and_reusing_a_spent_token_revokes_the_family() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let first = json_of(app.login(&member.phone, PASSWORD).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    let rotated = refresh(&app, &first).await;
    assert_eq!(rotated.status(), StatusCode::OK);
    let second = json_of(rotated).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(first, second);

    let reused = refresh(&app, &first).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    // The thief's reuse also ends the legitimate holder's session.
    assert_eq!(
        refresh(&app, &second).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn other_sessions_survive_a_reuse_in_one_family() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let phone_session = json_of(app.login(&member.phone, PASSWORD).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let desktop_session = json_of(app.login(&member.phone, PASSWORD).await).await["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();

    refresh(&app, &phone_session).await;
    refresh(&app, &phone_session).await;

    assert_eq!(
        refresh(&app, &desktop_session).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn logout_ends_the_session() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let session = json_of(app.login(&member.phone, PASSWORD).await).await;
    let refresh_token = session["refresh_token"].as_str().unwrap();

    let response = app
        .client
        .post(app.url("/api/v1/auth/logout"))
        .bearer_auth(session["access_token"].as_str().unwrap())
        .json(&json!({ "refresh_token": refresh_token }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        refresh(&app, refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn unknown_refresh_token_is_401() {
    let app = spawn_app().await;
    assert_eq!(
        refresh(&app, "made-up").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn forged_expired_and_unsigned_tokens_are_401() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let good = app.token_for(member);
    let (header, rest) = good.split_once('.').unwrap();
    let (payload, _signature) = rest.split_once('.').unwrap();
    let alg_none = format!(
        "{}.{payload}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    let bad_signature = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode(b"forged"));
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    claims["exp"] = json!(1);
    let expired = app.keys.sign(&claims).unwrap();
    claims["exp"] = json!(4_000_000_000u64);
    claims["role"] = json!("township_admin");
    let other_key =
        xianfeng::platform::tokens::TokenKeys::new(b"another-secret-of-at-least-32-bytes!!")
            .sign(&claims)
            .unwrap();

    for token in [
        alg_none,
        bad_signature,
        expired,
        other_key,
        "garbage".to_owned(),
    ] {
        let response = app
            .client
            .get(app.url("/api/v1/me"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token}");
        assert_eq!(error_code(response).await, "unauthenticated");
    }
    let anonymous = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_deactivated_user_cannot_sign_in() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let member = &branch.members[1];

    let response = app
        .patch(
            &format!("/api/v1/users/{}", member.id),
            &branch.secretary,
            json!({ "active": false }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    assert_eq!(
        app.login(&member.phone, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}
