//! User request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::personal::{self, reveal_or_mask};
use crate::domain::text::{self, NAME_MAX};
use crate::domain::{FieldErrors, Role};
use crate::entities::user;
use crate::platform::http::extract::nullable;
use crate::platform::password::MIN_PASSWORD_CHARS;

/// A user as others see them: phone and ID number masked unless the viewer
/// is the user or manages their branch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub township_id: Uuid,
    /// `null` for township admins.
    pub branch_id: Option<Uuid>,
    pub role: Role,
    #[schema(example = "张三")]
    pub name: String,
    #[schema(example = "138****1234")]
    pub phone: String,
    pub id_number: Option<String>,
    /// Whether a WeChat account is bound for mini-program sign-in.
    pub wechat_bound: bool,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl UserView {
    /// With personal data shown whole.
    pub fn full(user: user::Model) -> Self {
        Self::new(user, true)
    }

    /// With personal data masked.
    pub fn masked(user: user::Model) -> Self {
        Self::new(user, false)
    }

    pub fn new(user: user::Model, reveal: bool) -> Self {
        UserView {
            id: user.id,
            township_id: user.township_id,
            branch_id: user.branch_id,
            role: Role::parse(&user.role).unwrap_or(Role::Member),
            name: user.name,
            phone: if reveal {
                user.phone
            } else {
                personal::mask(&user.phone)
            },
            id_number: reveal_or_mask(user.id_number, reveal),
            wechat_bound: user.wechat_openid.is_some(),
            active: user.active,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

/// A newly created user with the one-time activation code for WeChat binding.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserView,
    /// Shown once: the member enters it in the mini-program with their phone.
    #[schema(example = "7KQ4MZ2P")]
    pub activation_code: String,
    pub activation_code_expires_at: DateTime<Utc>,
}

/// A fresh activation code for an existing user.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationCode {
    pub activation_code: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "张三", "phone": "13800001234", "role": "member", "branch_id": "01938f5e-0000-7000-8000-000000000000"}))]
pub struct NewUserRequest {
    #[schema(max_length = 50)]
    pub name: String,
    pub phone: String,
    pub role: Role,
    /// Required for members and secretaries (secretaries may omit it: their own
    /// branch); must be absent for township admins.
    pub branch_id: Option<Uuid>,
    /// Optional: without one the user signs in through WeChat with the activation code.
    #[schema(min_length = 8)]
    pub password: Option<String>,
    pub id_number: Option<String>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct UserPatch {
    #[schema(max_length = 50)]
    pub name: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub branch_id: Option<Uuid>,
    #[schema(min_length = 8)]
    pub password: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
    /// `false` deactivates the user and ends their sessions.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    pub branch_id: Option<Uuid>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// Part of the name.
    pub q: Option<String>,
}

/// A checked new user.
pub struct NewUser {
    pub name: String,
    pub phone: String,
    pub role: Role,
    pub branch_id: Option<Uuid>,
    pub password: Option<String>,
    pub id_number: Option<String>,
}

/// A checked change.
#[derive(Default)]
pub struct UserChanges {
    pub name: Option<String>,
    pub phone: Option<String>,
    pub role: Option<Role>,
    pub branch_id: Option<Uuid>,
    pub password: Option<String>,
    pub id_number: Option<Option<String>>,
    pub active: Option<bool>,
}

fn parse_password(value: Option<String>) -> Result<Option<String>, FieldErrors> {
    match value {
        Some(p) if p.chars().count() < MIN_PASSWORD_CHARS => Err(FieldErrors::single(
            "password",
            "too_short",
            format!("密码至少 {MIN_PASSWORD_CHARS} 个字符"),
            format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
        )),
        Some(p) if p.chars().count() > 128 => Err(FieldErrors::single(
            "password",
            "too_long",
            "密码过长",
            "password is too long",
        )),
        other => Ok(other),
    }
}

impl NewUserRequest {
    pub fn parse(self) -> Result<NewUser, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.take(text::required("name", &self.name, NAME_MAX));
        let phone = errors.take(personal::parse_phone("phone", &self.phone));
        let password = errors.take(parse_password(self.password));
        let id_number = errors.take(
            self.id_number
                .filter(|v| !v.trim().is_empty())
                .map(|v| personal::parse_id_number("id_number", &v))
                .transpose(),
        );
        if self.role == Role::TownshipAdmin && self.branch_id.is_some() {
            errors.add(
                "branch_id",
                "not_allowed",
                "乡党委管理员不属于支部",
                "township admins belong to no branch",
            );
        }
        match (name, phone, password, id_number) {
            (Some(name), Some(phone), Some(password), Some(id_number)) if errors.is_empty() => {
                Ok(NewUser {
                    name,
                    phone,
                    role: self.role,
                    branch_id: self.branch_id,
                    password,
                    id_number,
                })
            }
            _ => Err(errors),
        }
    }
}

impl UserPatch {
    pub fn parse(self) -> Result<UserChanges, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.take(
            self.name
                .map(|n| text::required("name", &n, NAME_MAX))
                .transpose(),
        );
        let phone = errors.take(
            self.phone
                .map(|p| personal::parse_phone("phone", &p))
                .transpose(),
        );
        let password = errors.take(parse_password(self.password));
        let id_number = errors.take(
            self.id_number
                .map(|v| {
                    v.filter(|v| !v.trim().is_empty())
                        .map(|v| personal::parse_id_number("id_number", &v))
                        .transpose()
                })
                .transpose(),
        );
        errors.finish(|| UserChanges {
            name: name.flatten(),
            phone: phone.flatten(),
            role: self.role,
            branch_id: self.branch_id,
            password: password.flatten(),
            id_number: id_number.flatten(),
            active: self.active,
        })
    }

    /// A user may change their own name and password, nothing else.
    pub fn touches_only_own_fields(changes: &UserChanges) -> bool {
        changes.phone.is_none()
            && changes.role.is_none()
            && changes.branch_id.is_none()
            && changes.id_number.is_none()
            && changes.active.is_none()
    }
}
