//! Users in the database.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::dto::{NewUser, UserChanges, UserFilter};
use crate::core::Actor;
use crate::entities::{assignment, user};
use crate::platform::error::{ApiError, is_unique_violation};
use crate::platform::http::pagination::Page;

fn phone_taken(err: sea_orm::DbErr) -> ApiError {
    if is_unique_violation(&err) {
        ApiError::conflict(
            "phone",
            "phone_taken",
            "该手机号已被使用",
            "this phone number is already in use",
        )
    } else {
        err.into()
    }
}

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &UserFilter,
    page: Page,
) -> Result<(Vec<user::Model>, Option<String>), ApiError> {
    let mut query = actor.scoped::<user::Entity>();
    if let Some(branch_id) = filter.branch_id {
        query = query.filter(user::Column::BranchId.eq(branch_id));
    }
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role.as_str()));
    }
    if let Some(active) = filter.active {
        query = query.filter(user::Column::Active.eq(active));
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        query = query.filter(user::Column::Name.like(crate::platform::db::containing(q)));
    }
    let rows = page.apply(query, user::Column::Id).all(db).await?;
    Ok(page.finish(rows, |u| u.id))
}

/// Inserts `new` with an already hashed password.
pub async fn create(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    new: NewUser,
    password_hash: Option<String>,
) -> Result<user::Model, ApiError> {
    let now = Utc::now();
    user::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(township_id),
        branch_id: Set(new.branch_id),
        role: Set(new.role.as_str().to_owned()),
        name: Set(new.name),
        phone: Set(new.phone),
        id_number: Set(new.id_number),
        password_hash: Set(password_hash),
        wechat_openid: Set(None),
        active: Set(true),
        token_version: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(phone_taken)
}

/// Applies `changes` (the password already hashed into `password_hash`).
pub async fn update(
    db: &impl ConnectionTrait,
    current: user::Model,
    changes: UserChanges,
    password_hash: Option<String>,
) -> Result<user::Model, ApiError> {
    let mut changed = current.into_active_model();
    if let Some(name) = changes.name {
        changed.name = Set(name);
    }
    if let Some(phone) = changes.phone {
        changed.phone = Set(phone);
    }
    if let Some(role) = changes.role {
        changed.role = Set(role.as_str().to_owned());
        if role == crate::domain::Role::TownshipAdmin {
            changed.branch_id = Set(None);
        }
    }
    if let Some(branch_id) = changes.branch_id {
        changed.branch_id = Set(Some(branch_id));
    }
    if let Some(hash) = password_hash {
        changed.password_hash = Set(Some(hash));
    }
    if let Some(id_number) = changes.id_number {
        changed.id_number = Set(id_number);
    }
    if let Some(active) = changes.active {
        changed.active = Set(active);
    }
    changed.updated_at = Set(Utc::now());
    changed.update(db).await.map_err(phone_taken)
}

/// Removes a member's household assignments (when they leave the branch or are deactivated).
pub async fn drop_assignments(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), ApiError> {
    crate::core::retention::end_assignments(
        db,
        sea_orm::Condition::all().add(assignment::Column::MemberId.eq(user_id)),
    )
    .await?;
    Ok(())
}
