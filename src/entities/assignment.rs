use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    pub household_id: Uuid,
    pub member_id: Uuid,
    pub created_at: DateTimeUtc,
    /// When the assignment ended; ended rows are invisible to every read
    /// (`retention::live_assignments`) and purged after the retention period.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
