//! The audit log: who changed what, from what to what, and in which request.
//! Written inside the transaction of the change it records.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ConnectionTrait};
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Actor;
use crate::entities::audit_log;
use crate::error::ApiError;

/// Records `action` (e.g. `household.updated`) by `actor` on a subject.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: &Actor,
    action: &str,
    subject_kind: &str,
    subject_id: Uuid,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), ApiError> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        actor_id: Set(Some(actor.user_id)),
        action: Set(action.to_owned()),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        before: Set(before),
        after: Set(after),
        request_id: Set(actor.request_id.clone()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// A subject's state as the audit log keeps it.
pub fn snapshot<T: serde::Serialize>(value: &T) -> Option<Value> {
    serde_json::to_value(value).ok()
}
