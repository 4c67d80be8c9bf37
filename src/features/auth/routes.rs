//! `/api/v1/auth/*`: password and WeChat sign-in, refresh, logout.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::dto::*;
use super::repo;
use crate::core::Actor;
use crate::core::audit;
use crate::core::state::AppState;
use crate::domain::{Role, personal};
use crate::entities::{refresh_token, user};
use crate::features::users::dto::UserView;
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::Json;
use crate::platform::tokens::{AccessClaims, BindingClaims, TokenType, now_secs};
use crate::platform::wechat::WechatError;

/// How long a WeChat account may wait to be bound, in seconds.
const BINDING_TOKEN_TTL_SECS: i64 = 10 * 60;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(login)
        .service(wechat_login)
        .service(wechat_bind)
        .service(refresh)
        .service(logout);
}

/// Sign in with phone and password.
///
/// Ten failed attempts for one phone within 15 minutes answer 429 with
/// `Retry-After`; a successful sign-in clears the count.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "wrong phone or password (`unauthenticated`)", body = ErrorBody),
        (status = 422, description = "phone or password missing", body = ErrorBody),
        (status = 429, description = "too many failed attempts (`rate_limited`)", body = ErrorBody),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let LoginRequest { phone, password } = body.into_inner();
    let phone = personal::parse_phone("phone", &phone)?;
    if password.is_empty() {
        return Err(crate::domain::FieldErrors::single(
            "password",
            "required",
            "password 不能为空",
            "password must not be empty",
        )
        .into());
    }
    let limit = state.settings.login_limit;
    let account_key = format!("login:phone:{phone}");
    let client_key = format!(
        "login:client:{}",
        client_address(&req, state.settings.trusted_proxy_hops)
    );
    state.limiter.check(&account_key, limit.per_account).await?;
    state.limiter.check(&client_key, limit.per_client).await?;

    let user = repo::active_user_by_phone(&state.db, &phone).await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = crate::platform::password::verify(password, stored).await?;
    let Some(user) = user.filter(|_| verified) else {
        state
            .limiter
            .record_failure(&account_key, limit.window)
            .await;
        state
            .limiter
            .record_failure(&client_key, limit.window)
            .await;
        return Err(ApiError::InvalidCredentials);
    };
    state.limiter.reset(&account_key).await;
    Ok(web::Json(
        issue_session(&state, &user, Uuid::now_v7()).await?,
    ))
}

/// Sign in with WeChat (`wx.login` code).
///
/// A bound account gets a session; an unbound one gets a `binding_token` to
/// send with the phone and activation code to `/auth/wechat/bind`.
#[utoipa::path(
    tag = "auth",
    request_body = WechatLoginRequest,
    responses(
        (status = 200, body = WechatLoginResponse),
        (status = 401, description = "WeChat rejected the code", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "WeChat login is not configured or WeChat is unreachable (`unavailable`)", body = ErrorBody),
    )
)]
#[post("/auth/wechat")]
pub async fn wechat_login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Json<WechatLoginRequest>,
) -> Result<web::Json<WechatLoginResponse>, ApiError> {
    let wechat = state
        .wechat
        .as_ref()
        .ok_or(ApiError::Unavailable("wechat"))?;
    let code = body.into_inner().code;
    if code.trim().is_empty() || code.len() > 256 {
        return Err(crate::domain::FieldErrors::single(
            "code",
            "invalid",
            "code 无效",
            "code is missing or too long",
        )
        .into());
    }
    let limit = state.settings.login_limit;
    let client_key = format!(
        "wechat:client:{}",
        client_address(&req, state.settings.trusted_proxy_hops)
    );
    state.limiter.check(&client_key, limit.per_client).await?;
    let openid = match wechat.openid(code.trim()).await {
        Ok(openid) => openid,
        Err(WechatError::Rejected { errcode, errmsg }) => {
            tracing::info!(errcode, errmsg, "wechat code rejected");
            state
                .limiter
                .record_failure(&client_key, limit.window)
                .await;
            return Err(ApiError::InvalidCredentials);
        }
        Err(WechatError::Unreachable(why)) => {
            tracing::warn!(why, "wechat unreachable");
            return Err(ApiError::Unavailable("wechat"));
        }
    };
    let bound = user::Entity::find()
        .filter(user::Column::WechatOpenid.eq(openid.as_str()))
        .filter(user::Column::Active.eq(true))
        .one(&state.db)
        .await?;
    if let Some(user) = bound {
        return Ok(web::Json(WechatLoginResponse::Tokens(
            issue_session(&state, &user, Uuid::now_v7()).await?,
        )));
    }
    let claims = BindingClaims {
        openid,
        typ: TokenType::Binding,
        iat: now_secs(),
        exp: now_secs() + BINDING_TOKEN_TTL_SECS,
    };
    Ok(web::Json(WechatLoginResponse::NeedsBinding(NeedsBinding {
        status: "needs_binding",
        binding_token: state.tokens.sign(&claims)?,
        expires_in: BINDING_TOKEN_TTL_SECS as u64,
    })))
}

