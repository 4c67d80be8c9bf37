//! Prometheus metrics: requests by route and status, latency, database pool,
//! and the notification pipeline.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use chrono::{DateTime, Utc};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
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
    stream_length: IntGauge,
    stream_lag: IntGauge,
    stream_pending: IntGauge,
    notifications: NotificationMetrics,
}

/// The notification pipeline as read at scrape time.
pub struct NotificationBacklog {
    /// Outbox events not yet delivered (or, with Redis, not yet on the stream).
    pub pending: i64,
    /// Events given up on: the dead-letter stream's length with Redis, events
    /// out of attempts without.
    pub dead: i64,
    /// The notification stream, with Redis; `None` without.
    pub stream: Option<StreamBacklog>,
}

/// The notification stream and its consumer group, as Redis reports them.
pub struct StreamBacklog {
    /// Entries the stream holds (`XLEN`; trimmed to about `MAXLEN`).
    pub length: i64,
    /// Entries not yet read by the group (`XINFO GROUPS` `lag`); `None`
    /// when Redis cannot tell (before 7.0, or after trimming past the group).
    pub lag: Option<i64>,
    /// Entries read and not yet acknowledged.
    pub pending: i64,
}

/// What the notifier counts as events go from the outbox to the inbox. The
/// instruments are handles onto one registry's values: clones count together.
#[derive(Clone)]
pub struct NotificationMetrics {
    written: IntCounter,
    relayed: IntCounter,
    delivered: IntCounter,
    inbox_entries: IntCounter,
    failed: IntCounter,
    dead: IntCounter,
    delivery_seconds: Histogram,
}

impl NotificationMetrics {
    /// Instruments of their own, registered nowhere (for tools and tests);
    /// [`Metrics::notifications`] gives the server's.
    pub fn new() -> prometheus::Result<Self> {
        Ok(NotificationMetrics {
            written: IntCounter::new(
                "notification_events_written_total",
                "Outbox events committed by this replica",
            )?,
            relayed: IntCounter::new(
                "notification_events_relayed_total",
                "Outbox events moved onto the Redis stream",
            )?,
            delivered: IntCounter::new(
                "notification_events_delivered_total",
                "Events whose inbox entries were written",
            )?,
            inbox_entries: IntCounter::new(
                "notification_inbox_entries_total",
                "Inbox entries written",
            )?,
            failed: IntCounter::new(
                "notification_events_failed_total",
                "Failed delivery attempts",
            )?,
            dead: IntCounter::new(
                "notification_events_dead_total",
                "Events given up on after their last attempt",
            )?,
            delivery_seconds: Histogram::with_opts(
                HistogramOpts::new(
                    "notification_delivery_seconds",
                    "From an outbox event's creation to its inbox entries written",
                )
                .buckets(vec![
                    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0, 300.0,
                ]),
            )?,
        })
    }

    fn register(&self, registry: &Registry) -> prometheus::Result<()> {
        registry.register(Box::new(self.written.clone()))?;
        registry.register(Box::new(self.relayed.clone()))?;
        registry.register(Box::new(self.delivered.clone()))?;
        registry.register(Box::new(self.inbox_entries.clone()))?;
        registry.register(Box::new(self.failed.clone()))?;
        registry.register(Box::new(self.dead.clone()))?;
        registry.register(Box::new(self.delivery_seconds.clone()))
    }

    /// `events` outbox events were committed.
    pub fn written(&self, events: u64) {
        self.written.inc_by(events);
    }

    /// `events` events went onto the stream.
    pub fn relayed(&self, events: u64) {
        self.relayed.inc_by(events);
    }

    /// An event written at `created_at` has its `entries` inbox entries now.
    pub fn delivered(&self, created_at: DateTime<Utc>, entries: usize) {
        self.delivered.inc();
        self.inbox_entries.inc_by(entries as u64);
        // Another replica's clock may run ahead of ours: never below zero.
        let waited = (Utc::now() - created_at).to_std().unwrap_or_default();
        self.delivery_seconds.observe(waited.as_secs_f64());
    }

    /// An attempt failed; `given_up` when it was the last.
    pub fn failed(&self, given_up: bool) {
        self.failed.inc();
        if given_up {
            self.dead.inc();
        }
    }
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
        let stream_length = IntGauge::new(
            "notification_stream_length",
            "Entries on the notification stream (0 without Redis)",
        )?;
        let stream_lag = IntGauge::new(
            "notification_stream_lag",
            "Stream entries the notifier group has not read yet (-1 when Redis cannot tell, 0 without Redis)",
        )?;
        let stream_pending = IntGauge::new(
            "notification_stream_pending",
            "Stream entries read and not yet acknowledged (0 without Redis)",
        )?;
        registry.register(Box::new(stream_length.clone()))?;
        registry.register(Box::new(stream_lag.clone()))?;
        registry.register(Box::new(stream_pending.clone()))?;
        let notifications = NotificationMetrics::new()?;
        notifications.register(&registry)?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool_size,
            pool_idle,
            outbox_pending,
            notifications_dead,
            stream_length,
            stream_lag,
            stream_pending,
            notifications,
        })
    }

    /// The notification pipeline's instruments, for the notifier to count with.
    pub fn notifications(&self) -> &NotificationMetrics {
        &self.notifications
    }

    /// Counts one answered request. Every label comes from a known set,
    /// whatever the caller sent: each label value is a series kept for the
    /// life of the process, so a method, path or status taken as the client
    /// wrote it would let anyone grow the server's memory and `/metrics`
    /// without bound.
    pub fn observe(
        &self,
        method: &Method,
        route: Option<&str>,
        status: StatusCode,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or(UNMATCHED);
        self.requests
            .with_label_values(&[method, route, &status_label(status)])
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
        let stream = backlog.stream.unwrap_or(StreamBacklog {
            length: 0,
            lag: Some(0),
            pending: 0,
        });
        self.stream_length.set(stream.length);
        self.stream_lag.set(stream.lag.unwrap_or(-1));
        self.stream_pending.set(stream.pending);
        let (size, idle) = pool_stats(db);
        self.pool_size.set(size);
        self.pool_idle.set(idle);
        let mut out = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(String::from_utf8(out)?)
    }
}

/// The `route` of a request no route matched (a 404, whatever its path).
pub const UNMATCHED: &str = "unmatched";

/// The standard methods by name, any other as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

/// A registered status code by number, any other by its class (`5xx`).
fn status_label(status: StatusCode) -> String {
    if status.canonical_reason().is_some() {
        status.as_u16().to_string()
    } else {
        format!("{}xx", status.as_u16() / 100)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_known_sets() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let invented = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&invented), "other");
        assert_eq!(status_label(StatusCode::NOT_FOUND), "404");
        assert_eq!(status_label(StatusCode::from_u16(599).unwrap()), "5xx");
    }
}
