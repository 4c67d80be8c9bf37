//! The authenticated caller, extracted from `Authorization: Bearer <token>`.

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, http::header, web};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use crate::core::state::AppState;
use crate::domain::Role;
use crate::platform::error::ApiError;
use crate::platform::http::middleware::RequestId;

/// Who is asking, as their access token says (and their account still
/// agrees), and the request they are making.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Uuid,
    pub township_id: Uuid,
    /// The user's branch; `None` for township admins.
    pub branch_id: Option<Uuid>,
    pub role: Role,
    /// Correlates logs and audit rows with the request.
    pub request_id: Option<String>,
}

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req).await })
    }
}

/// A signed, unexpired access token whose user exists, is active, and has
/// not moved their token version, role, branch or township since it was signed.
async fn authenticate(req: &HttpRequest) -> Result<Actor, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("AppState missing")))?;
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(ApiError::Unauthenticated)?;
    let claims = state
        .tokens
        .access(token)
        .ok_or(ApiError::Unauthenticated)?;
    let standing = state.sessions.standing(&state.db, claims.sub).await?;
    if !standing.is_some_and(|user| user.admits(&claims)) {
        return Err(ApiError::Unauthenticated);
    }
    Ok(Actor {
        user_id: claims.sub,
        township_id: claims.twp,
        branch_id: claims.br,
        role: claims.role,
        request_id: req.extensions().get::<RequestId>().map(|id| id.0.clone()),
    })
}
