//! The year-end assessment (考核): a scheme per township and year, ballot
//! rounds and their anonymous marks, the township committee's ratings,
//! versioned result snapshots, appeals and the commendations made of them.

use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index as index;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn township_fk<T: IntoIden + Copy, C: IntoIden + Copy>(
    table: T,
    column: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Townships::Table, Townships::Id)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use Assessments as A;
        m.create_table(
            Table::create()
                .table(A::Table)
                .if_not_exists()
                .col(pk_uuid(A::Id))
                .col(uuid(A::TownshipId))
                .col(integer(A::Year))
                .col(json(A::BranchComponents))
                .col(json(A::MemberComponents))
                .col(integer(A::Version))
                .col(uuid(A::CreatedBy))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .col(timestamp_with_time_zone(A::UpdatedAt))
                .foreign_key(&mut township_fk(A::Table, A::TownshipId))
                .to_owned(),
        )
        .await?;
        // One scheme per township and year.
        index(
            m,
            A::Table,
            "assessments_township_year",
            &[A::TownshipId, A::Year],
            true,
        )
        .await?;

        use AssessmentCommitteeRatings as C;
        m.create_table(
            Table::create()
                .table(C::Table)
                .if_not_exists()
                .col(pk_uuid(C::Id))
                .col(uuid(C::TownshipId))
                .col(uuid(C::AssessmentId))
                .col(uuid(C::BranchId))
                .col(integer(C::PointsHundredths))
                .col(text_null(C::Comment))
                .col(uuid(C::RatedBy))
                .col(timestamp_with_time_zone(C::RatedAt))
                .foreign_key(&mut township_fk(C::Table, C::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::AssessmentId)
                        .to(A::Table, A::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(C::Table, C::BranchId)
                        .to(Branches::Table, Branches::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            C::Table,
            "assessment_committee_ratings_branch",
            &[C::AssessmentId, C::BranchId],
            true,
        )
        .await?;

        use AssessmentRounds as R;
        m.create_table(
            Table::create()
                .table(R::Table)
                .if_not_exists()
                .col(pk_uuid(R::Id))
                .col(uuid(R::TownshipId))
                .col(uuid(R::AssessmentId))
                .col(timestamp_with_time_zone(R::OpensAt))
                .col(timestamp_with_time_zone(R::ClosesAt))
                .col(uuid(R::CreatedBy))
                .col(timestamp_with_time_zone(R::CreatedAt))
                .foreign_key(&mut township_fk(R::Table, R::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(R::Table, R::AssessmentId)
                        .to(A::Table, A::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            R::Table,
            "assessment_rounds_assessment",
            &[R::AssessmentId, R::Id],
            false,
        )
        .await?;

        // Who voted in a round, only to keep it to one ballot each; the
        // marks are kept apart with no voter on them.
        use AssessmentBallots as B;
        m.create_table(
            Table::create()
                .table(B::Table)
                .if_not_exists()
                .col(pk_uuid(B::Id))
                .col(uuid(B::TownshipId))
                .col(uuid(B::RoundId))
                .col(uuid(B::BranchId))
                .col(uuid(B::VoterId))
                .col(timestamp_with_time_zone(B::CastAt))
                .foreign_key(&mut township_fk(B::Table, B::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(B::Table, B::RoundId)
                        .to(R::Table, R::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            B::Table,
            "assessment_ballots_round_voter",
            &[B::RoundId, B::VoterId],
            true,
        )
        .await?;

        use AssessmentMarks as K;
        m.create_table(
            Table::create()
                .table(K::Table)
                .if_not_exists()
                .col(pk_uuid(K::Id))
                .col(uuid(K::TownshipId))
                .col(uuid(K::AssessmentId))
                .col(uuid(K::RoundId))
                .col(uuid(K::BranchId))
                .col(string(K::SubjectKind))
                .col(uuid(K::SubjectId))
                .col(string(K::RaterRole))
                .col(small_integer(K::Mark1))
                .col(small_integer(K::Mark2))
                .col(small_integer(K::Mark3))
                .col(small_integer(K::Mark4))
                .col(small_integer(K::Mark5))
                .foreign_key(&mut township_fk(K::Table, K::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(K::Table, K::RoundId)
                        .to(R::Table, R::Id),
                )
                .to_owned(),
        )
        .await?;
        // Computing groups an assessment's marks by subject.
        index(
            m,
            K::Table,
            "assessment_marks_assessment_subject",
            &[K::AssessmentId, K::SubjectKind, K::SubjectId],
            false,
        )
        .await?;

        use AssessmentSnapshots as S;
        m.create_table(
            Table::create()
                .table(S::Table)
                .if_not_exists()
                .col(pk_uuid(S::Id))
                .col(uuid(S::TownshipId))
                .col(uuid(S::AssessmentId))
                .col(integer(S::Version))
                .col(integer(S::Year))
                .col(json(S::BranchComponents))
                .col(json(S::MemberComponents))
                .col(uuid(S::ComputedBy))
                .col(timestamp_with_time_zone(S::ComputedAt))
                .col(uuid_null(S::PublishedBy))
                .col(timestamp_with_time_zone_null(S::PublishedAt))
                .col(timestamp_with_time_zone_null(S::AppealUntil))
                .foreign_key(&mut township_fk(S::Table, S::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(S::Table, S::AssessmentId)
                        .to(A::Table, A::Id),
                )
                .to_owned(),
        )
        .await?;
        // Versions count up per assessment; a race to compute breaks this.
        index(
            m,
            S::Table,
            "assessment_snapshots_version",
            &[S::AssessmentId, S::Version],
            true,
        )
        .await?;

        use AssessmentResults as T;
        m.create_table(
            Table::create()
                .table(T::Table)
                .if_not_exists()
                .col(pk_uuid(T::Id))
                .col(uuid(T::TownshipId))
                .col(uuid(T::SnapshotId))
                .col(uuid(T::BranchId))
                .col(string(T::SubjectKind))
                .col(uuid(T::SubjectId))
                .col(string(T::SubjectName))
                .col(integer(T::Rank))
                .col(double(T::Total))
                .col(json(T::Components))
                .foreign_key(&mut township_fk(T::Table, T::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(T::Table, T::SnapshotId)
                        .to(S::Table, S::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            T::Table,
            "assessment_results_snapshot_rank",
            &[T::SnapshotId, T::SubjectKind, T::Rank],
            true,
        )
        .await?;
        index(
            m,
            T::Table,
            "assessment_results_snapshot_branch",
            &[T::SnapshotId, T::BranchId],
            false,
        )
        .await?;

        use AssessmentAppeals as P;
        m.create_table(
            Table::create()
                .table(P::Table)
                .if_not_exists()
                .col(pk_uuid(P::Id))
                .col(uuid(P::TownshipId))
                .col(uuid(P::SnapshotId))
                .col(uuid(P::BranchId))
                .col(text(P::Reason))
                .col(uuid(P::FiledBy))
                .col(timestamp_with_time_zone(P::FiledAt))
                .col(text_null(P::Answer))
                .col(uuid_null(P::AnsweredBy))
                .col(timestamp_with_time_zone_null(P::AnsweredAt))
                .foreign_key(&mut township_fk(P::Table, P::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(P::Table, P::SnapshotId)
                        .to(S::Table, S::Id),
                )
                .to_owned(),
        )
        .await?;
        // One objection per branch and snapshot.
        index(
            m,
            P::Table,
            "assessment_appeals_snapshot_branch",
            &[P::SnapshotId, P::BranchId],
            true,
        )
        .await?;

        use AssessmentCommendations as D;
        m.create_table(
            Table::create()
                .table(D::Table)
                .if_not_exists()
                .col(pk_uuid(D::Id))
                .col(uuid(D::TownshipId))
                .col(uuid(D::SnapshotId))
                .col(string(D::Title))
                .col(string(D::SubjectKind))
                .col(uuid(D::SubjectId))
                .col(uuid(D::BranchId))
                .col(string(D::Name))
                .col(string(D::BranchName))
                .col(integer_null(D::Rank))
                .col(double_null(D::Total))
                .col(integer(D::Position))
                .col(text_null(D::OverrideReason))
                .col(uuid(D::ConfirmedBy))
                .col(timestamp_with_time_zone(D::ConfirmedAt))
                .foreign_key(&mut township_fk(D::Table, D::TownshipId))
                .foreign_key(
                    ForeignKey::create()
                        .from(D::Table, D::SnapshotId)
                        .to(S::Table, S::Id),
                )
                .to_owned(),
        )
        .await?;
        index(
            m,
            D::Table,
            "assessment_commendations_entry",
            &[D::SnapshotId, D::Title, D::SubjectId],
            true,
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AssessmentCommendations::Table.into_iden(),
            AssessmentAppeals::Table.into_iden(),
            AssessmentResults::Table.into_iden(),
            AssessmentSnapshots::Table.into_iden(),
            AssessmentMarks::Table.into_iden(),
            AssessmentBallots::Table.into_iden(),
            AssessmentRounds::Table.into_iden(),
            AssessmentCommitteeRatings::Table.into_iden(),
            Assessments::Table.into_iden(),
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
enum Assessments {
    Table,
    Id,
    TownshipId,
    Year,
    BranchComponents,
    MemberComponents,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentCommitteeRatings {
    Table,
    Id,
    TownshipId,
    AssessmentId,
    BranchId,
    PointsHundredths,
    Comment,
    RatedBy,
    RatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentRounds {
    Table,
    Id,
    TownshipId,
    AssessmentId,
    OpensAt,
    ClosesAt,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentBallots {
    Table,
    Id,
    TownshipId,
    RoundId,
    BranchId,
    VoterId,
    CastAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentMarks {
    Table,
    Id,
    TownshipId,
    AssessmentId,
    RoundId,
    BranchId,
    SubjectKind,
    SubjectId,
    RaterRole,
    Mark1,
    Mark2,
    Mark3,
    Mark4,
    Mark5,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentSnapshots {
    Table,
    Id,
    TownshipId,
    AssessmentId,
    Version,
    Year,
    BranchComponents,
    MemberComponents,
    ComputedBy,
    ComputedAt,
    PublishedBy,
    PublishedAt,
    AppealUntil,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentResults {
    Table,
    Id,
    TownshipId,
    SnapshotId,
    BranchId,
    SubjectKind,
    SubjectId,
    SubjectName,
    Rank,
    Total,
    Components,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentAppeals {
    Table,
    Id,
    TownshipId,
    SnapshotId,
    BranchId,
    Reason,
    FiledBy,
    FiledAt,
    Answer,
    AnsweredBy,
    AnsweredAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AssessmentCommendations {
    Table,
    Id,
    TownshipId,
    SnapshotId,
    Title,
    SubjectKind,
    SubjectId,
    BranchId,
    Name,
    BranchName,
    Rank,
    Total,
    Position,
    OverrideReason,
    ConfirmedBy,
    ConfirmedAt,
}