/// Bind a WeChat account to a member with their phone and one-time activation code.
#[utoipa::path(
    tag = "auth",
    request_body = WechatBindRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "binding token, phone or activation code not valid", body = ErrorBody),
        (status = 409, description = "this WeChat account is bound to another user (`wechat_already_bound`)", body = ErrorBody),
        (status = 429, body = ErrorBody),
    )
)]
#[post("/auth/wechat/bind")]
pub async fn wechat_bind(
    state: web::Data<AppState>,
    body: Json<WechatBindRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let WechatBindRequest {
        binding_token,
        phone,
        activation_code,
    } = body.into_inner();
    let binding = state
        .tokens
        .binding(&binding_token)
        .ok_or(ApiError::InvalidCredentials)?;
    let phone = personal::parse_phone("phone", &phone)?;
    let limit = state.settings.login_limit;
    let account_key = format!("bind:phone:{phone}");
    state.limiter.check(&account_key, limit.per_account).await?;

    let txn = crate::platform::db::begin_write(&state.db).await?;
    let user = repo::active_user_by_phone(&txn, &phone).await?;
    let spent = match &user {
        Some(user) => repo::spend_activation_code(&txn, user.id, &activation_code).await?,
        None => false,
    };
    let (Some(user), true) = (user, spent) else {
        drop(txn);
        state
            .limiter
            .record_failure(&account_key, limit.window)
            .await;
        return Err(ApiError::InvalidCredentials);
    };
    let before = user.wechat_openid.clone();
    let mut bound = user.into_active_model();
    bound.wechat_openid = Set(Some(binding.openid));
    bound.updated_at = Set(Utc::now());
    let user = bound.update(&txn).await.map_err(|err| {
        if crate::platform::error::is_unique_violation(&err) {
            ApiError::conflict(
                "binding_token",
                "wechat_already_bound",
                "该微信已绑定其他账号",
                "this WeChat account is bound to another user",
            )
        } else {
            err.into()
        }
    })?;
    let actor = Actor {
        user_id: user.id,
        township_id: user.township_id,
        branch_id: user.branch_id,
        role: role_of(&user)?,
        request_id: None,
    };
    audit::record(
        &txn,
        &actor,
        "user.wechat_bound",
        "user",
        user.id,
        Some(serde_json::json!({ "wechat_bound": before.is_some() })),
        Some(serde_json::json!({ "wechat_bound": true })),
    )
    .await?;
    txn.commit().await?;
    state.limiter.reset(&account_key).await;
    Ok(web::Json(
        issue_session(&state, &user, Uuid::now_v7()).await?,
    ))
}

/// Exchange a refresh token for a new pair. The old one is spent; presenting
/// a spent one again ends every session rotated from the same sign-in.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "unknown, expired, revoked or already used refresh token", body = ErrorBody),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Json<RefreshRequest>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let token = body.into_inner().refresh_token;
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let spent = repo::spend_refresh_token(&txn, &token).await;
    // A detected reuse revokes the family: keep that even though we answer 401.
    txn.commit().await?;
    let spent = spent?;
    let user = user::Entity::find_by_id(spent.user_id)
        .one(&state.db)
        .await?
        .filter(|u| u.active)
        .ok_or(ApiError::InvalidCredentials)?;
    Ok(web::Json(
        issue_session(&state, &user, spent.family_id).await?,
    ))
}

