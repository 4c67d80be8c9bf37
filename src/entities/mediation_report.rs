use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "mediation_reports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    /// The author (a member or secretary of the branch).
    pub member_id: Uuid,
    pub title: String,
    pub category: String,
    /// `[{name, role?, phone?}]`
    pub parties: Json,
    pub description: String,
    /// The phone's time of the dispute or the mediation.
    pub occurred_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    /// When it last entered the review queue (creation or resubmission).
    pub submitted_at: DateTimeUtc,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub accuracy_m: Option<f64>,
    pub coord_system: Option<String>,
    pub household_ids: Json,
    pub process: String,
    /// The outcome as reported.
    pub outcome: String,
    pub agreement: Option<String>,
    pub risk_level: String,
    pub photo_ids: Json,
    pub status: String,
    /// Bumped by every change; decisions are conditional on it.
    pub version: i32,
    pub reviewer_id: Option<Uuid>,
    pub review_decision: Option<String>,
    pub review_comment: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    /// `None` until escalated; then `open`, `acknowledged`, `resolved`.
    pub escalation_status: Option<String>,
    pub escalation_reason: Option<String>,
    pub escalated_by: Option<Uuid>,
    pub escalated_at: Option<DateTimeUtc>,
    pub acknowledged_by: Option<Uuid>,
    pub acknowledged_at: Option<DateTimeUtc>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    /// The township's latest note on the escalation.
    pub escalation_note: Option<String>,
    /// The outcome of the latest follow-up, else the reported one.
    pub latest_outcome: String,
    pub follow_up_count: i32,
    /// When the next follow-up (回访) is due; `None` once settled.
    pub follow_up_due_at: Option<DateTimeUtc>,
    /// The due time whose lapse has been notified, so it is notified once.
    pub overdue_notified_for: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
