use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visits")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    pub household_id: Uuid,
    pub member_id: Uuid,
    pub kind: String,
    /// The phone's time of the visit (may be days before `received_at`).
    pub visited_at: DateTimeUtc,
    pub received_at: DateTimeUtc,
    /// When it last entered the review queue (creation or resubmission).
    pub submitted_at: DateTimeUtc,
    pub lat: f64,
    pub lng: f64,
    pub accuracy_m: Option<f64>,
    pub coord_system: String,
    pub distance_m: Option<f64>,
    pub summary: String,
    pub needs: Json,
    pub follow_up: bool,
    pub photo_ids: Json,
    pub flags: Json,
    pub status: String,
    /// Bumped by every change; decisions are conditional on it.
    pub version: i32,
    pub reviewer_id: Option<Uuid>,
    pub review_decision: Option<String>,
    pub review_comment: Option<String>,
    pub reviewed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
