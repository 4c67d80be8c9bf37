//! The web dashboard's files, served by the binary without signing in.

use reqwest::StatusCode;
use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH};

use crate::helpers::*;

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn dashboard_page_is_served_without_auth() {
    let app = spawn_app().await;

    for path in ["/dashboard", "/dashboard/"] {
        let res = app.client.get(app.url(path)).send().await.unwrap();

        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(
            header(&res, CONTENT_TYPE).starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&res, CACHE_CONTROL), "no-cache");
        assert!(header(&res, CONTENT_SECURITY_POLICY).contains("script-src 'self'"));
        let html = res.text().await.unwrap();
        assert!(html.contains("/dashboard/echarts.min.js"));
        assert!(html.contains("/dashboard/app.js"));
    }
}

#[tokio::test]
async fn dashboard_assets_have_their_content_types() {
    let app = spawn_app().await;

    for (path, expected) in [
        ("/dashboard/echarts.min.js", "text/javascript"),
        ("/dashboard/app.js", "text/javascript"),
        ("/dashboard/app.css", "text/css"),
    ] {
        let res = app.client.get(app.url(path)).send().await.unwrap();

        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert!(header(&res, CONTENT_TYPE).starts_with(expected), "{path}");
        assert!(!header(&res, CACHE_CONTROL).is_empty(), "{path}");
        assert!(!res.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn dashboard_assets_revalidate_with_their_etag() {
    let app = spawn_app().await;
    let first = app
        .client
        .get(app.url("/dashboard/echarts.min.js"))
        .send()
        .await
        .unwrap();
    let tag = header(&first, ETAG);
    assert!(!tag.is_empty());

    let again = app
        .client
        .get(app.url("/dashboard/echarts.min.js"))
        .header(IF_NONE_MATCH, &tag)
        .send()
        .await
        .unwrap();

    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn dashboard_paths_answer_405_to_other_methods_and_404_beyond() {
    let app = spawn_app().await;

    let post = app.client.post(app.url("/dashboard")).send().await.unwrap();
    let unknown = app
        .client
        .get(app.url("/dashboard/missing.js"))
        .send()
        .await
        .unwrap();

    assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dashboard_is_not_in_the_openapi_document() {
    let app = spawn_app().await;

    let doc = json_of(
        app.client
            .get(app.url("/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;

    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.keys().all(|p| !p.starts_with("/dashboard")));
}
