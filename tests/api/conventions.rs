//! SPEC §4 conventions: the error envelope, languages, limits, pagination.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn malformed_json_is_400_bad_request_in_the_envelope() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;

    let response = app
        .request(Method::POST, "/api/v1/branches", Some(admin))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], "bad_request");
    assert!(body["error"]["message"].as_str().unwrap().contains("请求"));
    assert!(body["error"]["details"].is_array());
}

#[tokio::test]
async fn wrong_types_are_422_naming_the_field() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;

    let response = app
        .post(
            "/api/v1/branches",
            admin,
            json!({ "name": 5, "kind": "village" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(response).await;
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["details"][0]["field"], "name");
}

#[tokio::test]
async fn bodies_over_64_kib_are_413() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let huge = "党".repeat(30_000);

    let response = app
        .post(
            "/api/v1/branches",
            admin,
            json!({ "name": huge, "kind": "village" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(response).await, "payload_too_large");
}

#[tokio::test]
async fn other_content_types_are_415() {
    let app = spawn_app().await;

    let response = app
        .request(Method::POST, "/api/v1/branches", Some(&app.world.a.admin))
        .body("name=x")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(error_code(response).await, "unsupported_media_type");
}

#[tokio::test]
async fn messages_are_chinese_by_default_and_english_on_request() {
    let app = spawn_app().await;
    let path = format!("/api/v1/branches/{}", uuid::Uuid::now_v7());

    let chinese = json_of(app.get(&path, &app.world.a.admin).await).await;
    let english = json_of(
        app.request(Method::GET, &path, Some(&app.world.a.admin))
            .header("accept-language", "en-US,en;q=0.9")
            .send()
            .await
            .unwrap(),
    )
    .await;

    assert_eq!(chinese["error"]["message"], "资源不存在");
    assert_eq!(english["error"]["message"], "not found");
    assert_eq!(english["error"]["code"], "not_found");
}

#[tokio::test]
async fn field_errors_are_localised_too() {
    let app = spawn_app().await;
    let secretary = &app.world.a.branches[0].secretary;
    let body = json!({ "head_name": "", "address": "一组", "phone": "abc" });

    let english = json_of(
        app.request(Method::POST, "/api/v1/households", Some(secretary))
            .header("accept-language", "en")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let chinese = json_of(app.post("/api/v1/households", secretary, body).await).await;

    let fields: Vec<&str> = english["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["head_name", "phone"]);
    assert_eq!(
        english["error"]["details"][1]["message"],
        "not a valid phone number"
    );
    assert_eq!(
        chinese["error"]["details"][1]["message"],
        "电话号码格式不正确"
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_in_the_envelope() {
    let app = spawn_app().await;

    let missing = app.get("/api/v1/nothing-here", &app.world.a.admin).await;
    let wrong_method = app.delete("/api/v1/branches", &app.world.a.admin).await;

    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(missing).await, "not_found");
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(wrong_method).await, "method_not_allowed");
}

#[tokio::test]
async fn a_malformed_id_in_the_path_is_404() {
    let app = spawn_app().await;
    let response = app
        .get("/api/v1/households/not-a-uuid", &app.world.a.admin)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(response).await, "not_found");
}

#[tokio::test]
async fn lists_page_with_cursor_default_20_and_clamp_100() {
    let app = spawn_app().await;
    let secretary = &app.world.a.branches[0].secretary;
    for i in 0..23 {
        let created = app
            .post(
                "/api/v1/households",
                secretary,
                json!({ "head_name": format!("户{i}"), "address": format!("{i}号") }),
            )
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }

    let first = json_of(app.get("/api/v1/households", secretary).await).await;
    assert_eq!(first["items"].as_array().unwrap().len(), 20);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = json_of(
        app.get(&format!("/api/v1/households?cursor={cursor}"), secretary)
            .await,
    )
    .await;
    // 2 seeded + 23 created in the branch.
    assert_eq!(second["items"].as_array().unwrap().len(), 5);
    assert!(second["next_cursor"].is_null());
    let firsts: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert!(
        second["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| !firsts.contains(&h["id"].as_str().unwrap()))
    );

    for i in 0..80 {
        let fields = xianfeng::features::households::dto::HouseholdFields {
            head_name: Some(format!("批量{i}")),
            address: Some("村".into()),
            ..Default::default()
        };
        xianfeng::features::households::repo::create(
            &app.db,
            secretary.township_id,
            secretary.branch_id.unwrap(),
            fields,
        )
        .await
        .unwrap();
    }
    let clamped = json_of(app.get("/api/v1/households?limit=1000", secretary).await).await;
    assert_eq!(clamped["items"].as_array().unwrap().len(), 100);
    assert!(clamped["next_cursor"].is_string());
    let bad_cursor = app.get("/api/v1/households?cursor=%%%", secretary).await;
    assert_eq!(bad_cursor.status(), StatusCode::BAD_REQUEST);
    let bad_limit = app.get("/api/v1/households?limit=-1", secretary).await;
    assert_eq!(bad_limit.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn responses_are_gzipped_when_accepted_and_carry_a_request_id() {
    let app = spawn_app().await;
    let response = app
        .request(Method::GET, "/api/v1/households", Some(&app.world.a.admin))
        .header("accept-encoding", "gzip")
        .header("x-request-id", "req-42")
        .send()
        .await
        .unwrap();

    assert_eq!(response.headers()["content-encoding"], "gzip");
    assert_eq!(response.headers()["x-request-id"], "req-42");
}
