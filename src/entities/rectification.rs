use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "rectifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    /// The spot-check finding it came from, if any (one rectification each).
    pub spot_check_item_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub deadline: DateTimeUtc,
    /// `open`, `reported`, `reopened` or `closed`.
    pub status: String,
    /// Bumped by every change; steps are conditional on it.
    pub version: i32,
    /// The branch's latest report.
    pub report_note: Option<String>,
    pub report_photo_ids: Json,
    pub reported_by: Option<Uuid>,
    pub reported_at: Option<DateTimeUtc>,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The deadline whose lapse has been notified (one notice per deadline).
    pub overdue_notified_for: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
