//! The township's campaigns (创先争优活动) and their phases (动员部署,
//! 组织实施, 总结完善 …): dates in the township's time zone, which
//! submission kinds each phase takes, and their deadlines.

use sea_orm_migration::{prelude::*, schema::*};

use crate::create_index as index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Campaigns::Table)
                .if_not_exists()
                .col(pk_uuid(Campaigns::Id))
                .col(uuid(Campaigns::TownshipId))
                .col(string(Campaigns::Name))
                .col(text(Campaigns::Description))
                .col(date(Campaigns::StartsOn))
                .col(date(Campaigns::EndsOn))
                .col(integer(Campaigns::Version))
                .col(uuid(Campaigns::CreatedBy))
                .col(timestamp_with_time_zone(Campaigns::CreatedAt))
                .col(timestamp_with_time_zone(Campaigns::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Campaigns::Table, Campaigns::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Campaigns::Table, Campaigns::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // The list walks ids newest first.
        index(
            m,
            Campaigns::Table,
            "campaigns_township_id",
            &[Campaigns::TownshipId, Campaigns::Id],
            false,
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CampaignPhases::Table)
                .if_not_exists()
                .col(pk_uuid(CampaignPhases::Id))
                .col(uuid(CampaignPhases::TownshipId))
                .col(uuid(CampaignPhases::CampaignId))
                .col(string(CampaignPhases::Name))
                .col(text(CampaignPhases::Description))
                .col(date(CampaignPhases::StartsOn))
                .col(date(CampaignPhases::EndsOn))
                .col(timestamp_with_time_zone(CampaignPhases::StartsAt))
                .col(timestamp_with_time_zone(CampaignPhases::EndsAt))
                .col(json(CampaignPhases::OpenKinds))
                .col(json(CampaignPhases::Deadlines))
                .col(timestamp_with_time_zone_null(
                    CampaignPhases::StartNotifiedAt,
                ))
                .col(timestamp_with_time_zone(CampaignPhases::CreatedAt))
                .col(timestamp_with_time_zone(CampaignPhases::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CampaignPhases::Table, CampaignPhases::TownshipId)
                        .to(Townships::Table, Townships::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(CampaignPhases::Table, CampaignPhases::CampaignId)
                        .to(Campaigns::Table, Campaigns::Id),
                )
                .to_owned(),
        )
        .await?;
        use CampaignPhases as P;
        let indexes: [(&str, &[P]); 3] = [
            // A campaign's phases in order.
            ("campaign_phases_campaign", &[P::CampaignId, P::StartsOn]),
            // The phase of now, asked by every submission and by /me.
            (
                "campaign_phases_township_period",
                &[P::TownshipId, P::StartsAt, P::EndsAt],
            ),
            // The sweep for phases that have just started.
            ("campaign_phases_starts_at", &[P::StartsAt]),
        ];
        for (name, columns) in indexes {
            index(m, P::Table, name, columns, false).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            CampaignPhases::Table.into_iden(),
            Campaigns::Table.into_iden(),
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
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Campaigns {
    Table,
    Id,
    TownshipId,
    Name,
    Description,
    StartsOn,
    EndsOn,
    Version,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CampaignPhases {
    Table,
    Id,
    TownshipId,
    CampaignId,
    Name,
    Description,
    StartsOn,
    EndsOn,
    StartsAt,
    EndsAt,
    OpenKinds,
    Deadlines,
    StartNotifiedAt,
    CreatedAt,
    UpdatedAt,
}
