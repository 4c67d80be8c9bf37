//! Notifications through Redis Streams (SPEC §6), for replicas.
//!
//! A relay moves outbox events onto `{prefix}:notifications` (capped with
//! `MAXLEN ~`) and marks them relayed; on PostgreSQL in one transaction that
//! locks its rows (`FOR UPDATE SKIP LOCKED`), so relays on several replicas
//! never move one event twice (SQLite serves one process). Workers in the consumer group `notifier` read
//! with `XREADGROUP`, write the inbox entries (unique per event and
//! recipient), then `XACK`. Entries a dead consumer left pending are taken
//! over with `XAUTOCLAIM`; after [`super::delivery::MAX_ATTEMPTS`] failures an
//! entry goes to `{prefix}:notifications:dead` with the reason.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamMaxlen, StreamReadOptions,
    StreamReadReply,
};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::delivery::{self, MAX_ATTEMPTS};
use crate::core::pipeline::Pipeline;
use crate::entities::{notification, outbox_event};
use crate::platform::error::ApiError;
use crate::platform::http::metrics::NotificationMetrics;
use crate::platform::wechat::WechatClient;

/// The consumer group of the notification workers.
pub const GROUP: &str = "notifier";
/// Events moved onto the stream, and entries read, per round.
const BATCH: usize = 500;
/// Consumers per replica: while one waits for its batch's commit, the other
/// reads and writes the next.
const WORKERS: usize = 2;
/// Pending entries idle this long belong to a dead consumer and are taken over.
const RECLAIM_IDLE_MS: usize = 30_000;

/// Where the streams are.
#[derive(Debug, Clone)]
pub struct StreamSettings {
    pub url: String,
    pub prefix: String,
    /// About how many entries the stream keeps; older ones are trimmed.
    pub max_len: usize,
}

impl StreamSettings {
    pub fn stream(&self) -> String {
        format!("{}:notifications", self.prefix)
    }

    pub fn dead(&self) -> String {
        format!("{}:notifications:dead", self.prefix)
    }
}

/// Starts the relay and [`WORKERS`] workers, each on a connection of its own (a
/// blocking `XREADGROUP` must not hold up other commands). The relay runs a
/// round whenever events commit here, and at each poll for those committed
/// by other replicas; the worker wakes when entries arrive.
pub fn spawn(
    db: DatabaseConnection,
    settings: StreamSettings,
    wechat: Option<WechatClient>,
    pipeline: Arc<Pipeline>,
) {
    let relay_db = db.clone();
    let relay_settings = settings.clone();
    let relay = pipeline.clone();
    tokio::spawn(async move {
        let mut conn = connect_until_up(&relay_settings.url).await;
        loop {
            match relay_pending(&relay_db, &mut conn, &relay_settings, relay.metrics()).await {
                Ok(n) if n == BATCH => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "notification relay failed; retrying"),
            }
            relay.next_round().await;
        }
    });
    let replica = format!("{}-{}", std::process::id(), Uuid::now_v7().simple());
    for worker in 0..WORKERS {
        let consumer = format!("{replica}-{worker}");
        let (db, settings, wechat, pipeline) = (
            db.clone(),
            settings.clone(),
            wechat.clone(),
            pipeline.clone(),
        );
        tokio::spawn(async move {
            work(&db, &settings, &consumer, wechat.as_ref(), &pipeline).await;
        });
    }
}

