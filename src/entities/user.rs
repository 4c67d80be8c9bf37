use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub role: String,
    pub name: String,
    #[sea_orm(unique)]
    pub phone: String,
    pub id_number: Option<String>,
    pub password_hash: Option<String>,
    #[sea_orm(unique)]
    pub wechat_openid: Option<String>,
    pub active: bool,
    /// Moves whenever the user's sessions must end; access tokens carry it.
    pub token_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
