use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_commendations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub snapshot_id: Uuid,
    pub title: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub branch_id: Uuid,
    pub name: String,
    pub branch_name: String,
    pub rank: Option<i32>,
    pub total: Option<f64>,
    pub position: i32,
    pub override_reason: Option<String>,
    pub confirmed_by: Uuid,
    pub confirmed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
