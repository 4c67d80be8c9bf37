//! Input an attacker shapes to hurt the server or the people who read its
//! output: invented methods swelling `/metrics`, formulas in CSV exports, NUL
//! characters, invisible names, wildcards in searches and forged
//! `X-Forwarded-For` entries.

use chrono::{Duration, SubsecRound, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use xianfeng::entities::user;

use crate::helpers::*;

/// Where branch 0's households are put so members can check in there (GCJ-02).
const HOME: (f64, f64) = (30.2741, 120.1551);

async fn metrics_text(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn invented_methods_and_paths_do_not_add_metric_series() {
    let app = spawn_app().await;
    let before = metrics_text(&app).await;

    for i in 0..40 {
        let method = Method::from_bytes(format!("XFBREW{i}").as_bytes()).unwrap();
        for path in ["/api/v1/visits".to_owned(), format!("/made-up/{i}")] {
            let response = app
                .client
                .request(method.clone(), app.url(&path))
                .send()
                .await;
            assert!(response.is_ok());
        }
    }

    let after = metrics_text(&app).await;
    assert!(
        !after.contains("XFBREW"),
        "an invented method became a label"
    );
    assert!(
        !after.contains("/made-up"),
        "an unmatched path became a label"
    );
    assert!(
        after
            .lines()
            .any(|l| l.starts_with("xianfeng_http_requests_total")
                && l.contains(r#"method="other""#)
                && l.contains(r#"route="unmatched""#)),
        "{after}"
    );
    // 80 requests add a handful of series, not 80 of each instrument.
    assert!(
        after.len() < before.len() + 8_000,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
}
