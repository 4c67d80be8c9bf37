use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "pledges")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    /// `member` or `branch`.
    pub scope: String,
    /// Who made it: the member (member pledges), or the secretary or admin
    /// who published it (branch pledges).
    pub author_id: Uuid,
    pub year: i32,
    pub title: String,
    pub content: String,
    /// `[{description, due_date, metric}]`.
    pub targets: Json,
    pub period_start: Option<Date>,
    pub period_end: Option<Date>,
    /// The instants whose submissions count towards measurable targets.
    pub counts_from: DateTimeUtc,
    pub counts_until: DateTimeUtc,
    /// The latest percent the owner reported with progress.
    pub reported_percent: Option<i32>,
    pub status: String,
    /// Bumped by every change; decisions are conditional on it.
    pub version: i32,
    pub reviewer_id: Option<Uuid>,
    pub review_decision: Option<String>,
    pub review_comment: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub fulfilled_by: Option<Uuid>,
    pub fulfilment_note: Option<String>,
    pub fulfilled_at: Option<DateTimeUtc>,
    /// When it last entered the review queue (creation or resubmission).
    pub submitted_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
