//! The transactional outbox: every event that must notify someone is written
//! here, in the transaction of the change it reports, so nothing is lost if
//! the process, Redis or a worker dies at any moment (SPEC §6).

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::entities::outbox_event;
use crate::error::ApiError;

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
    outbox_event::ActiveModel {
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
    }
    .insert(db)
    .await?;
    Ok(())
}
