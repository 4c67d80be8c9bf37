//! WeChat sign-in against a local fake of `jscode2session`, and subscribe
//! messages against a fake that answers as scripted.

use actix_web::{App, HttpResponse, HttpServer, web};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::helpers::*;

#[derive(Deserialize)]
struct Code2SessionQuery {
    appid: String,
    secret: String,
    js_code: String,
    grant_type: String,
}

/// Answers like WeChat: `openid-<code>` for any code but `bad`, always as text/plain.
async fn jscode2session(query: web::Query<Code2SessionQuery>) -> HttpResponse {
    let body = if query.appid != "wx-test"
        || query.secret != "wx-secret"
        || query.grant_type != "authorization_code"
    {
        json!({ "errcode": 40013, "errmsg": "invalid appid" })
    } else if query.js_code == "bad" {
        json!({ "errcode": 40029, "errmsg": "invalid code" })
    } else {
        json!({ "openid": format!("openid-{}", query.js_code), "session_key": "k" })
    };
    HttpResponse::Ok()
        .content_type("text/plain")
        .body(body.to_string())
}

/// Subscribe messages the fake WeChat received.
type Sent = std::sync::Arc<std::sync::Mutex<Vec<Value>>>;

/// How the fake answers its next sends (then `ok`), and what it was asked.
#[derive(Clone, Default)]
struct Script {
    answers: std::sync::Arc<std::sync::Mutex<std::collections::VecDeque<Answer>>>,
    attempts: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    tokens_issued: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[derive(Clone, Copy)]
enum Answer {
    /// `{"errcode": n}`.
    Code(i64),
    /// HTTP 500 with an HTML body, as a failing proxy answers.
    ServerError,
}

async fn token(script: web::Data<Script>) -> HttpResponse {
    script
        .tokens_issued
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    HttpResponse::Ok().json(json!({ "access_token": "fake-token", "expires_in": 7200 }))
}

async fn subscribe_send(
    sent: web::Data<Sent>,
    script: web::Data<Script>,
    query: web::Query<std::collections::HashMap<String, String>>,
    body: web::Json<Value>,
) -> HttpResponse {
    script
        .attempts
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if query.get("access_token").map(String::as_str) != Some("fake-token") {
        return HttpResponse::Ok()
            .json(json!({ "errcode": 40001, "errmsg": "invalid credential" }));
    }
    let next = script.answers.lock().unwrap().pop_front();
    match next {
        Some(Answer::ServerError) => {
            HttpResponse::InternalServerError().body("<html>502 Bad Gateway</html>")
        }
        Some(Answer::Code(errcode)) => {
            HttpResponse::Ok().json(json!({ "errcode": errcode, "errmsg": "scripted" }))
        }
        None => {
            sent.lock().unwrap().push(body.into_inner());
            HttpResponse::Ok().json(json!({ "errcode": 0, "errmsg": "ok" }))
        }
    }
}

async fn spawn_with_fake_wechat() -> TestApp {
    spawn_with_fake_wechat_recording(Sent::default()).await
}

async fn spawn_with_fake_wechat_recording(sent: Sent) -> TestApp {
    spawn_with_scripted_wechat(sent, Script::default()).await
}

async fn spawn_with_scripted_wechat(sent: Sent, script: Script) -> TestApp {
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(sent.clone()))
            .app_data(web::Data::new(script.clone()))
            .route("/sns/jscode2session", web::get().to(jscode2session))
            .route("/cgi-bin/token", web::get().to(token))
            .route(
                "/cgi-bin/message/subscribe/send",
                web::post().to(subscribe_send),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    spawn_app_with(Options {
        env: vec![
            ("WECHAT_APPID", "wx-test".into()),
            ("WECHAT_SECRET", "wx-secret".into()),
            ("WECHAT_API_BASE", base),
            ("WECHAT_TEMPLATE_SUBMITTED", "tpl-submitted".into()),
        ],
    })
    .await
}

async fn wechat_login(app: &TestApp, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/wechat"))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

async fn bind(app: &TestApp, binding_token: &str, phone: &str, code: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/wechat/bind"))
        .json(&json!({ "binding_token": binding_token, "phone": phone, "activation_code": code }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn wechat_login_is_unavailable_when_not_configured() {
    let app = spawn_app().await;

    let response = wechat_login(&app, "any").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(response).await, "unavailable");
}

#[tokio::test]
async fn new_member_binds_wechat_with_activation_code_then_signs_in_by_wechat() {
    let app = spawn_with_fake_wechat().await;
    let branch = &app.world.a.branches[0];
    let created = json_of(
        app.post(
            "/api/v1/users",
            &branch.secretary,
            json!({ "name": "新党员", "phone": unique_phone(), "role": "member" }),
        )
        .await,
    )
    .await;
    let phone = created["phone"].as_str().unwrap().to_owned();
    let activation_code = created["activation_code"].as_str().unwrap().to_owned();

    let first = json_of(wechat_login(&app, "c1").await).await;
    assert_eq!(first["status"], "needs_binding");
    let binding_token = first["binding_token"].as_str().unwrap();

    assert_eq!(
        bind(&app, binding_token, &phone, "WRONG123").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let bound = bind(&app, binding_token, &phone, &activation_code.to_lowercase()).await;
    assert_eq!(bound.status(), StatusCode::OK);
    let session: Value = json_of(bound).await;
    assert_eq!(session["user"]["id"], created["id"]);
    assert_eq!(session["user"]["wechat_bound"], true);

    let again = json_of(wechat_login(&app, "c1").await).await;
    assert_eq!(again["user"]["id"], created["id"]);
    assert!(again["access_token"].is_string());
}

#[tokio::test]
async fn an_activation_code_works_once() {
    let app = spawn_with_fake_wechat().await;
    let branch = &app.world.a.branches[0];
    let created = json_of(
        app.post(
            "/api/v1/users",
            &branch.secretary,
            json!({ "name": "新党员", "phone": unique_phone(), "role": "member" }),
        )
        .await,
    )
    .await;
    let phone = created["phone"].as_str().unwrap();
    let code = created["activation_code"].as_str().unwrap();
    let token_one = json_of(wechat_login(&app, "first-phone").await).await["binding_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let token_two = json_of(wechat_login(&app, "second-phone").await).await["binding_token"]
        .as_str()
        .unwrap()
        .to_owned();

    assert_eq!(
        bind(&app, &token_one, phone, code).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        bind(&app, &token_two, phone, code).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_rejected_code_is_401_and_a_forged_binding_token_is_401() {
    let app = spawn_with_fake_wechat().await;
    let member = &app.world.a.branches[0].members[0];

    assert_eq!(
        wechat_login(&app, "bad").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let forged = app.token_for(member);
    assert_eq!(
        bind(&app, &forged, &member.phone, "ABCDEFGH")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_secretary_with_wechat_bound_gets_a_subscribe_message() {
    let sent = Sent::default();
    let app = bound_secretary(sent.clone()).await;
    let branch = &app.world.a.branches[0];
    let check_in = json!({
        "household_id": branch.households[0].id, "kind": "assistance", "visited_at": chrono::Utc::now().to_rfc3339(),
        "location": { "lat": 30.27, "lng": 120.15 }, "summary": "了解近况"
    });
    let consent = app
        .post(
            "/api/v1/me/subscriptions",
            &branch.secretary,
            json!({ "template_id": "tpl-submitted", "count": 1 }),
        )
        .await;
    assert_eq!(consent.status(), StatusCode::OK);

    assert_eq!(
        app.post("/api/v1/visits", &branch.members[0], check_in)
            .await
            .status(),
        StatusCode::CREATED
    );

    let mut messages = Vec::new();
    for _ in 0..40 {
        messages = sent.lock().unwrap().clone();
        if !messages.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        messages.len(),
        1,
        "one message, to the one recipient with WeChat bound"
    );
    assert_eq!(messages[0]["touser"], "openid-secretary");
    assert_eq!(messages[0]["template_id"], "tpl-submitted");
    assert_eq!(messages[0]["data"]["thing1"]["value"], "新的走访记录待审核");
    assert!(
        messages[0]["data"]["thing2"]["value"]
            .as_str()
            .unwrap()
            .chars()
            .count()
            <= 20
    );
}

/// A WeChat client for the scripted fake, and the fake's records.
async fn scripted_client(
    answers: &[Answer],
) -> (xianfeng::platform::wechat::WechatClient, Sent, Script) {
    let sent = Sent::default();
    let script = Script::default();
    script
        .answers
        .lock()
        .unwrap()
        .extend(answers.iter().copied());
    let (sent_in, script_in) = (sent.clone(), script.clone());
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(sent_in.clone()))
            .app_data(web::Data::new(script_in.clone()))
            .route("/cgi-bin/token", web::get().to(token))
            .route(
                "/cgi-bin/message/subscribe/send",
                web::post().to(subscribe_send),
            )
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .unwrap();
    let base = format!("http://{}", server.addrs()[0]);
    tokio::spawn(server.run());
    let settings = xianfeng::platform::config::Settings::from_lookup(|name| match name {
        "WECHAT_APPID" => Some("wx-test".into()),
        "WECHAT_SECRET" => Some("wx-secret".into()),
        "WECHAT_API_BASE" => Some(base.clone()),
        "WECHAT_TEMPLATE_SUBMITTED" => Some("tpl-submitted".into()),
        _ => None,
    })
    .unwrap();
    let client = xianfeng::platform::wechat::WechatClient::new(settings.wechat.unwrap()).unwrap();
    (client, sent, script)
}

async fn send_one(client: &xianfeng::platform::wechat::WechatClient) -> Result<(), String> {
    client
        .send(
            xianfeng::platform::wechat::Template::Submitted,
            "openid-secretary",
            "新的走访记录待审核",
            "党员张伟提交了走访记录",
            chrono::Utc::now(),
            "pages/notifications/index",
        )
        .await
        .map_err(|e| e.to_string())
}

fn count(counter: &std::sync::atomic::AtomicUsize) -> usize {
    counter.load(std::sync::atomic::Ordering::SeqCst)
}

#[tokio::test]
async fn a_stale_token_is_refreshed_once_and_the_message_sent_again() {
    let (client, sent, script) = scripted_client(&[Answer::Code(40001)]).await;

    let outcome = send_one(&client).await;

    assert_eq!(outcome, Ok(()));
    assert_eq!(sent.lock().unwrap().len(), 1);
    assert_eq!(count(&script.attempts), 2);
    assert_eq!(
        count(&script.tokens_issued),
        2,
        "a fresh token for the second try"
    );
}

#[tokio::test]
async fn a_refused_consent_is_final() {
    let (client, sent, script) = scripted_client(&[Answer::Code(43101)]).await;

    let outcome = send_one(&client).await;

    assert!(outcome.unwrap_err().contains("43101"));
    assert_eq!(sent.lock().unwrap().len(), 0);
    assert_eq!(count(&script.attempts), 1, "never retried");
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff() {
    let (client, sent, script) = scripted_client(&[Answer::ServerError, Answer::Code(-1)]).await;
    let started = std::time::Instant::now();

    let outcome = send_one(&client).await;

    assert_eq!(outcome, Ok(()));
    assert_eq!(sent.lock().unwrap().len(), 1);
    assert_eq!(count(&script.attempts), 3);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1_000),
        "200 ms, then 800 ms"
    );
}

#[tokio::test]
async fn a_wechat_that_keeps_failing_is_given_up_after_three_tries() {
    let (client, sent, script) = scripted_client(&[
        Answer::ServerError,
        Answer::ServerError,
        Answer::ServerError,
    ])
    .await;

    let outcome = send_one(&client).await;

    assert!(outcome.is_err());
    assert_eq!(sent.lock().unwrap().len(), 0);
    assert_eq!(count(&script.attempts), 3);
}

/// A secretary with WeChat bound, in an app whose fake WeChat records what it is sent.
async fn bound_secretary(sent: Sent) -> TestApp {
    let app = spawn_with_fake_wechat_recording(sent).await;
    let mut secretary: xianfeng::entities::user::ActiveModel =
        app.world.a.branches[0].secretary.clone().into();
    secretary.wechat_openid = sea_orm::ActiveValue::Set(Some("openid-secretary".into()));
    sea_orm::ActiveModelTrait::update(secretary, &app.db)
        .await
        .unwrap();
    app
}

async fn submit_visit(app: &TestApp) {
    let branch = &app.world.a.branches[0];
    let check_in = json!({
        "household_id": branch.households[0].id, "kind": "assistance", "visited_at": chrono::Utc::now().to_rfc3339(),
        "location": { "lat": 30.27, "lng": 120.15 }, "summary": "了解近况"
    });
    let response = app
        .post("/api/v1/visits", &branch.members[0], check_in)
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Waits until the secretary's inbox holds `count` notifications.
async fn inbox_reaches(app: &TestApp, count: usize) {
    let secretary = &app.world.a.branches[0].secretary;
    for _ in 0..50 {
        let inbox = json_of(app.get("/api/v1/notifications", secretary).await).await;
        if inbox["items"].as_array().unwrap().len() >= count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the inbox never held {count}");
}

#[tokio::test]
async fn each_subscribe_message_spends_one_consent_and_none_goes_without() {
    let sent = Sent::default();
    let app = bound_secretary(sent.clone()).await;
    let secretary = &app.world.a.branches[0].secretary;
    let granted = json_of(
        app.post(
            "/api/v1/me/subscriptions",
            secretary,
            json!({ "template_id": "tpl-submitted", "count": 2 }),
        )
        .await,
    )
    .await;

    for n in 1..=3 {
        submit_visit(&app).await;
        inbox_reaches(&app, n).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let left = json_of(app.get("/api/v1/me/subscriptions", secretary).await).await;

    assert_eq!(granted["remaining"], 2);
    assert_eq!(
        sent.lock().unwrap().len(),
        2,
        "the third had no consent left"
    );
    assert_eq!(left["items"][0]["template_id"], "tpl-submitted");
    assert_eq!(left["items"][0]["remaining"], 0);
}

#[tokio::test]
async fn consents_add_up_and_bad_ones_are_422() {
    let app = bound_secretary(Sent::default()).await;
    let secretary = &app.world.a.branches[0].secretary;
    let record = |body: Value| app.post("/api/v1/me/subscriptions", secretary, body);

    let first = json_of(record(json!({ "template_id": "tpl-submitted", "count": 1 })).await).await;
    let second = json_of(record(json!({ "template_id": "tpl-submitted", "count": 3 })).await).await;
    let unknown = record(json!({ "template_id": "tpl-other", "count": 1 })).await;
    let zero = record(json!({ "template_id": "tpl-submitted", "count": 0 })).await;

    assert_eq!(first["remaining"], 1);
    assert_eq!(second["remaining"], 4);
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(unknown).await["error"]["details"][0]["field"],
        "template_id"
    );
    assert_eq!(zero.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(zero).await["error"]["details"][0]["field"], "count");
}
