use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_phases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub description: String,
    /// The first day, in the township's time zone.
    pub starts_on: Date,
    /// The last day (inclusive), in the township's time zone.
    pub ends_on: Date,
    /// Local midnight starting `starts_on`, as an instant.
    pub starts_at: DateTimeUtc,
    /// Local midnight after `ends_on` (exclusive), as an instant.
    pub ends_at: DateTimeUtc,
    /// The submission kinds the phase takes, e.g. `["visit", "pledge"]`.
    pub open_kinds: Json,
    /// `{kind: "YYYY-MM-DD"}`: the last day a kind is taken in the phase.
    pub deadlines: Json,
    /// When the phase's start was announced (once per start).
    pub start_notified_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
