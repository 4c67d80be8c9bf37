//! `/api/v1/uploads`: photos sent before the submission that carries them.

use actix_web::http::header::{self, CacheControl, CacheDirective, ETag, EntityTag};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use anyhow::Context;
use uuid::Uuid;

use super::dto::{UploadForm, UploadView};
use super::receive;
use super::repo::{self, NewUpload};
use crate::core::Actor;
use crate::core::state::AppState;
use crate::platform::error::{ApiError, ErrorBody, is_unique_violation};
use crate::platform::storage::Storage;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(create_upload).service(get_upload);
}

/// Upload a photo (multipart field `file`): JPEG, PNG or WebP, at most 10 MiB
/// and 40 megapixels.
///
/// The type is read from the bytes, whatever the client says, and the size in
/// pixels from the image's header. Only the image is stored: metadata (Exif
/// but the orientation, XMP, text chunks, comments) and anything after the
/// image's end are removed; `sha256` is of the stored bytes. Sending the same
/// bytes again (a retry) answers the first upload. A member may upload
/// `UPLOAD_DAILY_MAX_FILES` files (200) and `UPLOAD_DAILY_MAX_MIB` MiB (500)
/// in 24 hours. An upload attached to no submission within
/// `UPLOAD_ORPHAN_HOURS` (48) is removed.
#[utoipa::path(
    tag = "uploads",
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "stored", body = UploadView),
        (status = 200, description = "these bytes were already uploaded by the caller: that upload", body = UploadView),
        (status = 400, description = "the multipart body cannot be read", body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 413, description = "the file is larger than 10 MiB", body = ErrorBody),
        (status = 415, description = "not multipart/form-data, or the file is not a JPEG, PNG or WebP image", body = ErrorBody),
        (status = 422, description = "no `file` field, or an image over 40 megapixels (`file` / `too_many_pixels`)", body = ErrorBody),
        (status = 429, description = "`upload_quota_exceeded`: the member's uploads of the last 24 hours reached the quota (`file` / `daily_files` or `daily_mib`); `Retry-After` says when it frees up", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/uploads")]
pub async fn create_upload(
    state: web::Data<AppState>,
    actor: Actor,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let quota = state.settings.upload_quota;
    let today = repo::uploaded_today(&state.db, &actor).await?;
    if today.files >= quota.files {
        return Err(quota_exceeded("daily_files", quota.files, today));
    }
    let received = receive::file_field(&req, payload, state.uploads.scratch_dir()).await?;
    let prepared = received.prepare().await?;
    if let Some(existing) = repo::find_own_by_sha256(&state.db, &actor, &prepared.sha256).await? {
        return Ok(HttpResponse::Ok().json(UploadView::from(existing)));
    }
    if today.bytes + prepared.size > quota.bytes {
        return Err(quota_exceeded(
            "daily_mib",
            quota.bytes / (1024 * 1024),
            today,
        ));
    }
    let storage_key = Storage::key_for(&prepared.sha256);
    state
        .uploads
        .put_file(&storage_key, prepared.scratch.path())
        .await
        .context("storing an upload")?;
    let new = NewUpload {
        content_type: prepared.image.mime(),
        size: prepared.size,
        sha256: &prepared.sha256,
        storage_key: &storage_key,
    };
    match repo::insert(&state.db, &actor, new).await {
        Ok(created) => Ok(HttpResponse::Created().json(UploadView::from(created))),
        // The same bytes from the same phone, twice at once: one row wins.
        Err(err) if is_unique_violation(&err) => {
            let existing = repo::find_own_by_sha256(&state.db, &actor, &prepared.sha256)
                .await?
                .ok_or_else(|| anyhow::anyhow!("upload vanished after a unique violation"))?;
            Ok(HttpResponse::Ok().json(UploadView::from(existing)))
        }
        Err(err) => Err(err.into()),
    }
}

/// 429 for a spent daily quota, to be retried when the oldest upload of the
/// last 24 hours leaves the window.
fn quota_exceeded(quota: &'static str, limit: u64, today: repo::UploadedToday) -> ApiError {
    let frees_at = today
        .oldest
        .map(|oldest| oldest + chrono::Duration::hours(24));
    let retry_after_secs = frees_at
        .map(|at| (at - chrono::Utc::now()).num_seconds().max(1))
        .and_then(|secs| u64::try_from(secs).ok())
        .unwrap_or(3600);
    ApiError::UploadQuotaExceeded {
        quota,
        limit,
        retry_after_secs,
    }
}

/// The bytes of an upload, to its uploader and to whoever may read a
/// submission it is attached to; anyone else gets 404.
#[utoipa::path(
    tag = "uploads",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, description = "the image, with `ETag` (its sha256) and `Cache-Control: private, max-age=86400`",
            content(("image/jpeg"), ("image/png"), ("image/webp"))),
        (status = 304, description = "`If-None-Match` names its ETag"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/uploads/{id}")]
pub async fn get_upload(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let found = repo::find_readable(&state.db, &actor, id.into_inner()).await?;
    let etag = EntityTag::new_strong(found.sha256.clone());
    let cache = CacheControl(vec![
        CacheDirective::Private,
        CacheDirective::MaxAge(86_400),
    ]);
    if not_modified(&req, &etag) {
        return Ok(HttpResponse::NotModified()
            .insert_header(ETag(etag))
            .insert_header(cache)
            .finish());
    }
    let object = state
        .uploads
        .open(&found.storage_key)
        .await
        .with_context(|| format!("reading upload {} from storage", found.id))?;
    Ok(HttpResponse::Ok()
        .content_type(found.content_type)
        .insert_header(ETag(etag))
        .insert_header(cache)
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .no_chunking(object.size)
        .streaming(object.bytes))
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn not_modified(req: &HttpRequest, etag: &EntityTag) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| {
            candidate == "*"
                || candidate
                    .parse::<EntityTag>()
                    .is_ok_and(|tag| tag.weak_eq(etag))
        })
}
