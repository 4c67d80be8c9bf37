//! Branches in the database.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::dto::{BranchFields, BranchFilter};
use crate::core::Actor;
use crate::domain::BranchKind;
use crate::entities::branch;
use crate::platform::error::{ApiError, is_unique_violation};
use crate::platform::http::pagination::Page;

fn name_taken(err: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&err) {
        ApiError::conflict(
            "name",
            "branch_name_taken",
            "本乡已有同名支部",
            "the township already has a branch of this name",
        )
    } else {
        err.into()
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &BranchFilter,
    page: Page,
) -> Result<(Vec<branch::Model>, Option<String>), ApiError> {
    let mut query = actor.scoped::<branch::Entity>();
    if let Some(kind) = filter.kind {
        query = query.filter(branch::Column::Kind.eq(kind.as_str()));
    }
    let rows = page.apply(query, branch::Column::Id).all(db).await?;
    Ok(page.finish(rows, |b| b.id))
}

pub async fn create(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    name: String,
    kind: BranchKind,
) -> Result<branch::Model, ApiError> {
    let now = Utc::now();
    branch::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(township_id),
        name: Set(name),
        kind: Set(kind.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(name_taken)
}

pub async fn update(
    db: &impl ConnectionTrait,
    current: branch::Model,
    fields: BranchFields,
) -> Result<branch::Model, ApiError> {
    let mut changed = current.into_active_model();
    if let Some(name) = fields.name {
        changed.name = Set(name);
    }
    if let Some(kind) = fields.kind {
        changed.kind = Set(kind.as_str().to_owned());
    }
    changed.updated_at = Set(Utc::now());
    changed.update(db).await.map_err(name_taken)
}
