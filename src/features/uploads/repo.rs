//! Uploads and their attachments in the database.

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, OnConflict};

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait, Set,
};
use uuid::Uuid;

use crate::core::Actor;
use crate::domain::FieldErrors;
use crate::entities::{upload, upload_attachment};
use crate::platform::db::Batch;
use crate::platform::error::ApiError;

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

/// What the caller uploaded within the last 24 hours.
#[derive(Debug, Clone, Copy)]
pub struct UploadedToday {
    pub files: u64,
    pub bytes: u64,
    /// When the oldest of them was uploaded: the quota frees up 24 hours later.
    pub oldest: Option<chrono::DateTime<chrono::Utc>>,
}

/// Counts the caller's uploads of the last 24 hours, for the daily quota
/// (through `uploads_uploader_created`).
///
/// # Errors
/// Database failures.
pub async fn uploaded_today(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> Result<UploadedToday, sea_orm::DbErr> {
    let since = chrono::Utc::now() - chrono::Duration::hours(24);
    let (files, bytes, oldest): (i64, i64, Option<chrono::DateTime<chrono::Utc>>) =
        upload::Entity::find()
            .select_only()
            .column_as(Expr::cust("COUNT(*)"), "files")
            .column_as(
                Expr::cust("CAST(COALESCE(SUM(size), 0) AS BIGINT)"),
                "bytes",
            )
            .column_as(upload::Column::CreatedAt.min(), "oldest")
            .filter(upload::Column::UploaderId.eq(actor.user_id))
            .filter(upload::Column::CreatedAt.gte(since))
            .into_tuple()
            .one(db)
            .await?
            .unwrap_or((0, 0, None));
    Ok(UploadedToday {
        files: u64::try_from(files).unwrap_or(0),
        bytes: u64::try_from(bytes).unwrap_or(0),
        oldest,
    })
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
            "visit" => {
                crate::features::visits::repo::find_readable(db, actor, attachment.subject_id)
                    .await
                    .map(drop)
            }
            "mediation_report" => {
                crate::features::mediation::repo::find_readable(db, actor, attachment.subject_id)
                    .await
                    .map(drop)
            }
            "pledge" => {
                crate::features::pledges::repo::find_readable(db, actor, attachment.subject_id)
                    .await
                    .map(drop)
            }
            "rectification" => crate::features::rectifications::repo::find_visible(
                db,
                actor,
                attachment.subject_id,
            )
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

/// The uploads behind `photo_ids`, which must all be the caller's own.
pub async fn own_photos(
    db: &impl ConnectionTrait,
    actor: &Actor,
    photo_ids: &[Uuid],
) -> Result<Vec<upload::Model>, ApiError> {
    if photo_ids.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashMap<Uuid, upload::Model> = upload::Entity::find()
        .filter(upload::Column::Id.is_in(photo_ids.iter().copied()))
        .filter(upload::Column::UploaderId.eq(actor.user_id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let mut errors = FieldErrors::new();
    let mut photos = Vec::new();
    for (i, id) in photo_ids.iter().enumerate() {
        match found.get(id) {
            Some(photo) => photos.push(photo.clone()),
            None => errors.add(
                format!("photo_ids[{i}]"),
                "not_found",
                "照片不存在或不是本人上传",
                "no such upload of yours",
            ),
        }
    }
    Ok(errors.finish(|| photos)?)
}

/// Attaches `photos` to a submission, in one statement; a photo already
/// attached to it stays attached once.
pub async fn attach_photos(
    db: &impl ConnectionTrait,
    actor: &Actor,
    subject_kind: &str,
    subject_id: Uuid,
    photos: &[upload::Model],
) -> Result<(), ApiError> {
    let mut batch = Batch::default();
    add_attachments(&mut batch, actor, subject_kind, subject_id, photos);
    batch.write(db).await?;
    Ok(())
}

/// [`attach_photos`], as a row of `batch` (none if there are no photos).
pub fn add_attachments(
    batch: &mut Batch,
    actor: &Actor,
    subject_kind: &str,
    subject_id: Uuid,
    photos: &[upload::Model],
) {
    if photos.is_empty() {
        return;
    }
    let now = crate::platform::db::now();
    let rows = photos.iter().map(|photo| upload_attachment::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        upload_id: Set(photo.id),
        subject_kind: Set(subject_kind.to_owned()),
        subject_id: Set(subject_id),
        created_at: Set(now),
    });
    batch.insert_statement(
        upload_attachment::Entity::insert_many(rows)
            .on_conflict(
                OnConflict::columns([
                    upload_attachment::Column::UploadId,
                    upload_attachment::Column::SubjectKind,
                    upload_attachment::Column::SubjectId,
                ])
                .do_nothing()
                .to_owned(),
            )
            .into_query(),
    );
}

/// Detaches every photo of a submission (before an edit attaches the new set).
pub async fn detach_photos(
    db: &impl ConnectionTrait,
    subject_kind: &str,
    subject_id: Uuid,
) -> Result<(), ApiError> {
    upload_attachment::Entity::delete_many()
        .filter(upload_attachment::Column::SubjectKind.eq(subject_kind))
        .filter(upload_attachment::Column::SubjectId.eq(subject_id))
        .exec(db)
        .await?;
    Ok(())
}
