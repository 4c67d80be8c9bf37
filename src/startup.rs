//! Building and running the server: state, middleware, routes.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::DatabaseConnection;
use utoipa_actix_web::{AppExt, scope};
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::auth::rate_limit::RateLimiter;
use crate::auth::tokens::TokenKeys;
use crate::auth::wechat::WechatClient;
use crate::config::Settings;
use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::http::middleware;
use crate::notifications::pipeline::Pipeline;

/// What every handler can reach.
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub tokens: TokenKeys,
    pub limiter: RateLimiter,
    pub wechat: Option<WechatClient>,
    pub redis: Option<ConnectionManager>,
    pub metrics: Metrics,
    /// Wakes the notifier when a request commits outbox events.
    pub pipeline: Arc<Pipeline>,
    pub uploads: crate::uploads::storage::Storage,
    pub township_settings: crate::townships::SettingsCache,
    pub change_versions: crate::stats::versions::ChangeVersions,
    /// Seals and opens ID numbers at rest.
    pub id_numbers: crate::sealed::IdNumberCipher,
}

/// A bound, migrated, ready-to-run server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Connects, migrates, and binds `settings.bind_addr` (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let db = crate::db::connect(&settings).await?;
        crate::db::migrate(&db).await?;
        Self::build_with(settings, db).await
    }

    /// Like [`Application::build`], over an already connected and migrated database.
    pub async fn build_with(
        mut settings: Settings,
        db: DatabaseConnection,
    ) -> anyhow::Result<Self> {
        settings.ensure_local_secret()?;
        let id_numbers = crate::sealed::IdNumberCipher::of(&settings)?;
        let sealed = crate::sealed::seal_stored_id_numbers(&db, &id_numbers)
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
        id_numbers: crate::sealed::IdNumberCipher,
    ) -> anyhow::Result<Self> {
        let port = listener.local_addr()?.port();
        let limiter = match &redis {
            Some(connection) => RateLimiter::redis(connection.clone(), &settings.redis_prefix),
            None => RateLimiter::in_process(),
        };
        let wechat = settings.wechat.clone().map(WechatClient::new).transpose()?;
        let workers = settings.workers;
        let uploads = crate::uploads::storage::Storage::from_settings(&settings)?;
        let streams =
            settings
                .redis_url
                .clone()
                .map(|url| crate::notifications::stream::StreamSettings {
                    url,
                    prefix: settings.redis_prefix.clone(),
                    max_len: settings.stream_max_len,
                });
        let metrics = Metrics::new()?;
        let pipeline = Arc::new(Pipeline::new(
            metrics.notifications().clone(),
            settings.notifications_poll,
        ));
        crate::notifications::delivery::start(
            db.clone(),
            streams,
            wechat.clone(),
            pipeline.clone(),
        );
        crate::stats::rollup::spawn_folder(db.clone());
        crate::retention::spawn_purger(db.clone(), settings.deleted_retention);
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
        let openapi = web::Bytes::from(serde_json::to_vec(&crate::http::openapi::document())?);
        let cors_origins = state.settings.cors_allowed_origins.clone();
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(crate::http::openapi::base())
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
                .configure(crate::dashboard::configure)
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
    cfg.configure(crate::ops::routes::configure).service(
        scope::scope("/api/v1")
            .configure(crate::auth::routes::configure)
            .configure(crate::me::routes::configure)
            .configure(crate::townships::routes::configure)
            .configure(crate::branches::routes::configure)
            .configure(crate::users::routes::configure)
            .configure(crate::households::routes::configure)
            .configure(crate::uploads::routes::configure)
            .configure(crate::visits::routes::configure)
            .configure(crate::mediation::routes::configure)
            .configure(crate::pledges::routes::configure)
            .configure(crate::reviews::routes::configure)
            .configure(crate::stats::routes::configure)
            .configure(crate::spot_checks::routes::configure)
            .configure(crate::rectifications::routes::configure)
            .configure(crate::campaigns::routes::configure)
            .configure(crate::assessments::routes::configure)
            .configure(crate::notifications::routes::configure)
            .configure(crate::audit::routes::configure),
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

/// No route matched: 405 when the path exists with another method, else 404.
async fn unmatched(req: actix_web::HttpRequest) -> Result<actix_web::HttpResponse, ApiError> {
    let path = req.path();
    let known = crate::http::openapi::path_exists(path) || crate::dashboard::serves(path);
    Err(if known {
        ApiError::MethodNotAllowed
    } else {
        ApiError::NotFound
    })
}

async fn connect_redis(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(std::time::Duration::from_secs(2)));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}
