//! `/healthz`, `/readyz`, `/metrics`.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::core::state::AppState;
use crate::platform::error::{ApiError, ErrorBody};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `unavailable` on `/readyz` when a dependency is down.
    #[schema(example = "ok")]
    pub status: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ok`; `degraded` (200) when Redis is down but the database is up;
    /// `unavailable` (503) when the database is down.
    #[schema(example = "ok")]
    pub status: &'static str,
    /// `ok` or `down`.
    pub database: &'static str,
    /// `ok`, `down`, or `not_configured` (no `REDIS_URL`: rate limits are kept in process).
    pub redis: &'static str,
}

/// The process is alive.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

/// The database can be reached (503 if not); Redis, when configured, is
/// reported beside it (`degraded` while it is down).
#[utoipa::path(tag = "operations", responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let database =
        match tokio::time::timeout(std::time::Duration::from_secs(2), state.db.ping()).await {
            Ok(Ok(())) => "ok",
            _ => "down",
        };
    let redis = match &state.redis {
        None => "not_configured",
        Some(connection) => {
            let mut conn = connection.clone();
            let ping = redis::cmd("PING");
            match tokio::time::timeout(
                std::time::Duration::from_secs(2),
                ping.query_async::<String>(&mut conn),
            )
            .await
            {
                Ok(Ok(_)) => "ok",
                _ => "down",
            }
        }
    };
    // Without Redis a replica still serves everything: submissions commit
    // their notifications to the outbox, which is relayed once Redis is back,
    // and login limits fall back to this process. So it stays in the load
    // balancer, reporting `degraded`; only a lost database takes it out.
    let status = match (database, redis) {
        ("ok", "down") => "degraded",
        ("ok", _) => "ok",
        _ => "unavailable",
    };
    let body = Readiness {
        status,
        database,
        redis,
    };
    if database == "ok" {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// Prometheus text exposition: requests by route and status, latency histograms, pool, and the notification pipeline.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain", body = String), (status = 500, body = ErrorBody)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let backlog = crate::workers::delivery::backlog(
        &state.db,
        state.redis.clone(),
        &state.settings.redis_prefix,
    )
    .await?;
    let text = state.metrics.render(&state.db, backlog)?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(text))
}
