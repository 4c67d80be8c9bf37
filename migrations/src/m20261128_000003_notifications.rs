//! The in-app inbox: one row per event and recipient, so delivering an event
//! twice never shows it twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Notifications::Table)
                .if_not_exists()
                .col(pk_uuid(Notifications::Id))
                .col(uuid(Notifications::TownshipId))
                .col(uuid(Notifications::RecipientId))
                .col(uuid(Notifications::EventId))
                .col(string(Notifications::Kind))
                .col(string(Notifications::Title))
                .col(text(Notifications::Body))
                .col(string(Notifications::SubjectKind))
                .col(uuid(Notifications::SubjectId))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notifications_event_recipient")
                .table(Notifications::Table)
                .col(Notifications::EventId)
                .col(Notifications::RecipientId)
                .unique()
                .if_not_exists()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("notifications_recipient_id")
                .table(Notifications::Table)
                .col(Notifications::RecipientId)
                .col(Notifications::Id)
                .if_not_exists()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(Notifications::Table)
                .if_exists()
                .to_owned(),
        )
        .await
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    TownshipId,
    RecipientId,
    EventId,
    Kind,
    Title,
    Body,
    SubjectKind,
    SubjectId,
    CreatedAt,
    ReadAt,
}
