//! Dispute-mediation reports (矛盾纠纷调解记录), their escalation to the
//! township (上报) and their follow-up visits (回访).

use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index as index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(MediationReports::Table)
                .if_not_exists()
                .col(pk_uuid(MediationReports::Id))
                .col(uuid(MediationReports::TownshipId))
                .col(uuid(MediationReports::BranchId))
                .col(uuid(MediationReports::MemberId))
                .col(string(MediationReports::Title))
                .col(string(MediationReports::Category))
                .col(json(MediationReports::Parties))
                .col(text(MediationReports::Description))
                .col(timestamp_with_time_zone(MediationReports::OccurredAt))
                .col(timestamp_with_time_zone(MediationReports::ReceivedAt))
                .col(timestamp_with_time_zone(MediationReports::SubmittedAt))
                .col(double_null(MediationReports::Lat))
                .col(double_null(MediationReports::Lng))
                .col(double_null(MediationReports::AccuracyM))
                .col(string_null(MediationReports::CoordSystem))
                .col(json(MediationReports::HouseholdIds))
                .col(text(MediationReports::Process))
                .col(string(MediationReports::Outcome))
                .col(text_null(MediationReports::Agreement))
                .col(string(MediationReports::RiskLevel))
                .col(json(MediationReports::PhotoIds))
                .col(string(MediationReports::Status))
                .col(integer(MediationReports::Version))
                .col(uuid_null(MediationReports::ReviewerId))
                .col(string_null(MediationReports::ReviewDecision))
                .col(text_null(MediationReports::ReviewComment))
                .col(timestamp_with_time_zone_null(MediationReports::ReviewedAt))
                .col(string_null(MediationReports::EscalationStatus))
                .col(text_null(MediationReports::EscalationReason))
                .col(uuid_null(MediationReports::EscalatedBy))
                .col(timestamp_with_time_zone_null(MediationReports::EscalatedAt))
                .col(uuid_null(MediationReports::AcknowledgedBy))
                .col(timestamp_with_time_zone_null(
                    MediationReports::AcknowledgedAt,
                ))
                .col(uuid_null(MediationReports::ResolvedBy))
                .col(timestamp_with_time_zone_null(MediationReports::ResolvedAt))
                .col(text_null(MediationReports::EscalationNote))
                .col(string(MediationReports::LatestOutcome))
                .col(integer(MediationReports::FollowUpCount))
                .col(timestamp_with_time_zone_null(
                    MediationReports::FollowUpDueAt,
                ))
                .col(timestamp_with_time_zone_null(
                    MediationReports::OverdueNotifiedFor,
                ))
                .col(timestamp_with_time_zone(MediationReports::CreatedAt))
                .col(timestamp_with_time_zone(MediationReports::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MediationReports::Table, MediationReports::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MediationReports::Table, MediationReports::BranchId)
                        .to(Branches::Table, Branches::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MediationReports::Table, MediationReports::MemberId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        use MediationReports as R;
        // The list walks ids newest first; a filter on a rare value (pending,
        // high risk) would otherwise read thousands of rows to fill a page.
        let indexes: [(&str, &[R]); 7] = [
            ("mediation_reports_township_id", &[R::TownshipId, R::Id]),
            (
                "mediation_reports_township_branch_id",
                &[R::TownshipId, R::BranchId, R::Id],
            ),
            ("mediation_reports_member_id", &[R::MemberId, R::Id]),
            (
                "mediation_reports_status_id",
                &[R::TownshipId, R::Status, R::Id],
            ),
            (
                "mediation_reports_risk_id",
                &[R::TownshipId, R::RiskLevel, R::Id],
            ),
            (
                "mediation_reports_escalation",
                &[R::TownshipId, R::EscalationStatus, R::EscalatedAt],
            ),
            // For the sweep of lapsed follow-ups across townships.
            ("mediation_reports_follow_up_due", &[R::FollowUpDueAt]),
        ];
        for (name, columns) in indexes {
            index(m, R::Table, name, columns, false).await?;
        }

        m.create_table(
            Table::create()
                .table(MediationFollowUps::Table)
                .if_not_exists()
                .col(pk_uuid(MediationFollowUps::Id))
                .col(uuid(MediationFollowUps::TownshipId))
                .col(uuid(MediationFollowUps::BranchId))
                .col(uuid(MediationFollowUps::ReportId))
                .col(uuid(MediationFollowUps::AuthorId))
                .col(timestamp_with_time_zone(MediationFollowUps::VisitedAt))
                .col(text(MediationFollowUps::Note))
                .col(string(MediationFollowUps::Outcome))
                .col(small_integer_null(MediationFollowUps::Satisfaction))
                .col(timestamp_with_time_zone(MediationFollowUps::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MediationFollowUps::Table, MediationFollowUps::ReportId)
                        .to(MediationReports::Table, MediationReports::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(MediationFollowUps::Table, MediationFollowUps::AuthorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            MediationFollowUps::Table,
            "mediation_follow_ups_report",
            &[MediationFollowUps::ReportId, MediationFollowUps::Id],
            false,
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MediationFollowUps::Table.into_iden(),
            MediationReports::Table.into_iden(),
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
enum MediationReports {
    Table,
    Id,
    TownshipId,
    BranchId,
    MemberId,
    Title,
    Category,
    Parties,
    Description,
    OccurredAt,
    ReceivedAt,
    SubmittedAt,
    Lat,
    Lng,
    AccuracyM,
    CoordSystem,
    HouseholdIds,
    Process,
    Outcome,
    Agreement,
    RiskLevel,
    PhotoIds,
    Status,
    Version,
    ReviewerId,
    ReviewDecision,
    ReviewComment,
    ReviewedAt,
    EscalationStatus,
    EscalationReason,
    EscalatedBy,
    EscalatedAt,
    AcknowledgedBy,
    AcknowledgedAt,
    ResolvedBy,
    ResolvedAt,
    EscalationNote,
    LatestOutcome,
    FollowUpCount,
    FollowUpDueAt,
    OverdueNotifiedFor,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum MediationFollowUps {
    Table,
    Id,
    TownshipId,
    BranchId,
    ReportId,
    AuthorId,
    VisitedAt,
    Note,
    Outcome,
    Satisfaction,
    CreatedAt,
}
