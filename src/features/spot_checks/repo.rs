//! Spot checks, their items and their verification in the database.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QuerySelect,
};
use uuid::Uuid;

use super::dto::{Draw, SubjectSummary};
use crate::core::{Action, Actor};
use crate::domain::supervision::{
    Candidate, SampledKind, SpotCheckStatus, Tally, VerificationOutcome,
};
use crate::domain::{ReviewStatus, VisitKind};
use crate::entities::{
    branch, household, mediation_report, rectification, spot_check, spot_check_item, visit,
};
use crate::platform::error::ApiError;
use crate::platform::http::pagination::Page;

pub const SUBJECT_KIND: &str = "spot_check";
pub const ITEM_KIND: &str = "spot_check_item";

/// Rows per insert: well under PostgreSQL's 65,535 bind parameters.
const INSERT_CHUNK: usize = 500;

/// A spot check the caller may read, or 404 (out of reach) or 403 (members).
pub async fn find_readable(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<spot_check::Model, ApiError> {
    let found = actor
        .scoped_spot_checks()
        .filter(spot_check::Column::Id.eq(id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)?;
    actor.may(Action::ReadSpotCheck, actor.branch_limit())?;
    Ok(found)
}

/// Spot checks within reach, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    page: Page,
) -> Result<(Vec<spot_check::Model>, Option<String>), ApiError> {
    let rows = page
        .apply_newest_first(actor.scoped_spot_checks(), spot_check::Column::Id)
        .all(db)
        .await?;
    Ok(page.finish(rows, |c| c.id))
}

/// Everything a draw may pick: the township's approved items of `draw.kinds`
/// dated within its period. Order does not matter: the draw sorts.
pub async fn candidates(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    draw: &Draw,
) -> Result<Vec<Candidate>, ApiError> {
    let approved = ReviewStatus::Approved.as_str();
    let mut found = Vec::new();
    if draw.kinds.contains(&SampledKind::Visit) {
        let mut query = visit::Entity::find()
            .select_only()
            .column(visit::Column::Id)
            .column(visit::Column::BranchId)
            .filter(visit::Column::TownshipId.eq(township_id))
            .filter(visit::Column::Status.eq(approved));
        if let Some(from) = draw.from {
            query = query.filter(visit::Column::VisitedAt.gte(from));
        }
        if let Some(to) = draw.to {
            query = query.filter(visit::Column::VisitedAt.lt(to));
        }
        let rows: Vec<(Uuid, Uuid)> = query.into_tuple().all(db).await?;
        found.extend(rows.into_iter().map(|(id, branch_id)| Candidate {
            branch_id,
            id,
            kind: SampledKind::Visit,
        }));
    }
    if draw.kinds.contains(&SampledKind::MediationReport) {
        use mediation_report::Column as R;
        let mut query = mediation_report::Entity::find()
            .select_only()
            .column(R::Id)
            .column(R::BranchId)
            .filter(R::TownshipId.eq(township_id))
            .filter(R::Status.eq(approved));
        if let Some(from) = draw.from {
            query = query.filter(R::OccurredAt.gte(from));
        }
        if let Some(to) = draw.to {
            query = query.filter(R::OccurredAt.lt(to));
        }
        let rows: Vec<(Uuid, Uuid)> = query.into_tuple().all(db).await?;
        found.extend(rows.into_iter().map(|(id, branch_id)| Candidate {
            branch_id,
            id,
            kind: SampledKind::MediationReport,
        }));
    }
    Ok(found)
}

/// Records a drawn check and its items.
pub async fn insert(
    db: &impl ConnectionTrait,
    actor: &Actor,
    draw: &Draw,
    seed: u64,
    sample: &[Candidate],
    now: DateTime<Utc>,
) -> Result<spot_check::Model, ApiError> {
    let check = spot_check::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(actor.township_id),
        percent_hundredths: Set(draw.percent.hundredths()),
        seed: Set(i64::try_from(seed).map_err(anyhow::Error::from)?),
        period_from: Set(draw.from),
        period_to: Set(draw.to),
        kinds: Set(serde_json::json!(draw.kinds)),
        status: Set(SpotCheckStatus::Open.as_str().to_owned()),
        drawn_by: Set(actor.user_id),
        drawn_at: Set(now),
        closed_by: Set(None),
        closed_at: Set(None),
    }
    .insert(db)
    .await?;
    for chunk in sample.chunks(INSERT_CHUNK) {
        spot_check_item::Entity::insert_many(chunk.iter().map(|c| spot_check_item::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(actor.township_id),
            spot_check_id: Set(check.id),
            branch_id: Set(c.branch_id),
            subject_kind: Set(c.kind.as_str().to_owned()),
            subject_id: Set(c.id),
            outcome: Set(None),
            note: Set(None),
            verified_by: Set(None),
            verified_at: Set(None),
        }))
        .exec_without_returning(db)
        .await?;
    }
    Ok(check)
}

