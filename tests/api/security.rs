//! Security headers on every answer, and CORS only for configured origins.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::helpers::*;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn every_answer_carries_security_headers() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;

    let answers = [
        app.get("/api/v1/branches", admin).await,
        app.get("/api/v1/nothing-here", admin).await,
        app.client.get(app.url("/api/v1/me")).send().await.unwrap(),
        app.client.get(app.url("/healthz")).send().await.unwrap(),
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
    ];

    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses, [200, 404, 401, 200, 200]);
    for answer in &answers {
        let headers = answer.headers();
        assert_eq!(header(headers, "x-content-type-options"), "nosniff");
        assert_eq!(header(headers, "x-frame-options"), "DENY");
        assert_eq!(header(headers, "referrer-policy"), "no-referrer");
        let policy = header(headers, "content-security-policy");
        assert!(policy.starts_with("default-src 'none'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(headers.get("strict-transport-security").is_none());
    }
}

#[tokio::test]
async fn dashboard_and_swagger_ui_get_policies_that_let_them_run() {
    let app = spawn_app().await;

    let dashboard = app.client.get(app.url("/dashboard")).send().await.unwrap();
    let docs = app.client.get(app.url("/docs/")).send().await.unwrap();

    assert_eq!(dashboard.status(), StatusCode::OK);
    assert_eq!(docs.status(), StatusCode::OK);
    let dashboard_policy = header(dashboard.headers(), "content-security-policy");
    assert!(
        dashboard_policy.contains("script-src 'self'"),
        "{dashboard_policy}"
    );
    assert!(
        dashboard_policy.contains("connect-src 'self'"),
        "{dashboard_policy}"
    );
    let docs_policy = header(docs.headers(), "content-security-policy").to_owned();
    for needed in [
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(docs_policy.contains(needed), "{needed} in {docs_policy}");
    }
    assert!(!docs_policy.contains("unsafe-eval"), "{docs_policy}");
    // Swagger UI's page loads only scripts of its own, none inline.
    let page = docs.text().await.unwrap();
    assert!(page.contains(r#"<script src="./swagger-ui-bundle.js""#));
    assert!(!page.contains("<script>"), "inline script in Swagger UI");
    assert_eq!(
        header(dashboard.headers(), "x-content-type-options"),
        "nosniff"
    );
}

#[tokio::test]
async fn hsts_is_sent_only_when_configured() {
    let app = spawn_app_with(Options {
        env: vec![("HSTS_MAX_AGE_SECS", "31536000".into())],
    })
    .await;

    let answer = app.client.get(app.url("/healthz")).send().await.unwrap();

    assert_eq!(
        header(answer.headers(), "strict-transport-security"),
        "max-age=31536000; includeSubDomains"
    );
}

const DASHBOARD_ORIGIN: &str = "https://dashboard.example.cn";

async fn preflight(app: &TestApp, origin: &str) -> reqwest::Response {
    app.client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/stats/overview"))
        .header("Origin", origin)
        .header("Access-Control-Request-Method", "GET")
        .header(
            "Access-Control-Request-Headers",
            "authorization, if-none-match",
        )
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let app = spawn_app_with(Options {
        env: vec![("CORS_ALLOWED_ORIGINS", DASHBOARD_ORIGIN.into())],
    })
    .await;
    let admin = &app.world.a.admin;

    let allowed = preflight(&app, DASHBOARD_ORIGIN).await;
    let refused = preflight(&app, "https://evil.example.com").await;
    let read_allowed = app
        .request(reqwest::Method::GET, "/api/v1/branches", Some(admin))
        .header("Origin", DASHBOARD_ORIGIN)
        .send()
        .await
        .unwrap();
    let read_refused = app
        .request(reqwest::Method::GET, "/api/v1/branches", Some(admin))
        .header("Origin", "https://evil.example.com")
        .send()
        .await
        .unwrap();

    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(
        header(allowed.headers(), "access-control-allow-origin"),
        DASHBOARD_ORIGIN
    );
    let allowed_headers = header(allowed.headers(), "access-control-allow-headers");
    assert!(
        allowed_headers.contains("authorization"),
        "{allowed_headers}"
    );
    assert!(refused.status().is_client_error());
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
    assert_eq!(
        header(read_allowed.headers(), "access-control-allow-origin"),
        DASHBOARD_ORIGIN
    );
    assert!(
        read_refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn without_configured_origins_only_same_origin_pages_can_read() {
    let app = spawn_app().await;
    let same_origin = app.address.clone();

    let cross = preflight(&app, DASHBOARD_ORIGIN).await;
    // A same-origin page (the embedded dashboard) signs in with an Origin header.
    let sign_in = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("Origin", &same_origin)
        .json(&serde_json::json!({ "phone": app.world.a.admin.phone, "password": PASSWORD }))
        .send()
        .await
        .unwrap();

    assert!(cross.status().is_client_error());
    assert!(cross.headers().get("access-control-allow-origin").is_none());
    assert_eq!(sign_in.status(), StatusCode::OK);
}

#[tokio::test]
async fn refresh_tokens_and_activation_codes_are_stored_only_as_hashes() {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use xianfeng::entities::{activation_code, refresh_token};
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let signed_in = json_of(app.login(&branch.members[0].phone, PASSWORD).await).await;
    let refresh = signed_in["refresh_token"].as_str().unwrap().to_owned();
    let created = json_of(
        app.post(
            "/api/v1/users",
            &branch.secretary,
            serde_json::json!({ "name": "新党员", "phone": unique_phone(), "role": "member" }),
        )
        .await,
    )
    .await;
    let code = created["activation_code"].as_str().unwrap().to_owned();
    let user_id: uuid::Uuid = created["id"].as_str().unwrap().parse().unwrap();

    let tokens = refresh_token::Entity::find()
        .filter(refresh_token::Column::UserId.eq(branch.members[0].id))
        .all(&app.db)
        .await
        .unwrap();
    let codes = activation_code::Entity::find()
        .filter(activation_code::Column::UserId.eq(user_id))
        .all(&app.db)
        .await
        .unwrap();

    assert_eq!(tokens.len(), 1);
    assert_ne!(tokens[0].token_hash, refresh);
    assert!(!tokens[0].token_hash.contains(&refresh));
    assert_eq!(codes.len(), 1);
    assert!(!codes[0].code_hash.contains(&code));
    assert!(!codes[0].code_hash.contains(&code.to_lowercase()));
}
