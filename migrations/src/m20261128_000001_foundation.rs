//! The foundation: the township (tenant), its organisation, sign-in state, and the
//! tables every later feature writes into (idempotency keys, outbox, audit log).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Townships::Table)
                .if_not_exists()
                .col(pk_uuid(Townships::Id))
                .col(string_uniq(Townships::Name))
                .col(string(Townships::Timezone).default("Asia/Shanghai"))
                .col(integer(Townships::VisitIntervalDays).default(30))
                .col(timestamp_with_time_zone(Townships::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Branches::Table)
                .if_not_exists()
                .col(pk_uuid(Branches::Id))
                .col(uuid(Branches::TownshipId))
                .col(string(Branches::Name))
                .col(string(Branches::Kind))
                .col(timestamp_with_time_zone(Branches::CreatedAt))
                .col(timestamp_with_time_zone(Branches::UpdatedAt))
                .foreign_key(&mut fk(
                    Branches::Table,
                    Branches::TownshipId,
                    Townships::Table,
                    Townships::Id,
                ))
                .to_owned(),
        )
        .await?;
        unique_index(
            m,
            Branches::Table,
            "branches_township_name",
            &[Branches::TownshipId, Branches::Name],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Users::Table)
                .if_not_exists()
                .col(pk_uuid(Users::Id))
                .col(uuid(Users::TownshipId))
                .col(uuid_null(Users::BranchId))
                .col(string(Users::Role))
                .col(string(Users::Name))
                .col(string_uniq(Users::Phone))
                .col(string_null(Users::IdNumber))
                .col(string_null(Users::PasswordHash))
                .col(string_null(Users::WechatOpenid).unique_key())
                .col(boolean(Users::Active).default(true))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::TownshipId,
                    Townships::Table,
                    Townships::Id,
                ))
                .foreign_key(&mut fk(
                    Users::Table,
                    Users::BranchId,
                    Branches::Table,
                    Branches::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            Users::Table,
            "users_township_branch_id",
            &[Users::TownshipId, Users::BranchId, Users::Id],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Households::Table)
                .if_not_exists()
                .col(pk_uuid(Households::Id))
                .col(uuid(Households::TownshipId))
                .col(uuid(Households::BranchId))
                .col(string(Households::HeadName))
                .col(string(Households::Address))
                .col(string_null(Households::VillageGroup))
                .col(string_null(Households::Phone))
                .col(string_null(Households::IdNumber))
                .col(double_null(Households::Lat))
                .col(double_null(Households::Lng))
                .col(string_null(Households::CoordSystem))
                .col(json(Households::Tags))
                .col(timestamp_with_time_zone(Households::CreatedAt))
                .col(timestamp_with_time_zone(Households::UpdatedAt))
                .foreign_key(&mut fk(
                    Households::Table,
                    Households::TownshipId,
                    Townships::Table,
                    Townships::Id,
                ))
                .foreign_key(&mut fk(
                    Households::Table,
                    Households::BranchId,
                    Branches::Table,
                    Branches::Id,
                ))
                .to_owned(),
        )
        .await?;
        index(
            m,
            Households::Table,
            "households_township_branch_id",
            &[Households::TownshipId, Households::BranchId, Households::Id],
        )
        .await?;
        index(
            m,
            Households::Table,
            "households_branch_head_address",
            &[
                Households::BranchId,
                Households::HeadName,
                Households::Address,
            ],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Assignments::Table)
                .if_not_exists()
                .col(pk_uuid(Assignments::Id))
                .col(uuid(Assignments::TownshipId))
                .col(uuid(Assignments::BranchId))
                .col(uuid(Assignments::HouseholdId))
                .col(uuid(Assignments::MemberId))
                .col(timestamp_with_time_zone(Assignments::CreatedAt))
                .foreign_key(
                    fk(
                        Assignments::Table,
                        Assignments::HouseholdId,
                        Households::Table,
                        Households::Id,
                    )
                    .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    fk(
                        Assignments::Table,
                        Assignments::MemberId,
                        Users::Table,
                        Users::Id,
                    )
                    .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        unique_index(
            m,
            Assignments::Table,
            "assignments_household_member",
            &[Assignments::HouseholdId, Assignments::MemberId],
        )
        .await?;
        index(
            m,
            Assignments::Table,
            "assignments_member",
            &[Assignments::MemberId],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .if_not_exists()
                .col(pk_uuid(RefreshTokens::Id))
                .col(uuid(RefreshTokens::TownshipId))
                .col(uuid(RefreshTokens::UserId))
                .col(uuid(RefreshTokens::FamilyId))
                .col(string_uniq(RefreshTokens::TokenHash))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::UsedAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .foreign_key(
                    fk(
                        RefreshTokens::Table,
                        RefreshTokens::UserId,
                        Users::Table,
                        Users::Id,
                    )
                    .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            RefreshTokens::Table,
            "refresh_tokens_family",
            &[RefreshTokens::FamilyId],
        )
        .await?;
        index(
            m,
            RefreshTokens::Table,
            "refresh_tokens_user",
            &[RefreshTokens::UserId],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ActivationCodes::Table)
                .if_not_exists()
                .col(pk_uuid(ActivationCodes::Id))
                .col(uuid(ActivationCodes::TownshipId))
                .col(uuid(ActivationCodes::UserId))
                .col(string(ActivationCodes::CodeHash))
                .col(timestamp_with_time_zone(ActivationCodes::ExpiresAt))
                .col(timestamp_with_time_zone_null(ActivationCodes::UsedAt))
                .col(timestamp_with_time_zone(ActivationCodes::CreatedAt))
                .foreign_key(
                    fk(
                        ActivationCodes::Table,
                        ActivationCodes::UserId,
                        Users::Table,
                        Users::Id,
                    )
                    .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            ActivationCodes::Table,
            "activation_codes_user",
            &[ActivationCodes::UserId],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(IdempotencyKeys::Table)
                .if_not_exists()
                .col(pk_uuid(IdempotencyKeys::Id))
                .col(uuid(IdempotencyKeys::TownshipId))
                .col(uuid(IdempotencyKeys::UserId))
                .col(string(IdempotencyKeys::Key))
                .col(string(IdempotencyKeys::RequestHash))
                .col(integer_null(IdempotencyKeys::ResponseStatus))
                .col(text_null(IdempotencyKeys::ResponseBody))
                .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                .col(timestamp_with_time_zone(IdempotencyKeys::ExpiresAt))
                .to_owned(),
        )
        .await?;
        unique_index(
            m,
            IdempotencyKeys::Table,
            "idempotency_keys_user_key",
            &[IdempotencyKeys::UserId, IdempotencyKeys::Key],
        )
        .await?;
        index(
            m,
            IdempotencyKeys::Table,
            "idempotency_keys_expires",
            &[IdempotencyKeys::ExpiresAt],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(OutboxEvents::Table)
                .if_not_exists()
                .col(pk_uuid(OutboxEvents::Id))
                .col(uuid(OutboxEvents::TownshipId))
                .col(string(OutboxEvents::Kind))
                .col(string(OutboxEvents::SubjectKind))
                .col(uuid(OutboxEvents::SubjectId))
                .col(json(OutboxEvents::Payload))
                .col(timestamp_with_time_zone(OutboxEvents::CreatedAt))
                .col(timestamp_with_time_zone_null(OutboxEvents::RelayedAt))
                .col(integer(OutboxEvents::Attempts).default(0))
                .col(text_null(OutboxEvents::LastError))
                .to_owned(),
        )
        .await?;
        index(
            m,
            OutboxEvents::Table,
            "outbox_events_unrelayed",
            &[OutboxEvents::RelayedAt, OutboxEvents::CreatedAt],
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .if_not_exists()
                .col(pk_uuid(AuditLog::Id))
                .col(uuid(AuditLog::TownshipId))
                .col(uuid_null(AuditLog::ActorId))
                .col(string(AuditLog::Action))
                .col(string(AuditLog::SubjectKind))
                .col(uuid(AuditLog::SubjectId))
                .col(json_null(AuditLog::Before))
                .col(json_null(AuditLog::After))
                .col(string_null(AuditLog::RequestId))
                .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        index(
            m,
            AuditLog::Table,
            "audit_log_subject",
            &[AuditLog::SubjectId, AuditLog::CreatedAt],
        )
        .await?;
        index(
            m,
            AuditLog::Table,
            "audit_log_township_time",
            &[AuditLog::TownshipId, AuditLog::CreatedAt],
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            OutboxEvents::Table.into_iden(),
            IdempotencyKeys::Table.into_iden(),
            ActivationCodes::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Assignments::Table.into_iden(),
            Households::Table.into_iden(),
            Users::Table.into_iden(),
            Branches::Table.into_iden(),
            Townships::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

fn fk<T: IntoIden, C: IntoIden, R: IntoIden, RC: IntoIden>(
    table: T,
    column: C,
    ref_table: R,
    ref_column: RC,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(ref_table, ref_column)
        .to_owned()
}

async fn index<T: IntoIden + Copy, C: IntoIden + Copy>(
    m: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[C],
) -> Result<(), DbErr> {
    crate::create_index(m, table, name, columns, false).await
}

async fn unique_index<T: IntoIden + Copy, C: IntoIden + Copy>(
    m: &SchemaManager<'_>,
    table: T,
    name: &str,
    columns: &[C],
) -> Result<(), DbErr> {
    crate::create_index(m, table, name, columns, true).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Townships {
    Table,
    Id,
    Name,
    Timezone,
    VisitIntervalDays,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Branches {
    Table,
    Id,
    TownshipId,
    Name,
    Kind,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    TownshipId,
    BranchId,
    Role,
    Name,
    Phone,
    IdNumber,
    PasswordHash,
    WechatOpenid,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Households {
    Table,
    Id,
    TownshipId,
    BranchId,
    HeadName,
    Address,
    VillageGroup,
    Phone,
    IdNumber,
    Lat,
    Lng,
    CoordSystem,
    Tags,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Assignments {
    Table,
    Id,
    TownshipId,
    BranchId,
    HouseholdId,
    MemberId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    TownshipId,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ActivationCodes {
    Table,
    Id,
    TownshipId,
    UserId,
    CodeHash,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKeys {
    Table,
    Id,
    TownshipId,
    UserId,
    Key,
    RequestHash,
    ResponseStatus,
    ResponseBody,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum OutboxEvents {
    Table,
    Id,
    TownshipId,
    Kind,
    SubjectKind,
    SubjectId,
    Payload,
    CreatedAt,
    RelayedAt,
    Attempts,
    LastError,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    TownshipId,
    ActorId,
    Action,
    SubjectKind,
    SubjectId,
    Before,
    After,
    RequestId,
    CreatedAt,
}
