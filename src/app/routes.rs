//! The one list of routes: the server serves it and the OpenAPI document is
//! gathered from it.

use std::sync::OnceLock;

use actix_web::web;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa_actix_web::scope;

use crate::platform::error::ApiError;
use crate::platform::http::openapi::{self, KnownPaths};

/// The OpenAPI document of [`api`].
pub fn document() -> OpenApiDoc {
    openapi::document(api)
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> anyhow::Result<String> {
    openapi::document_json(api)
}

/// Every API route, for the server and for the OpenAPI document.
pub fn api(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.configure(crate::features::ops::routes::configure)
        .service(
            scope::scope("/api/v1")
                .configure(crate::features::auth::routes::configure)
                .configure(crate::features::me::routes::configure)
                .configure(crate::features::townships::routes::configure)
                .configure(crate::features::branches::routes::configure)
                .configure(crate::features::users::routes::configure)
                .configure(crate::features::households::routes::configure)
                .configure(crate::features::uploads::routes::configure)
                .configure(crate::features::visits::routes::configure)
                .configure(crate::features::mediation::routes::configure)
                .configure(crate::features::pledges::routes::configure)
                .configure(crate::features::reviews::routes::configure)
                .configure(crate::features::stats::routes::configure)
                .configure(crate::features::spot_checks::routes::configure)
                .configure(crate::features::rectifications::routes::configure)
                .configure(crate::features::campaigns::routes::configure)
                .configure(crate::features::assessments::routes::configure)
                .configure(crate::features::notifications::routes::configure)
                .configure(crate::features::audit::routes::configure),
        );
}

/// `GET /openapi.json`: the OpenAPI document, serialised at start-up.
pub fn serve_document(
    document: web::Bytes,
) -> impl Fn() -> std::future::Ready<actix_web::HttpResponse> + Clone {
    move || {
        std::future::ready(
            actix_web::HttpResponse::Ok()
                .content_type("application/json")
                .body(document.clone()),
        )
    }
}

/// No route matched: 405 with `Allow` when the path exists with other
/// methods, else 404.
pub async fn unmatched(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    static KNOWN: OnceLock<KnownPaths> = OnceLock::new();
    let path = req.path();
    let mut allowed = KNOWN
        .get_or_init(|| KnownPaths::of(&document()))
        .methods_of(path);
    if crate::features::dashboard::serves(path) {
        allowed.push("GET");
    }
    if allowed.is_empty() {
        return Err(ApiError::NotFound);
    }
    let mut response = actix_web::ResponseError::error_response(&ApiError::MethodNotAllowed);
    response.headers_mut().insert(
        actix_web::http::header::ALLOW,
        actix_web::http::header::HeaderValue::from_str(&allowed.join(", "))
            .map_err(anyhow::Error::from)?,
    );
    Ok(response)
}
