//! Building and running the server: the state, the middleware and the
//! routes of [`routes`]. Nothing imports this module back.

pub mod demo;
pub mod routes;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use sea_orm::DatabaseConnection;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::core::jobs::Job;
use crate::core::pipeline::Pipeline;
use crate::core::review::{ReviewKind, ReviewKinds};
use crate::core::state::AppState;
use crate::platform::config::Settings;
use crate::platform::error::ApiError;
use crate::platform::http::metrics::Metrics;
use crate::platform::http::middleware;
use crate::platform::rate_limit::RateLimiter;
use crate::platform::tokens::TokenKeys;
use crate::platform::wechat::WechatClient;

/// Every periodic job, run on every replica.
const JOBS: &[Job] = &[
    crate::core::idempotency::SWEEP,
    crate::features::mediation::jobs::OVERDUE_FOLLOW_UPS,
    crate::features::rectifications::jobs::OVERDUE,
    crate::features::campaigns::jobs::PHASE_STARTS,
    crate::features::notifications::jobs::DIGESTS,
];

/// Every kind of submission secretaries review.
const REVIEW_KINDS: &[ReviewKind] = &[
    crate::features::visits::routes::REVIEW,
    crate::features::mediation::routes::REVIEW,
    crate::features::pledges::routes::REVIEW,
];

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
        let metrics = Arc::new(Metrics::new()?);
        let pipeline = Arc::new(Pipeline::new(
            metrics.notifications().clone(),
            settings.notifications_poll,
        ));
        crate::workers::delivery::start(db.clone(), streams, wechat.clone(), pipeline.clone());
        crate::workers::scheduler::start(db.clone(), JOBS, pipeline.clone());
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
            review_kinds: ReviewKinds(REVIEW_KINDS),
            sessions: Default::default(),
            id_numbers,
        });
        // Serialised once and shared: a copy of the document in each worker
        // would cost every worker its memory for the life of the process.
        let openapi = web::Bytes::from(serde_json::to_vec(&routes::document())?);
        let cors_origins = state.settings.cors_allowed_origins.clone();
        let mut server = HttpServer::new(move || {
            let (app, _) = App::new()
                .into_utoipa_app()
                .openapi(crate::platform::http::openapi::base())
                .configure(routes::api)
                .split_for_parts();
            app.app_data(state.clone())
                // The platform's middleware reads only the platform's parts.
                .app_data(web::Data::from(state.settings.clone()))
                .app_data(web::Data::from(state.metrics.clone()))
                // A malformed id cannot name anything within reach.
                .app_data(
                    web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()),
                )
                .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new(["/openapi.json"])))
                .route(
                    "/openapi.json",
                    web::get().to(routes::serve_document(openapi.clone())),
                )
                .service(web::redirect("/docs", "/docs/"))
                .configure(crate::features::dashboard::configure)
                .default_service(web::to(routes::unmatched))
                .wrap(from_fn(crate::core::commit::after_commit))
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

async fn connect_redis(url: &str) -> anyhow::Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)))
        .set_response_timeout(Some(std::time::Duration::from_secs(2)));
    Ok(ConnectionManager::new_with_config(client, config).await?)
}