/// One consumer of the group, reading and delivering until the process ends.
async fn work(
    db: &DatabaseConnection,
    settings: &StreamSettings,
    consumer: &str,
    wechat: Option<&WechatClient>,
    pipeline: &Pipeline,
) {
    let mut conn = connect_until_up(&settings.url).await;
    loop {
        if let Err(err) = ensure_group(&mut conn, settings).await {
            tracing::warn!(error = %err, "notification stream unreachable; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        if let Err(err) = consume_once(
            db,
            &mut conn,
            settings,
            consumer,
            RECLAIM_IDLE_MS,
            wechat,
            pipeline.metrics(),
        )
        .await
        {
            tracing::warn!(error = %err, "notification worker failed; retrying");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

async fn connect_until_up(url: &str) -> ConnectionManager {
    loop {
        match connect(url).await {
            Ok(conn) => return conn,
            Err(err) => {
                tracing::warn!(error = %err, "notifier: Redis unreachable; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// A connection whose response timeout outlasts the worker's blocking read.
pub async fn connect(url: &str) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(5)));
    ConnectionManager::new_with_config(redis::Client::open(url)?, config).await
}

/// Creates the consumer group (from the start of the stream) unless it exists.
pub async fn ensure_group(
    conn: &mut ConnectionManager,
    settings: &StreamSettings,
) -> redis::RedisResult<()> {
    let created: redis::RedisResult<()> = conn
        .xgroup_create_mkstream(settings.stream(), GROUP, "0")
        .await;
    match created {
        Err(err) if err.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}

/// Moves one batch of outbox events onto the stream; answers how many.
pub async fn relay_pending(
    db: &DatabaseConnection,
    conn: &mut ConnectionManager,
    settings: &StreamSettings,
    metrics: &NotificationMetrics,
) -> Result<usize, ApiError> {
    // A plain read first: an idle relay takes no write lock.
    let any: Option<Uuid> = outbox_event::Entity::find()
        .filter(outbox_event::Column::RelayedAt.is_null())
        .select_only()
        .column(outbox_event::Column::Id)
        .into_tuple()
        .one(db)
        .await?;
    if any.is_none() {
        return Ok(0);
    }
    // On PostgreSQL the batch's rows are locked (`SKIP LOCKED`), so relays on
    // several replicas never take the same ones. SQLite serves one process,
    // whose one relay needs no lock; and SQLite's lock is the whole
    // database's: held while Redis answers (or hangs, in an outage), it
    // would stop every submission.
    let relayed = if db.get_database_backend() == DbBackend::Postgres {
        let txn = crate::platform::db::begin_write(db).await?;
        let relayed = relay_batch(&txn, conn, settings, true).await?;
        // Committed after XADD: a crash in between relays again, and the
        // inbox write is idempotent on the event id, so nobody sees it twice.
        txn.commit().await?;
        relayed
    } else {
        relay_batch(db, conn, settings, false).await?
    };
    metrics.relayed(relayed as u64);
    Ok(relayed)
}

/// Reads a batch of events not yet relayed (locking them when `lock`), adds
/// them to the stream and marks them relayed.
async fn relay_batch(
    db: &impl ConnectionTrait,
    conn: &mut ConnectionManager,
    settings: &StreamSettings,
    lock: bool,
) -> Result<usize, ApiError> {
    let mut pending = delivery::pending().limit(BATCH as u64);
    if lock {
        pending = pending.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let events = pending.all(db).await?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut pipe = redis::pipe();
    for event in &events {
        pipe.xadd_maxlen(
            settings.stream(),
            StreamMaxlen::Approx(settings.max_len),
            "*",
            &[
                ("event_id", event.id.to_string()),
                ("kind", event.kind.clone()),
            ],
        )
        .ignore();
    }
    pipe.query_async::<()>(conn)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    outbox_event::Entity::update_many()
        .col_expr(
            outbox_event::Column::RelayedAt,
            Expr::value(crate::platform::db::now()),
        )
        .filter(outbox_event::Column::Id.is_in(events.iter().map(|e| e.id)))
        .exec(db)
        .await?;
    Ok(events.len())
}

/// Takes over entries idle longer than `reclaim_idle_ms`, reads new ones, and
/// delivers them; answers how many entries were handled.
pub async fn consume_once(
    db: &DatabaseConnection,
    conn: &mut ConnectionManager,
    settings: &StreamSettings,
    consumer: &str,
    reclaim_idle_ms: usize,
    wechat: Option<&WechatClient>,
    metrics: &NotificationMetrics,
) -> Result<usize, ApiError> {
    let stream = settings.stream();
    let reclaimed: StreamAutoClaimReply = conn
        .xautoclaim_options(
            &stream,
            GROUP,
            consumer,
            reclaim_idle_ms,
            "0-0",
            StreamAutoClaimOptions::default().count(BATCH),
        )
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let mut options = StreamReadOptions::default()
        .group(GROUP, consumer)
        .count(BATCH);
    if reclaimed.claimed.is_empty() {
        // Wait for new entries only when there is nothing to catch up on.
        options = options.block(1000);
    }
    let read: StreamReadReply = conn
        .xread_options(&[&stream], &[">"], &options)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let entries: Vec<StreamId> = reclaimed
        .claimed
        .into_iter()
        .chain(read.keys.into_iter().flat_map(|k| k.ids))
        .collect();
    let handled = entries.len();
    if handled == 0 {
        return Ok(0);
    }
    let events: Vec<outbox_event::Model> = outbox_event::Entity::find()
        .filter(outbox_event::Column::Id.is_in(entries.iter().filter_map(event_id_of)))
        .all(db)
        .await?;
    // The entries naming known events are delivered together; the others
    // (and all of them, if that fails) one by one, where a failure is
    // counted against its own entry.
    let found: HashSet<Uuid> = events.iter().map(|e| e.id).collect();
    let (known, unknown): (Vec<&StreamId>, Vec<&StreamId>) = entries
        .iter()
        .partition(|entry| event_id_of(entry).is_some_and(|id| found.contains(&id)));
    let one_by_one = match deliver_together(db, &events).await {
        Ok(written) => {
            delivery::count_delivered(metrics, &events, &written);
            delivery::push_to_wechat(db, wechat, &written).await;
            if !known.is_empty() {
                let ids: Vec<&str> = known.iter().map(|entry| entry.id.as_str()).collect();
                let _: i64 = conn
                    .xack(settings.stream(), GROUP, &ids)
                    .await
                    .map_err(|e| ApiError::Internal(e.into()))?;
            }
            unknown
        }
        Err(err) => {
            tracing::warn!(entries = handled, error = %err, "batch delivery failed; delivering one by one");
            entries.iter().collect()
        }
    };
    for entry in one_by_one {
        handle(db, conn, settings, entry, wechat, metrics).await?;
    }
    Ok(handled)
}

fn event_id_of(entry: &StreamId) -> Option<Uuid> {
    entry
        .get::<String>("event_id")
        .and_then(|id| id.parse().ok())
}

/// Writes the inbox entries of a batch of events in one transaction.
async fn deliver_together(
    db: &DatabaseConnection,
    events: &[outbox_event::Model],
) -> Result<Vec<notification::Model>, ApiError> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let txn = crate::platform::db::begin_write(db).await?;
    let written = delivery::write_inbox(&txn, events).await?;
    txn.commit().await?;
    Ok(written)
}

async fn handle(
    db: &DatabaseConnection,
    conn: &mut ConnectionManager,
    settings: &StreamSettings,
    entry: &StreamId,
    wechat: Option<&WechatClient>,
    metrics: &NotificationMetrics,
) -> Result<(), ApiError> {
    let event_id = event_id_of(entry);
    let event = match event_id {
        Some(id) => outbox_event::Entity::find_by_id(id).one(db).await?,
        None => None,
    };
    let outcome = match &event {
        Some(event) => delivery::write_inbox(db, std::slice::from_ref(event))
            .await
            .map(|written| (event, written))
            .map_err(|e| e.to_string()),
        None => Err("no such outbox event".to_owned()),
    };
    match outcome {
        Ok((event, written)) => {
            metrics.delivered(event.created_at, written.len());
            delivery::push_to_wechat(db, wechat, &written).await;
        }
        Err(reason) => {
            let given_up = give_up(db, conn, settings, entry, event_id, reason).await?;
            metrics.failed(given_up);
            if !given_up {
                return Ok(());
            }
        }
    }
    let _: i64 = conn
        .xack(settings.stream(), GROUP, &[&entry.id])
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(())
}

/// Counts a failure; after the last attempt moves the entry to the dead-letter
/// stream. Answers whether the entry is finished with (and may be acknowledged).
async fn give_up(
    db: &DatabaseConnection,
    conn: &mut ConnectionManager,
    settings: &StreamSettings,
    entry: &StreamId,
    event_id: Option<Uuid>,
    reason: String,
) -> Result<bool, ApiError> {
    let attempts = match event_id {
        Some(id) => delivery::record_failure(db, id, &reason).await?,
        None => MAX_ATTEMPTS,
    };
    tracing::warn!(entry = %entry.id, attempts, reason, "notification delivery failed");
    if attempts < MAX_ATTEMPTS {
        // Left pending: XAUTOCLAIM brings it back after the idle time.
        return Ok(false);
    }
    let event = event_id.map(|i| i.to_string()).unwrap_or_default();
    let _: String = conn
        .xadd(
            settings.dead(),
            "*",
            &[
                ("entry", entry.id.as_str()),
                ("event_id", &event),
                ("reason", reason.as_str()),
            ],
        )
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok(true)
}
