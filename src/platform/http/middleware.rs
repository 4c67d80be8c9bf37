//! Request-wide middleware: request ids and logs, metrics, error bodies in
//! the caller's language, security headers and CORS. Each reads only platform
//! parts of the app data (the [`Metrics`], the [`Settings`]).

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, web};
use tracing::Instrument;

use crate::platform::config::Settings;
use crate::platform::error::EnglishBody;
use crate::platform::http::metrics::{Metrics, UNMATCHED};

/// The id of one request, from `X-Request-Id` or made here; echoed in the
/// response and written to logs and audit rows.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Gives each request an id and a log span, and records its metrics.
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let method = req.method().clone();
    let span = tracing::info_span!("request", request_id = %request_id, method = %method, path = %req.path());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();

    let mut res = next
        .call(req)
        .instrument(span.clone())
        .await?
        .map_into_boxed_body();

    let status = res.status();
    let route = res.request().match_pattern();
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics.observe(&method, route.as_deref(), status, elapsed);
    }
    let route = route.as_deref().unwrap_or(UNMATCHED);
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            route,
            ms = elapsed.as_secs_f64() * 1e3,
            "handled"
        )
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}

/// Headers every answer carries (OWASP API8, misconfiguration): no MIME
/// sniffing, no framing, no referrer, and a content security policy. A
/// response that set its own policy (the dashboard's pages) keeps it.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let policy = if req.path() == "/docs" || req.path().starts_with("/docs/") {
        SWAGGER_UI_POLICY
    } else {
        API_POLICY
    };
    let hsts_max_age = req
        .app_data::<web::Data<Settings>>()
        .and_then(|settings| settings.hsts_max_age);
    let mut res = next.call(req).await?.map_into_boxed_body();
    let headers = res.headers_mut();
    let defaults = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CONTENT_SECURITY_POLICY, policy),
    ];
    for (name, value) in defaults {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    if let Some(max_age) = hsts_max_age
        && let Ok(value) = HeaderValue::from_str(&format!("max-age={max_age}; includeSubDomains"))
    {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, value);
    }
    Ok(res)
}

/// JSON, photos and CSV need no scripts, styles or frames.
pub const API_POLICY: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Swagger UI: its own scripts and styles (it sets inline `style` attributes
/// and draws icons as `data:` images), and calls to this server only.
pub const SWAGGER_UI_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
    connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// CORS for the origins in `CORS_ALLOWED_ORIGINS` (the dashboard's, when it is
/// served from another host); none by default, so only same-origin pages can
/// read answers. Bearer tokens, not cookies, so no credentials mode.
pub fn cors(allowed_origins: &[String]) -> actix_cors::Cors {
    let mut cors = actix_cors::Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::ACCEPT_LANGUAGE,
            header::IF_NONE_MATCH,
            REQUEST_ID,
            HeaderName::from_static("idempotency-key"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            header::CONTENT_DISPOSITION,
            REQUEST_ID,
            HeaderName::from_static("idempotent-replayed"),
        ])
        .max_age(3600);
    for origin in allowed_origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

/// Re-renders error bodies in English when the caller prefers it
/// (`Accept-Language: en…`); Chinese is the default.
pub async fn localize_errors(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let english = prefers_english(req.headers().get(header::ACCEPT_LANGUAGE));
    let res = next.call(req).await?.map_into_boxed_body();
    if !english {
        return Ok(res);
    }
    let rendered = res
        .response()
        .extensions()
        .get::<EnglishBody>()
        .and_then(|body| serde_json::to_vec(&body.0).ok());
    Ok(match rendered {
        Some(bytes) => res.map_body(|_, _| BoxBody::new(bytes)),
        None => res,
    })
}

/// The first language in `Accept-Language` decides: English if it is `en…`.
pub fn prefers_english(value: Option<&HeaderValue>) -> bool {
    let Some(value) = value.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let mut best: Option<(&str, f32)> = None;
    for part in value.split(',') {
        let mut pieces = part.trim().split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let quality = pieces
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if best.is_none_or(|(_, q)| quality > q) {
            best = Some((tag, quality));
        }
    }
    best.is_some_and(|(tag, _)| tag.to_ascii_lowercase().starts_with("en"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn english(value: &str) -> bool {
        prefers_english(Some(&HeaderValue::from_str(value).unwrap()))
    }

    #[test]
    fn english_only_when_preferred() {
        assert!(english("en"));
        assert!(english("en-US,en;q=0.9,zh;q=0.5"));
        assert!(english("zh;q=0.5, en;q=0.8"));
        assert!(!english("zh-CN,zh;q=0.9,en;q=0.8"));
        assert!(!prefers_english(None));
    }
}
