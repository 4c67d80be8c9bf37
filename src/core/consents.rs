//! Spending the allowances members grant for WeChat subscription messages:
//! the notifier spends one per message sent. Granting them is the
//! notifications feature's.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::entities::wechat_consent;
use crate::platform::error::ApiError;
use crate::platform::wechat::{Template, WechatClient};

/// Spends one allowance of `template` for `user_id`; false when none is
/// left (WeChat would refuse the message).
pub async fn spend(
    db: &impl ConnectionTrait,
    wechat: &WechatClient,
    template: Template,
    user_id: Uuid,
) -> Result<bool, ApiError> {
    use wechat_consent::Column as C;
    let Some(template_id) = wechat.template_id(template) else {
        return Ok(false);
    };
    let spent = wechat_consent::Entity::update_many()
        .col_expr(C::Remaining, Expr::col(C::Remaining).sub(1))
        .col_expr(C::UpdatedAt, Expr::value(Utc::now()))
        .filter(C::UserId.eq(user_id))
        .filter(C::TemplateId.eq(template_id))
        .filter(C::Remaining.gt(0))
        .exec(db)
        .await?;
    Ok(spent.rows_affected == 1)
}