/// Sign out: end this session (with `refresh_token`) or every session of the user.
///
/// Every access token of the user stops working either way; other sessions
/// get a new one with their refresh token.
#[utoipa::path(
    tag = "auth",
    request_body(content = LogoutRequest, description = "optional"),
    responses((status = 204, description = "signed out"), (status = 401, body = ErrorBody)),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    actor: Actor,
    body: Option<Json<LogoutRequest>>,
) -> Result<HttpResponse, ApiError> {
    let request = body.map(Json::into_inner).unwrap_or_default();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    match request.refresh_token {
        Some(token) => {
            let hash = crate::platform::tokens::secret_hash(&token);
            let row = refresh_token::Entity::find()
                .filter(refresh_token::Column::TokenHash.eq(hash))
                .one(&txn)
                .await?;
            if let Some(row) = row.filter(|r| r.user_id == actor.user_id) {
                repo::revoke_family(&txn, row.family_id).await?;
            }
            crate::core::sessions::end_access_tokens(&txn, actor.user_id).await?;
        }
        None => crate::core::sessions::end_sessions(&txn, actor.user_id).await?,
    }
    txn.commit().await?;
    state.sessions.forget(actor.user_id);
    Ok(HttpResponse::NoContent().finish())
}

/// Signs an access token and stores a refresh token in `family_id`.
async fn issue_session(
    state: &AppState,
    user: &user::Model,
    family_id: Uuid,
) -> Result<TokenResponse, ApiError> {
    let ttl = state.settings.access_token_ttl.as_secs();
    let claims = AccessClaims {
        sub: user.id,
        twp: user.township_id,
        br: user.branch_id,
        role: role_of(user)?,
        ver: user.token_version,
        typ: TokenType::Access,
        iat: now_secs(),
        exp: now_secs() + ttl as i64,
    };
    let access_token = state.tokens.sign(&claims)?;
    let refresh_token =
        repo::insert_refresh_token(&state.db, user, family_id, state.settings.refresh_token_ttl)
            .await?;
    Ok(TokenResponse {
        access_token,
        refresh_token,
        token_type: "Bearer",
        expires_in: ttl,
        user: UserView::full(state.id_numbers.open_user(user.clone())?),
    })
}

fn role_of(user: &user::Model) -> Result<Role, ApiError> {
    Role::parse(&user.role).ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!(
            "user {} has unknown role {}",
            user.id,
            user.role
        ))
    })
}

/// The caller's address: the socket peer's, or with `TRUSTED_PROXY_HOPS`
/// the one the outermost trusted proxy saw. Each proxy appends the address
/// it was reached from to `X-Forwarded-For`, so that one is the Nth entry
/// from the right; anything left of it was written by the client, which
/// could change it on every request to escape its login limit.
fn client_address(req: &HttpRequest, trusted_proxy_hops: Option<usize>) -> String {
    let peer = || {
        req.peer_addr()
            .map(|a| a.ip().to_string())
            .unwrap_or_else(|| "unknown".into())
    };
    let Some(hops) = trusted_proxy_hops else {
        return peer();
    };
    // Several header lines make one list, in order (RFC 9110 §5.3).
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .collect();
    // Fewer entries than proxies: every one was written by a trusted proxy
    // (a client's would make more), and the leftmost is the client's.
    let seen = forwarded
        .len()
        .checked_sub(hops)
        .and_then(|at| forwarded.get(at))
        .or(forwarded.first());
    seen.and_then(|entry| ip_of(entry))
        .map(|ip| ip.to_string())
        .unwrap_or_else(peer)
}

/// The address in an `X-Forwarded-For` entry: `203.0.113.7`, `2001:db8::1`,
/// or with a port, `203.0.113.7:4711` and `[2001:db8::1]:4711`.
fn ip_of(entry: &str) -> Option<std::net::IpAddr> {
    entry
        .parse()
        .ok()
        .or_else(|| entry.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}
