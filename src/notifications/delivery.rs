//! The in-process notifier (the embedded default): it reads undelivered
//! outbox events and writes their inbox entries. An event is marked delivered
//! in the transaction that writes its entries, and entries are unique per
//! event and recipient, so a crash or a second worker never shows a
//! notification twice.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::fanout;
use crate::entities::{notification, outbox_event};
use crate::error::ApiError;

/// Events read per round.
const BATCH: u64 = 100;
/// After this many failed attempts an event is left for an operator.
pub const MAX_ATTEMPTS: i32 = 10;
/// Pause between rounds when there was nothing to do.
const IDLE: Duration = Duration::from_millis(250);

/// Delivers one batch of pending events; answers how many were handled.
pub async fn deliver_pending(db: &DatabaseConnection) -> Result<usize, ApiError> {
    let events = outbox_event::Entity::find()
        .filter(outbox_event::Column::RelayedAt.is_null())
        .filter(outbox_event::Column::Attempts.lt(MAX_ATTEMPTS))
        .order_by_asc(outbox_event::Column::CreatedAt)
        .order_by_asc(outbox_event::Column::Id)
        .limit(BATCH)
        .all(db)
        .await?;
    let count = events.len();
    for event in events {
        if let Err(err) = deliver(db, &event).await {
            tracing::warn!(event = %event.id, kind = %event.kind, error = %err, "notification delivery failed");
            outbox_event::Entity::update_many()
                .col_expr(
                    outbox_event::Column::Attempts,
                    Expr::col(outbox_event::Column::Attempts).add(1),
                )
                .col_expr(
                    outbox_event::Column::LastError,
                    Expr::value(err.to_string()),
                )
                .filter(outbox_event::Column::Id.eq(event.id))
                .exec(db)
                .await?;
        }
    }
    Ok(count)
}

async fn deliver(db: &DatabaseConnection, event: &outbox_event::Model) -> Result<(), ApiError> {
    let txn = crate::db::begin_write(db).await?;
    let messages = fanout::messages_for(&txn, event).await?;
    if !messages.is_empty() {
        let now = crate::db::now();
        notification::Entity::insert_many(messages.into_iter().map(|m| {
            notification::ActiveModel {
                id: Set(Uuid::now_v7()),
                township_id: Set(event.township_id),
                recipient_id: Set(m.recipient_id),
                event_id: Set(event.id),
                kind: Set(event.kind.clone()),
                title: Set(m.title),
                body: Set(m.body),
                subject_kind: Set(event.subject_kind.clone()),
                subject_id: Set(event.subject_id),
                created_at: Set(now),
                read_at: Set(None),
            }
        }))
        .on_conflict(
            OnConflict::columns([
                notification::Column::EventId,
                notification::Column::RecipientId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    outbox_event::Entity::update_many()
        .col_expr(
            outbox_event::Column::RelayedAt,
            Expr::value(crate::db::now()),
        )
        .filter(outbox_event::Column::Id.eq(event.id))
        .exec(&txn)
        .await?;
    txn.commit().await?;
    Ok(())
}

/// How often spent idempotency keys are swept.
const SWEEP_EVERY: Duration = Duration::from_secs(600);

/// Runs the notifier until the process ends; it also sweeps expired
/// idempotency keys now and then, so the table holds about a day of keys.
pub fn spawn(db: DatabaseConnection) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_sweep: Option<std::time::Instant> = None;
        loop {
            if last_sweep.is_none_or(|at| at.elapsed() >= SWEEP_EVERY) {
                last_sweep = Some(std::time::Instant::now());
                match crate::idempotency::sweep_expired(&db).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(keys = n, "expired idempotency keys swept"),
                    Err(err) => tracing::warn!(error = %err, "idempotency sweep failed"),
                }
            }
            match deliver_pending(&db).await {
                Ok(n) if n as u64 == BATCH => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "notifier: outbox unreadable"),
            }
            tokio::time::sleep(IDLE).await;
        }
    })
}
