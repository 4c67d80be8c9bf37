//! Public pledges (公开承诺), their progress (践诺), leader comments (领导点评)
//! and ratings (群众评议).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Pledges::Table)
                .if_not_exists()
                .col(pk_uuid(Pledges::Id))
                .col(uuid(Pledges::TownshipId))
                .col(uuid(Pledges::BranchId))
                .col(string(Pledges::Scope))
                .col(uuid(Pledges::AuthorId))
                .col(integer(Pledges::Year))
                .col(string(Pledges::Title))
                .col(text(Pledges::Content))
                .col(json(Pledges::Targets))
                .col(date_null(Pledges::PeriodStart))
                .col(date_null(Pledges::PeriodEnd))
                .col(timestamp_with_time_zone(Pledges::CountsFrom))
                .col(timestamp_with_time_zone(Pledges::CountsUntil))
                .col(integer_null(Pledges::ReportedPercent))
                .col(string(Pledges::Status))
                .col(integer(Pledges::Version))
                .col(uuid_null(Pledges::ReviewerId))
                .col(string_null(Pledges::ReviewDecision))
                .col(text_null(Pledges::ReviewComment))
                .col(timestamp_with_time_zone_null(Pledges::ReviewedAt))
                .col(uuid_null(Pledges::FulfilledBy))
                .col(text_null(Pledges::FulfilmentNote))
                .col(timestamp_with_time_zone_null(Pledges::FulfilledAt))
                .col(timestamp_with_time_zone(Pledges::SubmittedAt))
                .col(timestamp_with_time_zone(Pledges::CreatedAt))
                .col(timestamp_with_time_zone(Pledges::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Pledges::Table, Pledges::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pledges::Table, Pledges::BranchId)
                        .to(Branches::Table, Branches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Pledges::Table, Pledges::AuthorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // The wall: a branch's pledges, branch ones first, newest first.
        index(
            m,
            Pledges::Table,
            "pledges_township_branch_scope_id",
            &[
                Pledges::TownshipId,
                Pledges::BranchId,
                Pledges::Scope,
                Pledges::Id,
            ],
            false,
        )
        .await?;
        index(
            m,
            Pledges::Table,
            "pledges_author_year",
            &[Pledges::AuthorId, Pledges::Year],
            false,
        )
        .await?;
        index(
            m,
            Pledges::Table,
            "pledges_status_submitted",
            &[Pledges::TownshipId, Pledges::Status, Pledges::SubmittedAt],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PledgeProgress::Table)
                .if_not_exists()
                .col(pk_uuid(PledgeProgress::Id))
                .col(uuid(PledgeProgress::TownshipId))
                .col(uuid(PledgeProgress::BranchId))
                .col(uuid(PledgeProgress::PledgeId))
                .col(uuid(PledgeProgress::AuthorId))
                .col(text(PledgeProgress::Note))
                .col(integer_null(PledgeProgress::Percent))
                .col(json(PledgeProgress::PhotoIds))
                .col(json(PledgeProgress::Evidence))
                .col(timestamp_with_time_zone(PledgeProgress::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeProgress::Table, PledgeProgress::PledgeId)
                        .to(Pledges::Table, Pledges::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            PledgeProgress::Table,
            "pledge_progress_pledge",
            &[PledgeProgress::PledgeId, PledgeProgress::Id],
            false,
        )
        .await?;
        index(
            m,
            PledgeProgress::Table,
            "pledge_progress_township_created",
            &[PledgeProgress::TownshipId, PledgeProgress::CreatedAt],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PledgeComments::Table)
                .if_not_exists()
                .col(pk_uuid(PledgeComments::Id))
                .col(uuid(PledgeComments::TownshipId))
                .col(uuid(PledgeComments::BranchId))
                .col(uuid(PledgeComments::PledgeId))
                .col(uuid(PledgeComments::AuthorId))
                .col(text(PledgeComments::Body))
                .col(timestamp_with_time_zone(PledgeComments::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeComments::Table, PledgeComments::PledgeId)
                        .to(Pledges::Table, Pledges::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            PledgeComments::Table,
            "pledge_comments_pledge",
            &[PledgeComments::PledgeId, PledgeComments::Id],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(PledgeRatings::Table)
                .if_not_exists()
                .col(pk_uuid(PledgeRatings::Id))
                .col(uuid(PledgeRatings::TownshipId))
                .col(uuid(PledgeRatings::BranchId))
                .col(uuid(PledgeRatings::PledgeId))
                .col(uuid(PledgeRatings::RaterId))
                .col(integer(PledgeRatings::Score))
                .col(text_null(PledgeRatings::Comment))
                .col(timestamp_with_time_zone(PledgeRatings::CreatedAt))
                .col(timestamp_with_time_zone(PledgeRatings::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PledgeRatings::Table, PledgeRatings::PledgeId)
                        .to(Pledges::Table, Pledges::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One rating per rater per pledge; a second one replaces the first.
        index(
            m,
            PledgeRatings::Table,
            "pledge_ratings_pledge_rater",
            &[PledgeRatings::PledgeId, PledgeRatings::RaterId],
            true,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PledgeRatings::Table.into_iden(),
            PledgeComments::Table.into_iden(),
            PledgeProgress::Table.into_iden(),
            Pledges::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
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
enum Pledges {
    Table,
    Id,
    TownshipId,
    BranchId,
    Scope,
    AuthorId,
    Year,
    Title,
    Content,
    Targets,
    PeriodStart,
    PeriodEnd,
    CountsFrom,
    CountsUntil,
    ReportedPercent,
    Status,
    Version,
    ReviewerId,
    ReviewDecision,
    ReviewComment,
    ReviewedAt,
    FulfilledBy,
    FulfilmentNote,
    FulfilledAt,
    SubmittedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PledgeProgress {
    #[sea_orm(iden = "pledge_progress")]
    Table,
    Id,
    TownshipId,
    BranchId,
    PledgeId,
    AuthorId,
    Note,
    Percent,
    PhotoIds,
    Evidence,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PledgeComments {
    Table,
    Id,
    TownshipId,
    BranchId,
    PledgeId,
    AuthorId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PledgeRatings {
    Table,
    Id,
    TownshipId,
    BranchId,
    PledgeId,
    RaterId,
    Score,
    Comment,
    CreatedAt,
    UpdatedAt,
}
