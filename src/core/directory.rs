//! Lookups every feature shows or checks against: users' names, a branch
//! named in a request body.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::core::Actor;
use crate::domain::FieldErrors;
use crate::entities::{branch, user};
use crate::platform::error::ApiError;

/// Names of users (never their phones), in one query.
pub async fn user_names(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = Uuid>,
) -> Result<HashMap<Uuid, String>, ApiError> {
    let ids: HashSet<Uuid> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, String)> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .column(user::Column::Name)
        .filter(user::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// A branch named in a body must exist within reach; otherwise the field is wrong.
pub async fn branch_named_in_body(
    db: &impl ConnectionTrait,
    actor: &Actor,
    branch_id: Uuid,
) -> Result<branch::Model, ApiError> {
    actor
        .find_in_reach::<branch::Entity>(db, branch_id)
        .await
        .map_err(|err| match err {
            ApiError::NotFound => {
                FieldErrors::single("branch_id", "not_found", "支部不存在", "no such branch").into()
            }
            other => other,
        })
}
