//! The transactional outbox: every event that must notify someone is written
//! here, in the transaction of the change it reports, so nothing is lost if
//! the process, Redis or a worker dies at any moment (SPEC §6).

use std::cell::Cell;

use chrono::Utc;
use sea_orm::{ActiveValue::Set, ConnectionTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::entities::outbox_event;
use crate::platform::db::Batch;
use crate::platform::error::ApiError;

tokio::task_local! {
    /// Events written by the work [`tallying`] runs.
    static WRITTEN: Cell<u64>;
}

/// Runs `work` (a request's handling) and answers, beside its output, how
/// many outbox events it wrote. Counted as written, not as committed: the
/// caller knows whether the work succeeded, and with it its transaction.
pub async fn tallying<F: Future>(work: F) -> (F::Output, u64) {
    WRITTEN
        .scope(Cell::new(0), async {
            let output = work.await;
            (output, WRITTEN.with(Cell::get))
        })
        .await
}

/// Records `kind` (e.g. `visit.submitted`) about a subject, with what a
/// notification needs to name it.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    kind: &str,
    subject_kind: &str,
    subject_id: Uuid,
    payload: Value,
) -> Result<(), ApiError> {
    let mut batch = Batch::default();
    add(
        &mut batch,
        township_id,
        kind,
        subject_kind,
        subject_id,
        payload,
    );
    Ok(batch.write(db).await?)
}

/// [`enqueue`], as a row of `batch`.
pub fn add(
    batch: &mut Batch,
    township_id: Uuid,
    kind: &str,
    subject_kind: &str,
    subject_id: Uuid,
    payload: Value,
) {
    batch.insert(outbox_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(township_id),
        kind: Set(kind.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        payload: Set(payload),
        created_at: Set(Utc::now()),
        relayed_at: Set(None),
        attempts: Set(0),
        last_error: Set(None),
    });
    // Outside `tallying` (a background job) nobody counts, and that is fine.
    let _ = WRITTEN.try_with(|written| written.set(written.get() + 1));
}
