use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "households")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    pub head_name: String,
    pub address: String,
    /// 村民小组
    pub village_group: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub coord_system: Option<String>,
    /// A JSON array of strings, e.g. `["低保户", "独居老人"]`.
    pub tags: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
