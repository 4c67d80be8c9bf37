//! Households and assignments in the database.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    IntoActiveModel, QueryFilter,
};
use uuid::Uuid;

use super::dto::{Assignee, HouseholdFields, HouseholdFilter};
use super::import::ImportRow;
use crate::core::Actor;
use crate::core::audit;
use crate::entities::{assignment, household, user};
use crate::platform::error::ApiError;
use crate::platform::http::pagination::Page;

pub async fn list(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &HouseholdFilter,
    page: Page,
) -> Result<(Vec<household::Model>, Option<String>), ApiError> {
    let mut query = actor.scoped::<household::Entity>();
    if let Some(branch_id) = filter.branch_id {
        query = query.filter(household::Column::BranchId.eq(branch_id));
    }
    if let Some(group) = filter.group.as_deref().filter(|g| !g.is_empty()) {
        query = query.filter(household::Column::VillageGroup.eq(group));
    }
    if let Some(tag) = filter.tag.as_deref().filter(|t| !t.is_empty()) {
        let quoted = serde_json::to_string(tag).map_err(anyhow::Error::from)?;
        query = query.filter(
            Expr::col(household::Column::Tags)
                .cast_as(Alias::new("text"))
                .like(crate::platform::db::containing(&quoted)),
        );
    }
    if let Some(q) = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        query = query.filter(
            Condition::any()
                .add(household::Column::HeadName.like(crate::platform::db::containing(q)))
                .add(household::Column::Address.like(crate::platform::db::containing(q))),
        );
    }
    if let Some(member_id) = filter.assignee_id {
        query = query.filter(
            household::Column::Id.in_subquery(
                Query::select()
                    .column(assignment::Column::HouseholdId)
                    .from(assignment::Entity)
                    .and_where(assignment::Column::MemberId.eq(member_id))
                    .and_where(assignment::Column::DeletedAt.is_null())
                    .to_owned(),
            ),
        );
    }
    let rows = page.apply(query, household::Column::Id).all(db).await?;
    Ok(page.finish(rows, |h| h.id))
}

