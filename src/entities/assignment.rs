use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "assignments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    pub household_id: Uuid,
    pub member_id: Uuid,
    pub created_at: DateTimeUtc,
    /// When the assignment ended; ended rows are invisible to every read
    /// ([`live`]) and purged after the retention period.
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Assignments that have not ended: where every read starts.
pub fn live() -> Select<Entity> {
    Entity::find().filter(Column::DeletedAt.is_null())
}

/// Ends the assignments `condition` picks, keeping their rows until the purge.
pub async fn end_where(
    db: &impl ConnectionTrait,
    condition: sea_orm::Condition,
) -> Result<u64, DbErr> {
    let ended = Entity::update_many()
        .col_expr(Column::DeletedAt, Expr::value(chrono::Utc::now()))
        .filter(Column::DeletedAt.is_null())
        .filter(condition)
        .exec(db)
        .await?;
    Ok(ended.rows_affected)
}
