use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    /// e.g. `visit.submitted`, `mediation_report.escalated`.
    pub kind: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub payload: Json,
    pub created_at: DateTimeUtc,
    pub relayed_at: Option<DateTimeUtc>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
