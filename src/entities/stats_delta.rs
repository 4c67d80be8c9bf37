use sea_orm::entity::prelude::*;

/// One change to a dashboard figure (±1), written by the database's triggers
/// in the transaction of the change, until it is folded into `stats_totals`.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stats_deltas")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub seq: i64,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    pub name: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