/// The assignees of each of `household_ids`, in two queries whatever the count.
pub async fn assignees_of(
    db: &impl ConnectionTrait,
    household_ids: &[Uuid],
) -> Result<HashMap<Uuid, Vec<Assignee>>, ApiError> {
    if household_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let assignments = crate::core::retention::live_assignments()
        .filter(assignment::Column::HouseholdId.is_in(household_ids.iter().copied()))
        .all(db)
        .await?;
    let member_ids: Vec<Uuid> = assignments.iter().map(|a| a.member_id).collect();
    let names: HashMap<Uuid, String> = user::Entity::find()
        .filter(user::Column::Id.is_in(member_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let mut by_household: HashMap<Uuid, Vec<Assignee>> = HashMap::new();
    for a in assignments {
        by_household
            .entry(a.household_id)
            .or_default()
            .push(Assignee {
                member_id: a.member_id,
                name: names.get(&a.member_id).cloned().unwrap_or_default(),
                assigned_at: a.created_at,
            });
    }
    Ok(by_household)
}

pub async fn create(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    branch_id: Uuid,
    fields: HouseholdFields,
) -> Result<household::Model, ApiError> {
    let now = Utc::now();
    let location = fields.location.flatten();
    household::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(township_id),
        branch_id: Set(branch_id),
        head_name: Set(fields.head_name.unwrap_or_default()),
        address: Set(fields.address.unwrap_or_default()),
        village_group: Set(fields.group.flatten()),
        phone: Set(fields.phone.flatten()),
        id_number: Set(fields.id_number.flatten()),
        lat: Set(location.map(|l| l.lat)),
        lng: Set(location.map(|l| l.lng)),
        coord_system: Set(location.map(|l| l.coord_system.as_str().to_owned())),
        tags: Set(serde_json::json!(fields.tags.unwrap_or_default())),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await
    .map_err(Into::into)
}

pub async fn update(
    db: &impl ConnectionTrait,
    current: household::Model,
    branch_id: Option<Uuid>,
    fields: HouseholdFields,
) -> Result<household::Model, ApiError> {
    let mut changed = current.into_active_model();
    if let Some(branch_id) = branch_id {
        changed.branch_id = Set(branch_id);
    }
    if let Some(head_name) = fields.head_name {
        changed.head_name = Set(head_name);
    }
    if let Some(address) = fields.address {
        changed.address = Set(address);
    }
    if let Some(group) = fields.group {
        changed.village_group = Set(group);
    }
    if let Some(phone) = fields.phone {
        changed.phone = Set(phone);
    }
    if let Some(id_number) = fields.id_number {
        changed.id_number = Set(id_number);
    }
    if let Some(location) = fields.location {
        changed.lat = Set(location.map(|l| l.lat));
        changed.lng = Set(location.map(|l| l.lng));
        changed.coord_system = Set(location.map(|l| l.coord_system.as_str().to_owned()));
    }
    if let Some(tags) = fields.tags {
        changed.tags = Set(serde_json::json!(tags));
    }
    changed.updated_at = Set(Utc::now());
    Ok(changed.update(db).await?)
}

/// Ends every assignment of a household (it moved to another branch).
pub async fn drop_assignments(
    db: &impl ConnectionTrait,
    household_id: Uuid,
) -> Result<(), ApiError> {
    crate::core::retention::end_assignments(
        db,
        sea_orm::Condition::all().add(assignment::Column::HouseholdId.eq(household_id)),
    )
    .await?;
    Ok(())
}

pub async fn find_assignment(
    db: &impl ConnectionTrait,
    household_id: Uuid,
    member_id: Uuid,
) -> Result<Option<assignment::Model>, ApiError> {
    Ok(crate::core::retention::live_assignments()
        .filter(assignment::Column::HouseholdId.eq(household_id))
        .filter(assignment::Column::MemberId.eq(member_id))
        .one(db)
        .await?)
}

pub async fn assign(
    db: &impl ConnectionTrait,
    household: &household::Model,
    member_id: Uuid,
) -> Result<assignment::Model, ApiError> {
    Ok(assignment::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_id: Set(household.township_id),
        branch_id: Set(household.branch_id),
        household_id: Set(household.id),
        member_id: Set(member_id),
        created_at: Set(Utc::now()),
        deleted_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// The households assigned to `member_id`, a page at a time.
pub async fn assigned_to(
    db: &impl ConnectionTrait,
    actor: &Actor,
    page: Page,
) -> Result<(Vec<household::Model>, Option<String>), ApiError> {
    let filter = HouseholdFilter {
        branch_id: None,
        group: None,
        tag: None,
        q: None,
        assignee_id: Some(actor.user_id),
    };
    list(db, actor, &filter, page).await
}

/// Inserts imported rows, skipping those that match a household of their branch
/// (same head and address) or an earlier row; answers (imported, skipped).
pub async fn insert_imported(
    db: &impl ConnectionTrait,
    actor: &Actor,
    rows: Vec<(Uuid, ImportRow)>,
) -> Result<(usize, usize), ApiError> {
    let branch_ids: HashSet<Uuid> = rows.iter().map(|(b, _)| *b).collect();
    let mut seen: HashSet<(Uuid, String, String)> = household::Entity::find()
        .filter(household::Column::BranchId.is_in(branch_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.branch_id, h.head_name, h.address))
        .collect();
    let (mut imported, mut skipped) = (0, 0);
    for (branch_id, row) in rows {
        let key = (
            branch_id,
            row.fields.head_name.clone().unwrap_or_default(),
            row.fields.address.clone().unwrap_or_default(),
        );
        if !seen.insert(key) {
            skipped += 1;
            continue;
        }
        let created = create(db, actor.township_id, branch_id, row.fields).await?;
        let snapshot = serde_json::json!({ "head_name": created.head_name, "address": created.address, "line": row.line });
        audit::record(
            db,
            actor,
            "household.imported",
            "household",
            created.id,
            None,
            Some(snapshot),
        )
        .await?;
        imported += 1;
    }
    Ok((imported, skipped))
}
