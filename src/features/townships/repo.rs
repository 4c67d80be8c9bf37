//! Townships in the database.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use uuid::Uuid;

use crate::entities::township;
use crate::platform::error::ApiError;

pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<township::Model>, ApiError> {
    Ok(township::Entity::find()
        .filter(township::Column::Name.eq(name))
        .one(db)
        .await?)
}

pub async fn any_exists(db: &impl ConnectionTrait) -> Result<bool, ApiError> {
    Ok(township::Entity::find().count(db).await? > 0)
}

pub async fn create(db: &impl ConnectionTrait, name: &str) -> Result<township::Model, ApiError> {
    Ok(township::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.to_owned()),
        timezone: Set("Asia/Shanghai".into()),
        visit_interval_days: Set(30),
        settings: Set("{}".into()),
        created_at: Set(Utc::now()),
    }
    .insert(db)
    .await?)
}
