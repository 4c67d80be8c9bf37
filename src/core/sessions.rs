//! Whether the user of an access token may still act as it says: their
//! account exists and is active, and their token version is the one the token
//! was signed under. A password change or reset, a deactivation, a change of
//! role or branch and a sign-out move the version, which ends every access
//! token signed before at its next request.
//!
//! Every authenticated request asks, so each replica keeps what it read for
//! [`STANDING_TTL`]: most requests answer from memory. A change this replica
//! commits forgets the user at once; one committed by another replica shows
//! here within the TTL.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::domain::Role;
use crate::entities::{refresh_token, user};
use crate::platform::error::ApiError;
use crate::platform::tokens::AccessClaims;

/// How long a replica may admit a token its user's change on another replica
/// has ended.
pub const STANDING_TTL: Duration = Duration::from_secs(5);

/// Most users a replica remembers; past it the oldest reads are dropped.
pub const MAX_REMEMBERED: usize = 50_000;

/// What decides whether a user's tokens still hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub token_version: i32,
    pub active: bool,
    pub township_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub role: Option<Role>,
}

impl Standing {
    /// The token was signed for this user as they are now.
    pub fn admits(&self, claims: &AccessClaims) -> bool {
        self.active
            && self.token_version == claims.ver
            && self.township_id == claims.twp
            && self.branch_id == claims.br
            && self.role == Some(claims.role)
    }
}

/// Users' standings as this replica last read them (`None`: no such user).
#[derive(Default)]
pub struct Sessions {
    entries: Mutex<HashMap<Uuid, (Instant, Option<Standing>)>>,
    /// Moves on every [`forget`](Self::forget), so a read that raced a
    /// change is not kept.
    generation: AtomicU64,
}

impl Sessions {
    /// The user's standing, read again when older than [`STANDING_TTL`].
    pub async fn standing(
        &self,
        db: &impl ConnectionTrait,
        user_id: Uuid,
    ) -> Result<Option<Standing>, ApiError> {
        if let Some((read_at, standing)) = self.lock().get(&user_id)
            && read_at.elapsed() < STANDING_TTL
        {
            return Ok(*standing);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let standing = read(db, user_id).await?;
        let mut entries = self.lock();
        if self.generation.load(Ordering::Acquire) == generation {
            if entries.len() >= MAX_REMEMBERED {
                entries.retain(|_, (read_at, _)| read_at.elapsed() < STANDING_TTL);
            }
            if entries.len() >= MAX_REMEMBERED {
                entries.clear();
            }
            entries.insert(user_id, (Instant::now(), standing));
        }
        Ok(standing)
    }

    /// Drops what this replica knows of the user, after a change to them
    /// committed.
    pub fn forget(&self, user_id: Uuid) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(&user_id);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, (Instant, Option<Standing>)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Ends every access token of `user_id` at its next request (their token
/// version moves); the caller then [`Sessions::forget`]s the user once
/// this has committed.
pub async fn end_access_tokens(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), ApiError> {
    user::Entity::update_many()
        .col_expr(
            user::Column::TokenVersion,
            Expr::col(user::Column::TokenVersion).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Ends every session of `user_id`: access tokens and refresh tokens alike
/// (see [`end_access_tokens`]).
pub async fn end_sessions(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), ApiError> {
    end_access_tokens(db, user_id).await?;
    revoke_all_of_user(db, user_id).await
}

/// Revokes every refresh token of `user_id`.
pub async fn revoke_all_of_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), ApiError> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

type StandingRow = (i32, bool, Uuid, Option<Uuid>, String);

async fn read(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<Standing>, ApiError> {
    use user::Column as U;
    let row: Option<StandingRow> = user::Entity::find_by_id(user_id)
        .select_only()
        .column(U::TokenVersion)
        .column(U::Active)
        .column(U::TownshipId)
        .column(U::BranchId)
        .column(U::Role)
        .into_tuple()
        .one(db)
        .await?;
    Ok(row.map(
        |(token_version, active, township_id, branch_id, role)| Standing {
            token_version,
            active,
            township_id,
            branch_id,
            role: Role::parse(&role),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::tokens::{TokenType, now_secs};

    fn standing() -> Standing {
        Standing {
            token_version: 3,
            active: true,
            township_id: Uuid::now_v7(),
            branch_id: Some(Uuid::now_v7()),
            role: Some(Role::Secretary),
        }
    }

    fn claims_of(standing: &Standing) -> AccessClaims {
        AccessClaims {
            sub: Uuid::now_v7(),
            twp: standing.township_id,
            br: standing.branch_id,
            role: Role::Secretary,
            ver: standing.token_version,
            typ: TokenType::Access,
            iat: now_secs(),
            exp: now_secs() + 60,
        }
    }

    /// A migrated in-memory database with one member; answers it and the member's id.
    async fn database_with_a_member() -> (sea_orm::DatabaseConnection, Uuid) {
        use sea_orm::{ActiveModelTrait, ActiveValue::Set};
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        crate::platform::db::migrate(&db).await.unwrap();
        let now = chrono::Utc::now();
        let township = crate::entities::township::ActiveModel {
            id: Set(Uuid::now_v7()),
            name: Set("甲乡".into()),
            timezone: Set("Asia/Shanghai".into()),
            visit_interval_days: Set(30),
            settings: Set("{}".into()),
            created_at: Set(now),
        }
        .insert(&db)
        .await
        .unwrap();
        let member = user::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(township.id),
            branch_id: Set(None),
            role: Set(Role::Member.as_str().into()),
            name: Set("党员".into()),
            phone: Set("13800000001".into()),
            id_number: Set(None),
            password_hash: Set(None),
            wechat_openid: Set(None),
            active: Set(true),
            token_version: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        }
        .insert(&db)
        .await
        .unwrap();
        (db, member.id)
    }

    #[tokio::test]
    async fn a_remembered_standing_is_answered_without_the_database_until_forgotten() {
        let (db, member) = database_with_a_member().await;
        let sessions = Sessions::default();
        let read = sessions.standing(&db, member).await.unwrap();
        assert_eq!(read.map(|s| s.token_version), Some(0));

        end_access_tokens(&db, member).await.unwrap();
        let remembered = sessions.standing(&db, member).await.unwrap();
        sessions.forget(member);
        let forgotten = sessions.standing(&db, member).await.unwrap();

        assert_eq!(remembered, read);
        assert_eq!(forgotten.map(|s| s.token_version), Some(1));
    }

    #[test]
    fn a_token_holds_only_for_the_user_as_they_are() {
        let now = standing();
        assert!(now.admits(&claims_of(&now)));

        let moved = Standing {
            token_version: 4,
            ..now
        };
        let inactive = Standing {
            active: false,
            ..now
        };
        let demoted = Standing {
            role: Some(Role::Member),
            ..now
        };
        let elsewhere = Standing {
            branch_id: Some(Uuid::now_v7()),
            ..now
        };
        for changed in [moved, inactive, demoted, elsewhere] {
            assert!(!changed.admits(&claims_of(&now)), "{changed:?}");
        }
    }
}
