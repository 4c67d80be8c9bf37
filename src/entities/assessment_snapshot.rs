use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assessment_snapshots")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub assessment_id: Uuid,
    pub version: i32,
    pub year: i32,
    pub branch_components: Json,
    pub member_components: Json,
    pub computed_by: Uuid,
    pub computed_at: DateTimeUtc,
    pub published_by: Option<Uuid>,
    pub published_at: Option<DateTimeUtc>,
    pub appeal_until: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
