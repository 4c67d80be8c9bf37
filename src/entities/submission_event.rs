use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "submission_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// The submission's version after this event.
    pub version: i32,
    /// `submitted`, `edited`, `approved`, `returned`, `rejected`, …
    pub action: String,
    pub actor_id: Uuid,
    pub comment: Option<String>,
    /// The submission as it stood after the event.
    pub snapshot: Option<Json>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
