//! Uploads and their attachments in the database.

use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::auth::Actor;
use crate::entities::{upload, upload_attachment};
use crate::error::ApiError;

/// What a new upload row records.
pub struct NewUpload<'a> {
    pub content_type: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub storage_key: &'a str,
}

/// The caller's own earlier upload of the same bytes, if any.
///
/// # Errors
/// Database failures.
pub async fn find_own_by_sha256(
    db: &impl ConnectionTrait,
    actor: &Actor,
    sha256: &str,
) -> Result<Option<upload::Model>, sea_orm::DbErr> {
    upload::Entity::find()
        .filter(upload::Column::UploaderId.eq(actor.user_id))
        .filter(upload::Column::Sha256.eq(sha256))
        .one(db)
        .await
}

/// Records an upload by the caller. Unique per uploader and sha256: a second
/// insert of the same bytes by the same uploader fails with a unique violation.
///
/// # Errors
/// Database failures, including that unique violation.
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    new: NewUpload<'_>,
) -> Result<upload::Model, sea_orm::DbErr> {
    upload::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        uploader_id: Set(actor.user_id),
        content_type: Set(new.content_type.to_owned()),
        size: Set(i64::try_from(new.size).unwrap_or(i64::MAX)),
        sha256: Set(new.sha256.to_owned()),
        storage_key: Set(new.storage_key.to_owned()),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
}

/// An upload of the caller's township, whoever uploaded it.
///
/// # Errors
/// Database failures.
pub async fn find_in_township(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<Option<upload::Model>, sea_orm::DbErr> {
    upload::Entity::find_by_id(id)
        .filter(upload::Column::TownshipId.eq(actor.township_id))
        .one(db)
        .await
}

/// The submissions an upload is attached to.
///
/// # Errors
/// Database failures.
pub async fn attachments_of(
    db: &impl ConnectionTrait,
    upload: &upload::Model,
) -> Result<Vec<upload_attachment::Model>, sea_orm::DbErr> {
    upload_attachment::Entity::find()
        .filter(upload_attachment::Column::UploadId.eq(upload.id))
        .filter(upload_attachment::Column::TownshipId.eq(upload.township_id))
        .all(db)
        .await
}

/// An upload the caller may read, or 404: their own, or one attached to a
/// submission they may read (by that submission's own scope). Out of the
/// township, or unattached and someone else's, it does not exist for them.
///
/// # Errors
/// [`ApiError::NotFound`], or database failures.
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<upload::Model, ApiError> {
    let found = find_in_township(db, actor, id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if found.uploader_id == actor.user_id {
        return Ok(found);
    }
    for attachment in attachments_of(db, &found).await? {
        let readable = match attachment.subject_kind.as_str() {
            "visit" => crate::visits::repo::find_readable(db, actor, attachment.subject_id)
                .await
                .map(drop),
            "pledge" => crate::pledges::repo::find_readable(db, actor, attachment.subject_id)
                .await
                .map(drop),
            // Kinds without a read scope yet reveal nothing.
            _ => Err(ApiError::NotFound),
        };
        match readable {
            Ok(()) => return Ok(found),
            Err(ApiError::NotFound) => continue,
            Err(err) => return Err(err),
        }
    }
    Err(ApiError::NotFound)
}
