use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_marks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub assessment_id: Uuid,
    pub round_id: Uuid,
    pub branch_id: Uuid,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub rater_role: String,
    pub mark1: i16,
    pub mark2: i16,
    pub mark3: i16,
    pub mark4: i16,
    pub mark5: i16,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
