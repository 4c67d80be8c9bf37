//! Request and response bodies of the sign-in endpoints.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::features::users::dto::UserView;

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"phone": "13800000001", "password": "xianfeng-demo"}))]
pub struct LoginRequest {
    pub phone: String,
    pub password: String,
}

/// A signed-in session: a short-lived access token and a refresh token that
/// is rotated on every use.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Opaque; send it to `/auth/refresh` for a new pair. Spent on use.
    pub refresh_token: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserView,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WechatLoginRequest {
    /// The code from `wx.login()`.
    pub code: String,
}

/// Either a session (the WeChat account is bound) or a request to bind it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum WechatLoginResponse {
    Tokens(TokenResponse),
    NeedsBinding(NeedsBinding),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeedsBinding {
    /// Always `needs_binding`.
    #[schema(example = "needs_binding")]
    pub status: &'static str,
    /// Send it with the phone and activation code to `/auth/wechat/bind`.
    pub binding_token: String,
    /// Seconds the binding token stays valid.
    pub expires_in: u64,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct WechatBindRequest {
    pub binding_token: String,
    pub phone: String,
    /// The one-time code the secretary or township office handed out.
    pub activation_code: String,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct LogoutRequest {
    /// Ends this session only; without it every session of the user ends.
    #[serde(default)]
    pub refresh_token: Option<String>,
}