/// The items of `check_id` within the caller's reach.
pub async fn items_of(
    db: &impl ConnectionTrait,
    actor: &Actor,
    check_id: Uuid,
) -> Result<Vec<spot_check_item::Model>, ApiError> {
    Ok(actor
        .scoped::<spot_check_item::Entity>()
        .filter(spot_check_item::Column::SpotCheckId.eq(check_id))
        .all(db)
        .await?)
}

/// One item of `check_id` within reach, or 404.
pub async fn find_item(
    db: &impl ConnectionTrait,
    actor: &Actor,
    check_id: Uuid,
    item_id: Uuid,
) -> Result<spot_check_item::Model, ApiError> {
    actor
        .scoped::<spot_check_item::Entity>()
        .filter(spot_check_item::Column::SpotCheckId.eq(check_id))
        .filter(spot_check_item::Column::Id.eq(item_id))
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Records an outcome, conditional on the check being open (a close that
/// commits first wins). False when the check is closed.
pub async fn verify(
    db: &impl ConnectionTrait,
    actor: &Actor,
    item: &spot_check_item::Model,
    outcome: VerificationOutcome,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use spot_check_item::Column as I;
    let updated = spot_check_item::Entity::update_many()
        .col_expr(I::Outcome, Expr::value(outcome.as_str()))
        .col_expr(I::Note, Expr::value(note.map(str::to_owned)))
        .col_expr(I::VerifiedBy, Expr::value(actor.user_id))
        .col_expr(I::VerifiedAt, Expr::value(now))
        .filter(I::Id.eq(item.id))
        .filter(
            I::SpotCheckId.in_subquery(
                Query::select()
                    .column(spot_check::Column::Id)
                    .from(spot_check::Entity)
                    .and_where(spot_check::Column::Id.eq(item.spot_check_id))
                    .and_where(spot_check::Column::Status.eq(SpotCheckStatus::Open.as_str()))
                    .to_owned(),
            ),
        )
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Closes an open check; false when it was already closed.
pub async fn close(
    db: &impl ConnectionTrait,
    actor: &Actor,
    check: &spot_check::Model,
    now: DateTime<Utc>,
) -> Result<bool, ApiError> {
    use spot_check::Column as C;
    let updated = spot_check::Entity::update_many()
        .col_expr(C::Status, Expr::value(SpotCheckStatus::Closed.as_str()))
        .col_expr(C::ClosedBy, Expr::value(actor.user_id))
        .col_expr(C::ClosedAt, Expr::value(now))
        .filter(C::Id.eq(check.id))
        .filter(C::Status.eq(SpotCheckStatus::Open.as_str()))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// One check, read again after a change.
pub async fn reload(db: &impl ConnectionTrait, id: Uuid) -> Result<spot_check::Model, ApiError> {
    spot_check::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// One item, read again after a change.
pub async fn reload_item(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<spot_check_item::Model, ApiError> {
    spot_check_item::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Verification counts per branch of the items within reach that belong to
/// the checks `checks` selects (by id, or by when they were drawn).
pub async fn tallies(
    db: &impl ConnectionTrait,
    actor: &Actor,
    checks: Checks,
) -> Result<BTreeMap<Uuid, Tally>, ApiError> {
    use spot_check_item::Column as I;
    let query = actor
        .scoped::<spot_check_item::Entity>()
        .select_only()
        .column(I::BranchId)
        .column(I::Outcome)
        .column_as(Expr::cust("COUNT(*)"), "n");
    let query = match checks {
        Checks::One(id) => query.filter(I::SpotCheckId.eq(id)),
        Checks::Drawn { from, to } => query.filter(
            I::SpotCheckId.in_subquery(
                Query::select()
                    .column(spot_check::Column::Id)
                    .from(spot_check::Entity)
                    .and_where(spot_check::Column::TownshipId.eq(actor.township_id))
                    .and_where(spot_check::Column::DrawnAt.gte(from))
                    .and_where(spot_check::Column::DrawnAt.lt(to))
                    .to_owned(),
            ),
        ),
    };
    let rows: Vec<(Uuid, Option<String>, i64)> = query
        .group_by(I::BranchId)
        .group_by(I::Outcome)
        .into_tuple()
        .all(db)
        .await?;
    let mut tallies: BTreeMap<Uuid, Tally> = BTreeMap::new();
    for (branch_id, outcome, n) in rows {
        let outcome = outcome.as_deref().and_then(VerificationOutcome::parse);
        tallies
            .entry(branch_id)
            .or_default()
            .add(outcome, u64::try_from(n).unwrap_or_default());
    }
    Ok(tallies)
}

/// Which checks figures are counted over.
#[derive(Debug, Clone, Copy)]
pub enum Checks {
    One(Uuid),
    /// Those drawn at or after `from` and before `to`.
    Drawn {
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    },
}

/// Items within reach and verified items, per check, for a page of the list.
pub async fn tallies_of_checks(
    db: &impl ConnectionTrait,
    actor: &Actor,
    check_ids: &[Uuid],
) -> Result<HashMap<Uuid, Tally>, ApiError> {
    use spot_check_item::Column as I;
    if check_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(Uuid, Option<String>, i64)> = actor
        .scoped::<spot_check_item::Entity>()
        .select_only()
        .column(I::SpotCheckId)
        .column(I::Outcome)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .filter(I::SpotCheckId.is_in(check_ids.iter().copied()))
        .group_by(I::SpotCheckId)
        .group_by(I::Outcome)
        .into_tuple()
        .all(db)
        .await?;
    let mut tallies: HashMap<Uuid, Tally> = HashMap::new();
    for (check_id, outcome, n) in rows {
        let outcome = outcome.as_deref().and_then(VerificationOutcome::parse);
        tallies
            .entry(check_id)
            .or_default()
            .add(outcome, u64::try_from(n).unwrap_or_default());
    }
    Ok(tallies)
}

/// Names of the township's branches.
pub async fn branch_names(
    db: &impl ConnectionTrait,
    township_id: Uuid,
) -> Result<HashMap<Uuid, String>, ApiError> {
    let rows: Vec<(Uuid, String)> = branch::Entity::find()
        .select_only()
        .column(branch::Column::Id)
        .column(branch::Column::Name)
        .filter(branch::Column::TownshipId.eq(township_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// What the checker sees of each sampled record: the household head of a
/// visit, the title of a report, when, and by whom.
pub async fn subjects_of(
    db: &impl ConnectionTrait,
    items: &[spot_check_item::Model],
) -> Result<HashMap<Uuid, SubjectSummary>, ApiError> {
    let ids_of = |kind: SampledKind| -> Vec<Uuid> {
        items
            .iter()
            .filter(|i| i.subject_kind == kind.as_str())
            .map(|i| i.subject_id)
            .collect()
    };
    let mut found = HashMap::new();
    let visit_ids = ids_of(SampledKind::Visit);
    for chunk in visit_ids.chunks(INSERT_CHUNK) {
        let visits = visit::Entity::find()
            .filter(visit::Column::Id.is_in(chunk.iter().copied()))
            .all(db)
            .await?;
        let heads: HashMap<Uuid, String> = household::Entity::find()
            .select_only()
            .column(household::Column::Id)
            .column(household::Column::HeadName)
            .filter(household::Column::Id.is_in(visits.iter().map(|v| v.household_id)))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect();
        for v in visits {
            let kind = VisitKind::parse(&v.kind).unwrap_or(VisitKind::Other);
            let head = heads.get(&v.household_id).map_or("?", String::as_str);
            found.insert(
                v.id,
                SubjectSummary {
                    title: format!("{head}户（{}）", kind.label()),
                    dated_at: Some(v.visited_at),
                    member_id: Some(v.member_id),
                    household_id: Some(v.household_id),
                },
            );
        }
    }
    let report_ids = ids_of(SampledKind::MediationReport);
    for chunk in report_ids.chunks(INSERT_CHUNK) {
        use mediation_report::Column as R;
        let rows: Vec<(Uuid, String, DateTime<Utc>, Uuid)> = mediation_report::Entity::find()
            .select_only()
            .column(R::Id)
            .column(R::Title)
            .column(R::OccurredAt)
            .column(R::MemberId)
            .filter(R::Id.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        for (id, title, occurred_at, member_id) in rows {
            found.insert(
                id,
                SubjectSummary {
                    title,
                    dated_at: Some(occurred_at),
                    member_id: Some(member_id),
                    household_id: None,
                },
            );
        }
    }
    Ok(found)
}

/// The rectification made of each item, if any.
pub async fn rectifications_of(
    db: &impl ConnectionTrait,
    item_ids: &[Uuid],
) -> Result<HashMap<Uuid, Uuid>, ApiError> {
    use rectification::Column as R;
    let mut found = HashMap::new();
    for chunk in item_ids.chunks(INSERT_CHUNK) {
        let rows: Vec<(Uuid, Option<Uuid>)> = rectification::Entity::find()
            .select_only()
            .column(R::Id)
            .column(R::SpotCheckItemId)
            .filter(R::SpotCheckItemId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        found.extend(rows.into_iter().filter_map(|(id, item)| Some((item?, id))));
    }
    Ok(found)
}
