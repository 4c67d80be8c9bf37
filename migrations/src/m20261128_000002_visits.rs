//! Household visits (走访), photo uploads, the history of every submission,
//! and per-township settings (quality-flag thresholds).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Townships::Table)
                .add_column(text(Townships::Settings).default("{}"))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Uploads::Table)
                .if_not_exists()
                .col(pk_uuid(Uploads::Id))
                .col(uuid(Uploads::TownshipId))
                .col(uuid(Uploads::UploaderId))
                .col(string(Uploads::ContentType))
                .col(big_integer(Uploads::Size))
                .col(string(Uploads::Sha256))
                .col(string(Uploads::StorageKey))
                .col(timestamp_with_time_zone(Uploads::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Uploads::Table, Uploads::UploaderId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            Uploads::Table,
            "uploads_uploader_sha256",
            &[Uploads::UploaderId, Uploads::Sha256],
            true,
        )
        .await?;
        index(
            m,
            Uploads::Table,
            "uploads_sha256",
            &[Uploads::Sha256],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UploadAttachments::Table)
                .if_not_exists()
                .col(pk_uuid(UploadAttachments::Id))
                .col(uuid(UploadAttachments::TownshipId))
                .col(uuid(UploadAttachments::UploadId))
                .col(string(UploadAttachments::SubjectKind))
                .col(uuid(UploadAttachments::SubjectId))
                .col(timestamp_with_time_zone(UploadAttachments::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(UploadAttachments::Table, UploadAttachments::UploadId)
                        .to(Uploads::Table, Uploads::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            UploadAttachments::Table,
            "upload_attachments_unique",
            &[
                UploadAttachments::UploadId,
                UploadAttachments::SubjectKind,
                UploadAttachments::SubjectId,
            ],
            true,
        )
        .await?;
        index(
            m,
            UploadAttachments::Table,
            "upload_attachments_subject",
            &[UploadAttachments::SubjectKind, UploadAttachments::SubjectId],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Visits::Table)
                .if_not_exists()
                .col(pk_uuid(Visits::Id))
                .col(uuid(Visits::TownshipId))
                .col(uuid(Visits::BranchId))
                .col(uuid(Visits::HouseholdId))
                .col(uuid(Visits::MemberId))
                .col(string(Visits::Kind))
                .col(timestamp_with_time_zone(Visits::VisitedAt))
                .col(timestamp_with_time_zone(Visits::ReceivedAt))
                .col(timestamp_with_time_zone(Visits::SubmittedAt))
                .col(double(Visits::Lat))
                .col(double(Visits::Lng))
                .col(double_null(Visits::AccuracyM))
                .col(string(Visits::CoordSystem))
                .col(double_null(Visits::DistanceM))
                .col(text(Visits::Summary))
                .col(json(Visits::Needs))
                .col(boolean(Visits::FollowUp))
                .col(json(Visits::PhotoIds))
                .col(json(Visits::Flags))
                .col(string(Visits::Status))
                .col(integer(Visits::Version))
                .col(uuid_null(Visits::ReviewerId))
                .col(string_null(Visits::ReviewDecision))
                .col(text_null(Visits::ReviewComment))
                .col(timestamp_with_time_zone_null(Visits::ReviewedAt))
                .col(timestamp_with_time_zone(Visits::CreatedAt))
                .col(timestamp_with_time_zone(Visits::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Visits::Table, Visits::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Visits::Table, Visits::BranchId)
                        .to(Branches::Table, Branches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Visits::Table, Visits::HouseholdId)
                        .to(Households::Table, Households::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Visits::Table, Visits::MemberId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            Visits::Table,
            "visits_township_branch_id",
            &[Visits::TownshipId, Visits::BranchId, Visits::Id],
            false,
        )
        .await?;
        index(
            m,
            Visits::Table,
            "visits_member_visited",
            &[Visits::MemberId, Visits::VisitedAt],
            false,
        )
        .await?;
        index(
            m,
            Visits::Table,
            "visits_household_visited",
            &[Visits::HouseholdId, Visits::VisitedAt],
            false,
        )
        .await?;
        index(
            m,
            Visits::Table,
            "visits_status_submitted",
            &[Visits::TownshipId, Visits::Status, Visits::SubmittedAt],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SubmissionEvents::Table)
                .if_not_exists()
                .col(pk_uuid(SubmissionEvents::Id))
                .col(uuid(SubmissionEvents::TownshipId))
                .col(string(SubmissionEvents::SubjectKind))
                .col(uuid(SubmissionEvents::SubjectId))
                .col(integer(SubmissionEvents::Version))
                .col(string(SubmissionEvents::Action))
                .col(uuid(SubmissionEvents::ActorId))
                .col(text_null(SubmissionEvents::Comment))
                .col(json_null(SubmissionEvents::Snapshot))
                .col(timestamp_with_time_zone(SubmissionEvents::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            SubmissionEvents::Table,
            "submission_events_subject",
            &[SubmissionEvents::SubjectId, SubmissionEvents::Id],
            false,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SubmissionEvents::Table.into_iden(),
            Visits::Table.into_iden(),
            UploadAttachments::Table.into_iden(),
            Uploads::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        m.alter_table(
            Table::alter()
                .table(Townships::Table)
                .drop_column(Townships::Settings)
                .to_owned(),
        )
        .await
    }
}

async fn index<T: IntoIden + Copy, C: IntoIden + Copy>(
    m: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[C],
    unique: bool,
) -> Result<(), DbErr> {
    crate::create_index(m, table, name, columns, unique).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Townships {
    Table,
    Id,
    Settings,
}

#[derive(DeriveIden, Clone, Copy)]
enum Branches {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Households {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Uploads {
    Table,
    Id,
    TownshipId,
    UploaderId,
    ContentType,
    Size,
    Sha256,
    StorageKey,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UploadAttachments {
    Table,
    Id,
    TownshipId,
    UploadId,
    SubjectKind,
    SubjectId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Visits {
    Table,
    Id,
    TownshipId,
    BranchId,
    HouseholdId,
    MemberId,
    Kind,
    VisitedAt,
    ReceivedAt,
    SubmittedAt,
    Lat,
    Lng,
    AccuracyM,
    CoordSystem,
    DistanceM,
    Summary,
    Needs,
    FollowUp,
    PhotoIds,
    Flags,
    Status,
    Version,
    ReviewerId,
    ReviewDecision,
    ReviewComment,
    ReviewedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SubmissionEvents {
    Table,
    Id,
    TownshipId,
    SubjectKind,
    SubjectId,
    Version,
    Action,
    ActorId,
    Comment,
    Snapshot,
    CreatedAt,
}
