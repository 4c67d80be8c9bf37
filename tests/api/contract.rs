//! The contract as the OpenAPI document states it and the server keeps it:
//! `Idempotency-Key` is a UUID, enumerations are declared, every answer is
//! described, a wrong method names the right ones, and a body is an object.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

fn committed_document() -> Value {
    serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap()
}

/// Every operation of the document: (path, method, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut found = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if operation.get("responses").is_some() {
                found.push((path.clone(), method.clone(), operation.clone()));
            }
        }
    }
    found
}

fn parameters<'a>(operation: &'a Value, name: &str) -> Vec<&'a Value> {
    operation["parameters"]
        .as_array()
        .map(|all| {
            all.iter()
                .filter(|p| {
                    p["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn check_in(app: &TestApp) -> Value {
    json!({
        "household_id": app.world.a.branches[0].households[0].id,
        "kind": "assistance",
        "visited_at": chrono::Utc::now().to_rfc3339(),
        "location": {"lat": 30.2741, "lng": 120.1551, "accuracy_m": 15.0},
        "summary": "了解近况，宣传医保政策",
    })
}

async fn check_in_with_key(app: &TestApp, key: &str, body: &Value) -> reqwest::Response {
    let member = &app.world.a.branches[0].members[0];
    app.request(Method::POST, "/api/v1/visits", Some(member))
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn an_idempotency_key_that_is_not_a_uuid_is_refused_naming_the_header() {
    let app = spawn_app().await;
    let body = check_in(&app);

    for key in ["retry-1", "0192f1c4-5a6b-7c8d-9e0f", "' OR 1=1 --"] {
        let refused = check_in_with_key(&app, key, &body).await;

        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{key}");
        let error = json_of(refused).await;
        assert_eq!(error["error"]["details"][0]["field"], "Idempotency-Key");
        assert_eq!(error["error"]["details"][0]["code"], "invalid_uuid");
    }
    let accepted = check_in_with_key(&app, &Uuid::now_v7().to_string(), &body).await;
    assert_eq!(accepted.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn two_spellings_of_one_uuid_are_one_key() {
    let app = spawn_app().await;
    let body = check_in(&app);
    let key = Uuid::now_v7();

    let first = check_in_with_key(&app, &key.to_string(), &body).await;
    let retry = check_in_with_key(&app, &key.to_string().to_uppercase(), &body).await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(json_of(first).await["id"], json_of(retry).await["id"]);
}

#[test]
fn the_document_declares_idempotency_key_a_uuid_refused_otherwise_with_422() {
    let document = committed_document();
    let mut seen = 0;
    for (path, method, operation) in operations(&document) {
        for parameter in parameters(&operation, "Idempotency-Key") {
            seen += 1;
            assert_eq!(parameter["in"], "header", "{method} {path}");
            assert_eq!(parameter["schema"]["type"], "string", "{method} {path}");
            assert_eq!(parameter["schema"]["format"], "uuid", "{method} {path}");
            assert!(
                operation["responses"]["422"].is_object(),
                "{method} {path} lists no 422"
            );
        }
    }
    assert!(seen > 10, "{seen}");
}

#[test]
fn format_parameters_are_declared_as_enumerations() {
    let document = committed_document();
    let mut seen = 0;
    for (path, method, operation) in operations(&document) {
        for parameter in parameters(&operation, "format") {
            seen += 1;
            let values = parameter["schema"]["enum"].as_array();
            assert!(
                values.is_some_and(|v| !v.is_empty()),
                "{method} {path}: {parameter}"
            );
        }
    }
    assert!(seen >= 4, "{seen}");
}

#[test]
fn every_answer_is_described_and_every_operation_states_its_security() {
    let document = committed_document();
    assert!(
        document["servers"]
            .as_array()
            .is_some_and(|s| !s.is_empty()),
        "servers"
    );
    for (path, method, operation) in operations(&document) {
        assert!(operation["summary"].is_string(), "{method} {path}: summary");
        assert!(
            operation["security"].is_array(),
            "{method} {path}: security"
        );
        for (status, response) in operation["responses"].as_object().unwrap() {
            let description = response["description"].as_str().unwrap_or("");
            assert!(
                !description.is_empty(),
                "{method} {path} {status}: no description"
            );
        }
    }
}

#[tokio::test]
async fn a_wrong_method_is_405_with_the_methods_the_path_takes_in_allow() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let visit_path = format!("/api/v1/visits/{}", Uuid::now_v7());
    let cases = [
        (
            Method::DELETE,
            "/api/v1/visits".to_owned(),
            vec!["GET", "POST"],
        ),
        (Method::PUT, visit_path, vec!["GET"]),
        (Method::POST, "/healthz".to_owned(), vec!["GET"]),
        (Method::POST, "/dashboard/".to_owned(), vec!["GET"]),
    ];

    for (method, path, expected) in cases {
        let response = app
            .request(method.clone(), &path, Some(admin))
            .send()
            .await
            .unwrap();

        assert_eq!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
        let allow = response
            .headers()
            .get("allow")
            .unwrap_or_else(|| panic!("{method} {path}: no Allow"))
            .to_str()
            .unwrap()
            .to_owned();
        let allowed: Vec<&str> = allow.split(", ").collect();
        for wanted in expected {
            assert!(allowed.contains(&wanted), "{method} {path}: Allow: {allow}");
        }
        assert!(
            !allowed.contains(&method.as_str()),
            "{method} {path}: Allow: {allow}"
        );
        assert_eq!(error_code(response).await, "method_not_allowed");
    }
}

#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_refused_naming_body() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = format!("/api/v1/households/{}", branch.households[0].id);
    let as_array = json!([
        branch.households[0].id,
        "assistance",
        "2026-12-05T09:00:00Z"
    ]);

    for body in [as_array, json!("text"), json!(5), Value::Null] {
        let patched = app.patch(&household, &branch.secretary, body.clone()).await;
        let posted = check_in_with_key(&app, &Uuid::now_v7().to_string(), &body).await;

        for (what, response) in [("PATCH", patched), ("POST", posted)] {
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{what} {body}"
            );
            let error = json_of(response).await;
            assert_eq!(
                error["error"]["details"][0]["field"], "body",
                "{what} {body}"
            );
            assert_eq!(error["error"]["details"][0]["code"], "not_an_object");
        }
    }
}
