use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "spot_check_items")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub spot_check_id: Uuid,
    /// The branch of the sampled item when it was drawn.
    pub branch_id: Uuid,
    /// `visit` or `mediation_report`.
    pub subject_kind: String,
    pub subject_id: Uuid,
    /// `confirmed` or `discrepancy`; `null` until verified.
    pub outcome: Option<String>,
    pub note: Option<String>,
    pub verified_by: Option<Uuid>,
    pub verified_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
