//! Sign-in state in the database: refresh-token families and activation codes.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
};
use uuid::Uuid;

use crate::entities::{activation_code, refresh_token, user};
use crate::platform::error::ApiError;
use crate::platform::tokens;

/// Stores a new refresh token of `family_id` for `user`; answers the opaque token.
pub async fn insert_refresh_token(
    db: &impl ConnectionTrait,
    user: &user::Model,
    family_id: Uuid,
    ttl: std::time::Duration,
) -> Result<String, ApiError> {
    let token = tokens::opaque_secret();
    let now = Utc::now();
    refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(user.township_id),
        user_id: Set(user.id),
        family_id: Set(family_id),
        token_hash: Set(tokens::secret_hash(&token)),
        expires_at: Set(now + duration(ttl)),
        used_at: Set(None),
        revoked_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok(token)
}

/// Spends `token` once. A token that was already spent or revoked is a sign of
/// theft: its whole family is revoked and the answer is 401.
pub async fn spend_refresh_token(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<refresh_token::Model, ApiError> {
    let hash = tokens::secret_hash(token);
    let now = Utc::now();
    let spent = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(&hash))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .filter(refresh_token::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    let row = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(&hash))
        .one(db)
        .await?
        .ok_or(ApiError::InvalidCredentials)?;
    if spent.rows_affected == 1 {
        return Ok(row);
    }
    if row.used_at.is_some() && row.revoked_at.is_none() {
        tracing::warn!(family = %row.family_id, user = %row.user_id, "refresh token reused: revoking its family");
        revoke_family(db, row.family_id).await?;
    }
    Err(ApiError::InvalidCredentials)
}

pub async fn revoke_family(db: &impl ConnectionTrait, family_id: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Makes a fresh one-time activation code for `user` (earlier unused ones stop working).
pub async fn issue_activation_code(
    db: &impl ConnectionTrait,
    user: &user::Model,
    ttl: std::time::Duration,
) -> Result<(String, DateTime<Utc>), ApiError> {
    let now = Utc::now();
    activation_code::Entity::update_many()
        .col_expr(activation_code::Column::UsedAt, Expr::value(now))
        .filter(activation_code::Column::UserId.eq(user.id))
        .filter(activation_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    let code = tokens::activation_code();
    let expires_at = now + duration(ttl);
    activation_code::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(user.township_id),
        user_id: Set(user.id),
        code_hash: Set(tokens::activation_code_hash(&code)),
        expires_at: Set(expires_at),
        used_at: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await?;
    Ok((code, expires_at))
}

/// Spends `code` for `user_id` if it is theirs, unused and unexpired.
pub async fn spend_activation_code(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    code: &str,
) -> Result<bool, ApiError> {
    let now = Utc::now();
    let spent = activation_code::Entity::update_many()
        .col_expr(activation_code::Column::UsedAt, Expr::value(now))
        .filter(activation_code::Column::UserId.eq(user_id))
        .filter(activation_code::Column::CodeHash.eq(tokens::activation_code_hash(code)))
        .filter(activation_code::Column::UsedAt.is_null())
        .filter(activation_code::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}

pub async fn active_user_by_phone(
    db: &impl ConnectionTrait,
    phone: &str,
) -> Result<Option<user::Model>, ApiError> {
    Ok(user::Entity::find()
        .filter(user::Column::Phone.eq(phone))
        .filter(user::Column::Active.eq(true))
        .one(db)
        .await?)
}

fn duration(ttl: std::time::Duration) -> Duration {
    Duration::seconds(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 1000))
}
