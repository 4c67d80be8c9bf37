//! Health, readiness, metrics, the OpenAPI document and Swagger UI.

use reqwest::StatusCode;

use crate::helpers::*;

#[tokio::test]
async fn healthz_and_readyz_answer_ok() {
    let app = spawn_app().await;

    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();

    assert_eq!(health.status(), StatusCode::OK);
    assert_eq!(ready.status(), StatusCode::OK);
    let ready = json_of(ready).await;
    assert_eq!(ready["database"], "ok");
    let expected_redis = if std::env::var("TEST_REDIS_URL").is_ok() {
        "ok"
    } else {
        "not_configured"
    };
    assert_eq!(ready["redis"], expected_redis);
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let app = spawn_app().await;
    app.get("/api/v1/branches", &app.world.a.admin).await;

    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(
        text.lines()
            .any(|l| l.starts_with("xianfeng_http_requests_total")
                && l.contains(r#"route="/api/v1/branches""#)
                && l.contains(r#"status="200""#)),
        "{text}"
    );
    assert!(text.contains("xianfeng_http_request_duration_seconds_bucket"));
    assert!(text.contains("xianfeng_db_pool_connections"));
    assert!(
        text.lines()
            .any(|l| l.starts_with("xianfeng_outbox_pending_events ")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l == "xianfeng_notifications_dead_letters 0"),
        "{text}"
    );
}

#[tokio::test]
async fn served_openapi_document_equals_the_committed_one() {
    let app = spawn_app().await;
    let committed: serde_json::Value =
        serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();

    let served: serde_json::Value = app
        .client
        .get(app.url("/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    assert_eq!(
        served, committed,
        "run `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_without_a_cdn() {
    let app = spawn_app().await;

    let page = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();

    assert!(html.contains("swagger-ui"));
    assert!(
        !html.contains("https://"),
        "Swagger UI must not load from a CDN"
    );
    let bundle = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), StatusCode::OK);
}

/// Every documented operation is routed: an unrouted documented path would
/// fall to the default service and answer 405.
#[tokio::test]
async fn every_documented_path_is_routed() {
    let app = spawn_app().await;
    let doc = xianfeng::app::routes::document();
    for (path, item) in doc.paths.paths {
        let concrete = path
            .replace("{id}", &uuid::Uuid::now_v7().to_string())
            .replace("{member_id}", &uuid::Uuid::now_v7().to_string());
        let methods = [
            (item.get.is_some(), reqwest::Method::GET),
            (item.post.is_some(), reqwest::Method::POST),
            (item.patch.is_some(), reqwest::Method::PATCH),
            (item.delete.is_some(), reqwest::Method::DELETE),
            (item.put.is_some(), reqwest::Method::PUT),
        ];
        for (_, method) in methods.into_iter().filter(|(present, _)| *present) {
            let response = app
                .request(method.clone(), &concrete, Some(&app.world.a.admin))
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            assert!(
                !status.is_server_error(),
                "{method} {path} answered {status}"
            );
        }
    }
}

/// In process (no Redis), an event out of attempts counts as a dead letter.
#[tokio::test]
async fn metrics_count_events_given_up_on() {
    if std::env::var("TEST_REDIS_URL").is_ok() {
        return;
    }
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let app = spawn_app().await;
    xianfeng::entities::outbox_event::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        township_id: Set(app.world.a.township.id),
        kind: Set("visit.submitted".into()),
        subject_kind: Set("visit".into()),
        subject_id: Set(uuid::Uuid::now_v7()),
        payload: Set(serde_json::json!({})),
        created_at: Set(chrono::Utc::now()),
        relayed_at: Set(None),
        attempts: Set(xianfeng::workers::delivery::MAX_ATTEMPTS),
        last_error: Set(Some("unreadable payload".into())),
    }
    .insert(&app.db)
    .await
    .unwrap();

    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    assert!(
        text.lines()
            .any(|l| l == "xianfeng_notifications_dead_letters 1"),
        "{text}"
    );
}

/// Every `$ref` of the document names a schema it defines, so clients and
/// schema-driven tools can resolve every parameter and body.
#[test]
fn every_schema_reference_resolves() {
    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner.as_str()) {
                        ("$ref", Some(target)) => found.push(target.to_owned()),
                        _ => refs(inner, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
            _ => {}
        }
    }
    let doc: serde_json::Value =
        serde_json::from_str(&xianfeng::app::routes::document_json().unwrap()).unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let missing: Vec<&String> = found
        .iter()
        .filter(|r| !schemas.contains_key(r.trim_start_matches("#/components/schemas/")))
        .collect();
    assert!(found.len() > 50);
    assert!(missing.is_empty(), "unresolvable: {missing:?}");
}
