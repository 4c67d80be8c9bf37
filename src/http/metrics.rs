//! Prometheus metrics: requests by route and status, latency, database pool.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};
use sea_orm::DatabaseConnection;

/// The registry and the instruments the server updates.
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool_size: IntGauge,
    pool_idle: IntGauge,
    outbox_pending: IntGauge,
    notifications_dead: IntGauge,
}

/// The notification pipeline as read at scrape time.
pub struct NotificationBacklog {
    /// Outbox events not yet delivered (or, with Redis, not yet on the stream).
    pub pending: i64,
    /// Events given up on: the dead-letter stream's length with Redis, events
    /// out of attempts without.
    pub dead: i64,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("xianfeng".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by method, route and status",
            ),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time to answer, by method and route",
            )
            .buckets(vec![
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["method", "route"],
        )?;
        let pool_size = IntGauge::new("db_pool_connections", "Open database connections")?;
        let pool_idle = IntGauge::new("db_pool_idle_connections", "Idle database connections")?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool_size.clone()))?;
        registry.register(Box::new(pool_idle.clone()))?;
        let outbox_pending = IntGauge::new(
            "outbox_pending_events",
            "Outbox events waiting for delivery",
        )?;
        let notifications_dead = IntGauge::new(
            "notifications_dead_letters",
            "Notification events given up on",
        )?;
        registry.register(Box::new(outbox_pending.clone()))?;
        registry.register(Box::new(notifications_dead.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            outbox_pending,
            notifications_dead,
        })
    }

    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition, with pool and pipeline gauges read now.
    pub fn render(
        &self,
        db: &DatabaseConnection,
        backlog: NotificationBacklog,
    ) -> anyhow::Result<String> {
        self.outbox_pending.set(backlog.pending);
        self.notifications_dead.set(backlog.dead);
        let (size, idle) = pool_stats(db);
        self.pool_size.set(size);
        self.pool_idle.set(idle);
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}

fn pool_stats(db: &DatabaseConnection) -> (i64, i64) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        sea_orm::DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (i64::from(pool.size()), pool.num_idle() as i64)
        }
        _ => (0, 0),
    }
}
