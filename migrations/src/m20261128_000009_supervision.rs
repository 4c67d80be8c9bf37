//! The township's supervision (督导检查, 整改): spot checks with the items
//! they sampled and their verification, and the rectifications findings
//! become.

use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index as index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SpotChecks::Table)
                .if_not_exists()
                .col(pk_uuid(SpotChecks::Id))
                .col(uuid(SpotChecks::TownshipId))
                .col(integer(SpotChecks::PercentHundredths))
                .col(big_integer(SpotChecks::Seed))
                .col(timestamp_with_time_zone_null(SpotChecks::PeriodFrom))
                .col(timestamp_with_time_zone_null(SpotChecks::PeriodTo))
                .col(json(SpotChecks::Kinds))
                .col(string(SpotChecks::Status))
                .col(uuid(SpotChecks::DrawnBy))
                .col(timestamp_with_time_zone(SpotChecks::DrawnAt))
                .col(uuid_null(SpotChecks::ClosedBy))
                .col(timestamp_with_time_zone_null(SpotChecks::ClosedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SpotChecks::Table, SpotChecks::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SpotChecks::Table, SpotChecks::DrawnBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // The list walks ids newest first; the yearly figures pick checks by when drawn.
        index(
            m,
            SpotChecks::Table,
            "spot_checks_township_id",
            &[SpotChecks::TownshipId, SpotChecks::Id],
            false,
        )
        .await?;
        index(
            m,
            SpotChecks::Table,
            "spot_checks_township_drawn_at",
            &[SpotChecks::TownshipId, SpotChecks::DrawnAt],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SpotCheckItems::Table)
                .if_not_exists()
                .col(pk_uuid(SpotCheckItems::Id))
                .col(uuid(SpotCheckItems::TownshipId))
                .col(uuid(SpotCheckItems::SpotCheckId))
                .col(uuid(SpotCheckItems::BranchId))
                .col(string(SpotCheckItems::SubjectKind))
                .col(uuid(SpotCheckItems::SubjectId))
                .col(string_null(SpotCheckItems::Outcome))
                .col(text_null(SpotCheckItems::Note))
                .col(uuid_null(SpotCheckItems::VerifiedBy))
                .col(timestamp_with_time_zone_null(SpotCheckItems::VerifiedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SpotCheckItems::Table, SpotCheckItems::SpotCheckId)
                        .to(SpotChecks::Table, SpotChecks::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(SpotCheckItems::Table, SpotCheckItems::BranchId)
                        .to(Branches::Table, Branches::Id),
                )
                .to_owned(),
        )
        .await?;
        use SpotCheckItems as I;
        // A check samples an item once; its items are read by check (and
        // tallied by branch), and a secretary's checks are found by branch.
        index(
            m,
            I::Table,
            "spot_check_items_subject",
            &[I::SpotCheckId, I::SubjectKind, I::SubjectId],
            true,
        )
        .await?;
        index(
            m,
            I::Table,
            "spot_check_items_branch",
            &[I::BranchId, I::SpotCheckId],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Rectifications::Table)
                .if_not_exists()
                .col(pk_uuid(Rectifications::Id))
                .col(uuid(Rectifications::TownshipId))
                .col(uuid(Rectifications::BranchId))
                .col(uuid_null(Rectifications::SpotCheckItemId))
                .col(string(Rectifications::Title))
                .col(text(Rectifications::Description))
                .col(timestamp_with_time_zone(Rectifications::Deadline))
                .col(string(Rectifications::Status))
                .col(integer(Rectifications::Version))
                .col(text_null(Rectifications::ReportNote))
                .col(json(Rectifications::ReportPhotoIds))
                .col(uuid_null(Rectifications::ReportedBy))
                .col(timestamp_with_time_zone_null(Rectifications::ReportedAt))
                .col(uuid_null(Rectifications::ClosedBy))
                .col(timestamp_with_time_zone_null(Rectifications::ClosedAt))
                .col(uuid(Rectifications::CreatedBy))
                .col(timestamp_with_time_zone(Rectifications::CreatedAt))
                .col(timestamp_with_time_zone(Rectifications::UpdatedAt))
                .col(timestamp_with_time_zone_null(
                    Rectifications::OverdueNotifiedFor,
                ))
                .foreign_key(
                    ForeignKey::create()
                        .from(Rectifications::Table, Rectifications::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Rectifications::Table, Rectifications::BranchId)
                        .to(Branches::Table, Branches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Rectifications::Table, Rectifications::SpotCheckItemId)
                        .to(SpotCheckItems::Table, SpotCheckItems::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Rectifications::Table, Rectifications::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        use Rectifications as R;
        let indexes: [(&str, &[R], bool); 5] = [
            // The lists walk ids newest first, by township, branch or status.
            ("rectifications_township_id", &[R::TownshipId, R::Id], false),
            (
                "rectifications_township_branch_id",
                &[R::TownshipId, R::BranchId, R::Id],
                false,
            ),
            (
                "rectifications_township_status_id",
                &[R::TownshipId, R::Status, R::Id],
                false,
            ),
            // The overdue sweep across townships: open or reopened past deadline.
            (
                "rectifications_status_deadline",
                &[R::Status, R::Deadline],
                false,
            ),
            // One rectification per spot-check finding (NULLs do not collide).
            (
                "rectifications_spot_check_item",
                &[R::SpotCheckItemId],
                true,
            ),
        ];
        for (name, columns, unique) in indexes {
            index(m, R::Table, name, columns, unique).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Rectifications::Table.into_iden(),
            SpotCheckItems::Table.into_iden(),
            SpotChecks::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
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
enum SpotChecks {
    Table,
    Id,
    TownshipId,
    PercentHundredths,
    Seed,
    PeriodFrom,
    PeriodTo,
    Kinds,
    Status,
    DrawnBy,
    DrawnAt,
    ClosedBy,
    ClosedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SpotCheckItems {
    Table,
    Id,
    TownshipId,
    SpotCheckId,
    BranchId,
    SubjectKind,
    SubjectId,
    Outcome,
    Note,
    VerifiedBy,
    VerifiedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Rectifications {
    Table,
    Id,
    TownshipId,
    BranchId,
    SpotCheckItemId,
    Title,
    Description,
    Deadline,
    Status,
    Version,
    ReportNote,
    ReportPhotoIds,
    ReportedBy,
    ReportedAt,
    ClosedBy,
    ClosedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    OverdueNotifiedFor,
}
