//! Building and running the server: state, middleware, routes.

pub mod demo;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::DatabaseConnection;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::core::pipeline::Pipeline;
use crate::core::state::AppState;
use crate::platform::config::Settings;
use crate::platform::error::ApiError;
use crate::platform::http::metrics::Metrics;
use crate::platform::http::middleware;
use crate::platform::rate_limit::RateLimiter;
use crate::platform::tokens::TokenKeys;
use crate::platform::wechat::WechatClient;

/// A bound, migrated, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects, migrates, and binds `settings.bind_addr` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::platform::db::connect(&settings).await?;
        crate::platform::db::migrate(&db).await?;
        Self::build_with(settings, db).await
    }

    /// Like [`Application::build`], over an already connected and migrated database.
    pub async fn build_with(
        mut settings: Settings,
        db: DatabaseConnection,
    ) -> anyhow::Result<Self> {
        settings.ensure_local_secret()?;
        let id_numbers = crate::platform::sealed::IdNumberCipher::of(&settings)?;
        let sealed = crate::platform::sealed::seal_stored_id_numbers(&db, &id_numbers)
            .await
            .map_err(|e| anyhow::anyhow!("sealing stored ID numbers: {e:?}"))?;
        if sealed > 0 {
            tracing::info!(sealed, "ID numbers stored in plaintext are now sealed");
        }
        let redis = match &settings.redis_url {
            Some(url) => Some(connect_redis(url).await?),
            None => None,
        };
        let listener = TcpListener::bind(settings.bind_addr)?;
        Self::with_parts(settings, db, redis, listener, id_numbers)
    }

    fn with_parts(
        settings: Settings,
        db: DatabaseConnection,
        redis: Option<ConnectionManager>,
        listener: TcpListener,
        id_numbers: crate::platform::sealed::IdNumberCipher,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let limiter = match &redis {
            Some(connection) => RateLimiter::redis(connection.clone(), &settings.redis_prefix),
            None => RateLimiter::in_process(),
        };
        let wechat = settings.wechat.clone().map(WechatClient::new).transpose()?;
        let workers = settings.workers;
        let uploads = crate::platform::storage::Storage::from_settings(&settings)?;
        let streams =
            settings
                .redis_url
                .clone()
                .map(|url| crate::workers::stream::StreamSettings {
                    url,
                    prefix: settings.redis_prefix.clone(),
                    max_len: settings.stream_max_len,
                });
        let metrics = Metrics::new()?;
        let pipeline = Arc::new(Pipeline::new(
            metrics.notifications().clone(),
            settings.notifications_poll,
        ));
        crate::workers::delivery::start(db.clone(), streams, wechat.clone(), pipeline.clone());
        crate::features::stats::rollup::spawn_folder(db.clone());
        crate::core::retention::spawn_purger(
            db.clone(),
            uploads.clone(),
            crate::core::retention::Retention::of(&settings),
        );
        let state = web::Data::new(AppState {
            db,
            tokens: TokenKeys::new(&settings.jwt_secret),
            settings: Arc::new(settings),
            limiter,
            wechat,
            redis,
            metrics,
            pipeline,
            uploads,
            township_settings: Default::default(),
            change_versions: Default::default(),
            id_numbers,
        });
        // Serialised once and shared: a copy of the document in each worker
        // would cost every worker its memory for the life of the process.
        let openapi = web::Bytes::from(serde_json::to_vec(
            &crate::platform::http::openapi::document(),
        )?);
        let cors_origins = state.settings.cors_allowed_origins.clone();
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(crate::platform::http::openapi::base())
                .configure(api_routes)
                .split_for_parts();
            app.app_data(state.clone())
                // A malformed id cannot name anything within reach.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
                .route(
                    "/openapi.json",
                    web::get().to(serve_document(openapi.clone())),
                )
                .service(web::redirect("/docs", "/docs/"))
                .configure(crate::features::dashboard::configure)
                .default_service(web::to(unmatched))
                .wrap(from_fn(middleware::after_commit))
                .wrap(from_fn(middleware::localize_errors))
                .wrap(middleware::cors(&cors_origins))
                .wrap(from_fn(middleware::security_headers))
                .wrap(from_fn(middleware::track))
                .wrap(Compress::default())
        })
        .listen(listener)?
        .shutdown_timeout(30);
        if let Some(workers) = workers {
            server = server.workers(workers);
        }
        Ok(Application {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGINT/SIGTERM, then lets in-flight requests finish.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// Every API route, for the server and for the OpenAPI document.
pub fn api_routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
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
fn serve_document(
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
async fn unmatched(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    let mut allowed = crate::platform::http::openapi::methods_of(path);
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

async fn connect_redis(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(std::time::Duration::from_secs(2)));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}
