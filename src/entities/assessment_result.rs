use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_results")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub snapshot_id: Uuid,
    pub branch_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub subject_name: String,
    pub rank: i32,
    pub total: f64,
    pub components: Json,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
