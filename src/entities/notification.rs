use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub recipient_id: Uuid,
    /// The outbox event it was made from; unique with the recipient.
    pub event_id: Uuid,
    /// The event kind, e.g. `visit.submitted`.
    pub kind: String,
    pub title: String,
    pub body: String,
    pub subject_kind: String,
    pub subject_id: Uuid,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
