use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "spot_checks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    /// The share drawn from each branch, in hundredths of a percent (10 % is 1000).
    pub percent_hundredths: i32,
    /// The seed of the draw: with the same rows, it draws the same sample again.
    pub seed: i64,
    /// Items dated at or after this time (`null`: no lower bound).
    pub period_from: Option<DateTimeUtc>,
    /// Items dated before this time (`null`: no upper bound).
    pub period_to: Option<DateTimeUtc>,
    /// The kinds sampled, e.g. `["visit", "mediation_report"]`.
    pub kinds: Json,
    /// `open` or `closed`.
    pub status: String,
    pub drawn_by: Uuid,
    pub drawn_at: DateTimeUtc,
    pub closed_by: Option<Uuid>,
    pub closed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
