//! One error type for the whole API: each variant documents its status and code,
//! and renders as `{"error": {"code", "message", "details"}}` (SPEC §4).
//!
//! Messages are Chinese by default; [`crate::platform::http::middleware::localize_errors`]
//! re-renders them in English for `Accept-Language: en`.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::campaign::{Refusal, SubmissionKind};
use crate::domain::{FieldError, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 `bad_request`: the body or a parameter cannot be read at all.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401 `unauthenticated`: no valid credentials.
    #[error("unauthenticated")]
    Unauthenticated,
    /// 401 `unauthenticated` (with its own message): wrong phone or password,
    /// a spent token, a wrong activation code.
    #[error("invalid credentials")]
    InvalidCredentials,
    /// 403 `forbidden`: the caller can see the object but its role may not do this.
    #[error("forbidden")]
    Forbidden,
    /// 404 `not_found`: missing or out of the caller's reach (ids cannot be probed).
    #[error("not found")]
    NotFound,
    /// 405 `method_not_allowed`.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409 `conflict`: the request contradicts what is stored; `details` names
    /// the field and the reason (e.g. `phone` / `phone_taken`).
    #[error("conflict: {reason}")]
    Conflict {
        field: &'static str,
        reason: &'static str,
        zh: &'static str,
        en: &'static str,
    },
    /// 409 `idempotency_key_reused`: the same `Idempotency-Key` with another body.
    #[error("idempotency key reused")]
    IdempotencyKeyReused,
    /// 409 `submissions_closed`: the campaign's current phase takes no new
    /// submissions of this kind (closed in it, or past its deadline);
    /// `details` names `phase` with `closed_in_phase` or `deadline_passed`.
    #[error("submissions closed: {kind:?} in {phase}")]
    SubmissionsClosed {
        kind: SubmissionKind,
        phase: String,
        refusal: Refusal,
    },
    /// 413 `payload_too_large`.
    #[error("payload too large")]
    PayloadTooLarge { limit: usize },
    /// 415 `unsupported_media_type`.
    #[error("unsupported media type")]
    UnsupportedMediaType(&'static str),
    /// 422 `validation_failed`, naming each field in `details`.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// 429 `rate_limited`, with `Retry-After`.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// 429 `upload_quota_exceeded`, with `Retry-After`: the caller has
    /// uploaded as many files (`details`: `file` / `daily_files`) or bytes
    /// (`daily_mib`) as a member may in 24 hours.
    #[error("upload quota exceeded: {quota}")]
    UploadQuotaExceeded {
        quota: &'static str,
        limit: u64,
        retry_after_secs: u64,
    },
    /// 503 `unavailable`: a dependency (database, WeChat) is not there.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// 500 `internal`: logged with its cause, answered opaquely.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn conflict(
        field: &'static str,
        reason: &'static str,
        zh: &'static str,
        en: &'static str,
    ) -> Self {
        ApiError::Conflict {
            field,
            reason,
            zh,
            en,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::InvalidCredentials => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound => "not_found",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict { .. } => "conflict",
            ApiError::IdempotencyKeyReused => "idempotency_key_reused",
            ApiError::SubmissionsClosed { .. } => "submissions_closed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::Validation(_) => "validation_failed",
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::UploadQuotaExceeded { .. } => "upload_quota_exceeded",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The message in Chinese (`en == false`) or English.
    pub fn message(&self, en: bool) -> String {
        let (zh, english): (String, String) = match self {
            ApiError::BadRequest(why) => (
                format!("请求无法解析：{why}"),
                format!("malformed request: {why}"),
            ),
            ApiError::Unauthenticated => ("请先登录".into(), "authentication required".into()),
            ApiError::InvalidCredentials => {
                ("账号或凭证不正确".into(), "invalid credentials".into())
            }
            ApiError::Forbidden => ("没有权限执行此操作".into(), "you may not do this".into()),
            ApiError::NotFound => ("资源不存在".into(), "not found".into()),
            ApiError::MethodNotAllowed => ("不支持该请求方法".into(), "method not allowed".into()),
            ApiError::Conflict { zh, en, .. } => ((*zh).into(), (*en).into()),
            ApiError::IdempotencyKeyReused => (
                "该 Idempotency-Key 已用于另一个请求".into(),
                "this Idempotency-Key was used for a different request".into(),
            ),
            ApiError::SubmissionsClosed {
                kind,
                phase,
                refusal,
            } => match refusal {
                Refusal::Closed => (
                    format!("当前阶段“{phase}”不接受新的{}", kind.label()),
                    format!(
                        "the current phase “{phase}” takes no new {}",
                        kind.label_en()
                    ),
                ),
                Refusal::DeadlinePassed(last) => (
                    format!("当前阶段“{phase}”的{}已于 {last} 截止", kind.label()),
                    format!(
                        "{} closed on {last} in the current phase “{phase}”",
                        kind.label_en()
                    ),
                ),
            },
            ApiError::PayloadTooLarge { limit } => (
                format!("请求体过大（上限 {} KiB）", limit / 1024),
                format!("payload too large (limit {} KiB)", limit / 1024),
            ),
            ApiError::UnsupportedMediaType(expected) => (
                format!("不支持的内容类型，应为 {expected}"),
                format!("unsupported media type, expected {expected}"),
            ),
            ApiError::Validation(_) => ("提交的内容有误".into(), "validation failed".into()),
            ApiError::RateLimited { retry_after_secs } => (
                format!("尝试过于频繁，请 {retry_after_secs} 秒后再试"),
                format!("too many attempts, retry in {retry_after_secs} s"),
            ),
            ApiError::UploadQuotaExceeded { quota, limit, .. } => match *quota {
                "daily_files" => (
                    format!("24 小时内最多上传 {limit} 个文件"),
                    format!("at most {limit} files may be uploaded in 24 hours"),
                ),
                _ => (
                    format!("24 小时内最多上传 {limit} MiB"),
                    format!("at most {limit} MiB may be uploaded in 24 hours"),
                ),
            },
            ApiError::Unavailable(what) => (
                format!("服务暂不可用：{what}"),
                format!("service unavailable: {what}"),
            ),
            ApiError::Internal(_) => ("服务器内部错误".into(), "internal server error".into()),
        };
        if en { english } else { zh }
    }

    /// The body as it is sent.
    pub fn body(&self, en: bool) -> ErrorBody {
        let details = match self {
            ApiError::Validation(errors) => errors
                .iter()
                .map(|e| ErrorDetail {
                    field: e.field.clone(),
                    code: e.code.to_owned(),
                    message: if en { e.en.clone() } else { e.zh.clone() },
                })
                .collect(),
            ApiError::Conflict { field, reason, .. } => vec![ErrorDetail {
                field: (*field).to_owned(),
                code: (*reason).to_owned(),
                message: self.message(en),
            }],
            ApiError::SubmissionsClosed { refusal, .. } => vec![ErrorDetail {
                field: "phase".to_owned(),
                code: match refusal {
                    Refusal::Closed => "closed_in_phase",
                    Refusal::DeadlinePassed(_) => "deadline_passed",
                }
                .to_owned(),
                message: self.message(en),
            }],
            ApiError::UploadQuotaExceeded { quota, .. } => vec![ErrorDetail {
                field: "file".to_owned(),
                code: (*quota).to_owned(),
                message: self.message(en),
            }],
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorContent {
                code: self.code().to_owned(),
                message: self.message(en),
                details,
            },
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors.into_vec())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(err: sea_orm::DbErr) -> Self {
        if is_connection_failure(&err) {
            tracing::error!(error = %err, "database unreachable");
            return ApiError::Unavailable("database");
        }
        ApiError::Internal(anyhow::Error::new(err))
    }
}

/// The database is not there, as opposed to a query it refused: no connection
/// could be had, or the one in hand broke. A statement on a connection the
/// server closes (PostgreSQL stopping: `57P01` and the rest of class 57P, or
/// class `08`) fails as `Exec`/`Query` rather than `Conn`, so the cause is
/// read too.
fn is_connection_failure(err: &sea_orm::DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match err {
        sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => return true,
        sea_orm::DbErr::Exec(runtime) | sea_orm::DbErr::Query(runtime) => runtime,
        _ => return false,
    };
    let sea_orm::RuntimeErr::SqlxError(cause) = runtime else {
        return false;
    };
    match cause.as_ref() {
        Sqlx::Io(_)
        | Sqlx::Tls(_)
        | Sqlx::Protocol(_)
        | Sqlx::PoolTimedOut
        | Sqlx::PoolClosed
        | Sqlx::WorkerCrashed => true,
        Sqlx::Database(database) => database
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
        _ => false,
    }
}

/// Unique-constraint violations are the client's conflict, not our failure.
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// The error envelope.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"error": {"code": "validation_failed", "message": "提交的内容有误", "details": [{"field": "phone", "code": "invalid_phone", "message": "电话号码格式不正确"}]}}))]
pub struct ErrorBody {
    pub error: ErrorContent,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorContent {
    /// Stable machine-readable code, e.g. `not_found`.
    pub code: String,
    /// Human-readable, Chinese unless `Accept-Language: en`.
    pub message: String,
    /// For `validation_failed`: one entry per rejected field.
    pub details: Vec<ErrorDetail>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Path of the field, e.g. `location.lat` or `rows[3].phone`.
    pub field: String,
    pub code: String,
    pub message: String,
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. }
            | ApiError::IdempotencyKeyReused
            | ApiError::SubmissionsClosed { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RateLimited { .. } | ApiError::UploadQuotaExceeded { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ApiError::Internal(cause) = self {
            tracing::error!(error = ?cause, "internal error");
        }
        let mut response = HttpResponse::build(self.status_code());
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::UploadQuotaExceeded {
                retry_after_secs, ..
            } => {
                response.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            ApiError::Unauthenticated => {
                response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            _ => {}
        }
        let mut response = response.json(self.body(false));
        response
            .extensions_mut()
            .insert(EnglishBody(self.body(true)));
        response
    }
}

/// The English rendering of an error, kept beside the Chinese one for
/// [`crate::platform::http::middleware::localize_errors`].
pub struct EnglishBody(pub ErrorBody);

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{DbErr, RuntimeErr, sqlx};

    use super::*;

    fn exec(cause: sqlx::Error) -> DbErr {
        DbErr::Exec(RuntimeErr::SqlxError(Arc::new(cause)))
    }

    #[test]
    fn a_connection_broken_under_a_statement_is_unavailable() {
        let broken = exec(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionReset,
        )));

        assert!(matches!(
            ApiError::from(broken),
            ApiError::Unavailable("database")
        ));
        assert!(matches!(
            ApiError::from(exec(sqlx::Error::PoolTimedOut)),
            ApiError::Unavailable("database")
        ));
    }

    #[test]
    fn a_refused_statement_stays_internal() {
        let refused = exec(sqlx::Error::RowNotFound);

        assert!(matches!(ApiError::from(refused), ApiError::Internal(_)));
    }
}
