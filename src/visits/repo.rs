//! Visits in the database.

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::auth::Actor;
use crate::entities::visit;
use crate::error::ApiError;

/// A visit the caller may read, or 404.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<visit::Model, ApiError> {
    actor.find_submission::<visit::Entity>(db, id).await
}
