use sea_orm::entity::prelude::*;

/// A dashboard figure of one branch, as folded so far; the figure is this
/// plus the branch's `stats_deltas` not yet folded.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "stats_totals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub township_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub branch_id: Uuid,
    /// e.g. `visits.assistance.pending`, `households_visited`, `reports.resolved`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub name: String,
    pub n: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
