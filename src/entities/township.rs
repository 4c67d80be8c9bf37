use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "townships")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// IANA zone for day/week/month buckets, `Asia/Shanghai` by default.
    pub timezone: String,
    /// Days after which an assigned household counts as overdue for a visit.
    pub visit_interval_days: i32,
    pub created_at: DateTimeUtc,
    /// Township settings as JSON (quality-flag thresholds, …); defaults apply to absent keys.
    pub settings: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
