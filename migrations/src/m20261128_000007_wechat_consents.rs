//! One-time subscribe-message consents (订阅消息授权): how many messages of a
//! template each user has allowed and not yet received.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(WechatConsents::Table)
                .if_not_exists()
                .col(uuid(WechatConsents::UserId))
                .col(string(WechatConsents::TemplateId))
                .col(integer(WechatConsents::Remaining))
                .col(timestamp_with_time_zone(WechatConsents::UpdatedAt))
                .primary_key(
                    Index::create()
                        .col(WechatConsents::UserId)
                        .col(WechatConsents::TemplateId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(WechatConsents::Table, WechatConsents::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(WechatConsents::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum WechatConsents {
    Table,
    UserId,
    TemplateId,
    Remaining,
    UpdatedAt,
}
