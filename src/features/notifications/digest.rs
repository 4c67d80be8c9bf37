//! Daily digests (SPEC §6): each morning members hear which of their
//! assigned households are overdue for a visit, and secretaries which of
//! their branch's submissions have waited over a day.
//!
//! Each digest goes out once per township and local day however many
//! replicas run: a run claims its day by inserting the row (township, kind,
//! day) in the transaction that writes its outbox events, and a racing
//! replica's insert meets that row and writes nothing.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Timelike, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;
use uuid::Uuid;

use crate::core::events::{OVERDUE_HOUSEHOLDS, STALE_REVIEWS};
use crate::core::outbox;
use crate::domain::ReviewStatus;
use crate::domain::buckets;
use crate::entities::{
    assignment, digest_run, household, mediation_report, pledge, township, user, visit,
};
use crate::platform::error::ApiError;

/// Digests go out from this local hour on, once the working day has begun.
pub const SEND_FROM_HOUR: u32 = 8;

/// Most household names one digest lists.
const NAMES_LISTED: usize = 5;

/// Sends every digest due at `now` that no replica has sent today; returns
/// how many outbox events were written.
pub async fn send_due(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut written = 0;
    for township in township::Entity::find().all(db).await? {
        let local = now.with_timezone(&buckets::zone(&township.timezone));
        if local.hour() < SEND_FROM_HOUR {
            continue;
        }
        let day = local.date_naive().format("%Y-%m-%d").to_string();
        written += send(db, &township, OVERDUE_HOUSEHOLDS, &day, now).await?;
        written += send(db, &township, STALE_REVIEWS, &day, now).await?;
    }
    Ok(written)
}

/// Claims and sends one digest; 0 when it was sent already.
async fn send(
    db: &DatabaseConnection,
    township: &township::Model,
    kind: &str,
    day: &str,
    now: DateTime<Utc>,
) -> Result<usize, ApiError> {
    let txn = crate::platform::db::begin_write(db).await?;
    let events = match kind {
        OVERDUE_HOUSEHOLDS => overdue_households(&txn, township, now).await?,
        _ => stale_reviews(&txn, township.id, now).await?,
    };
    let claimed = digest_run::Entity::insert(digest_run::ActiveModel {
        township_id: Set(township.id),
        kind: Set(kind.to_owned()),
        day: Set(day.to_owned()),
        events: Set(i32::try_from(events.len()).unwrap_or(i32::MAX)),
        ran_at: Set(now),
    })
    .on_conflict(
        OnConflict::columns([
            digest_run::Column::TownshipId,
            digest_run::Column::Kind,
            digest_run::Column::Day,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if claimed != 1 {
        txn.rollback().await?;
        return Ok(0);
    }
    let written = events.len();
    for (subject_kind, subject_id, payload) in events {
        outbox::enqueue(&txn, township.id, kind, subject_kind, subject_id, payload).await?;
    }
    txn.commit().await?;
    Ok(written)
}

type Event = (&'static str, Uuid, serde_json::Value);

/// One event per active member with assigned households that have had no
/// non-rejected visit within the township's interval.
async fn overdue_households(
    db: &impl sea_orm::ConnectionTrait,
    township: &township::Model,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, ApiError> {
    let assignments = crate::core::retention::live_assignments()
        .filter(assignment::Column::TownshipId.eq(township.id))
        .all(db)
        .await?;
    let household_ids: Vec<Uuid> = assignments.iter().map(|a| a.household_id).collect();
    let last = crate::features::visits::repo::last_visited(db, &household_ids).await?;
    let heads: HashMap<Uuid, String> = household::Entity::find()
        .filter(household::Column::Id.is_in(household_ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .map(|h| (h.id, h.head_name))
        .collect();
    let active: Vec<Uuid> = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::TownshipId.eq(township.id))
        .filter(user::Column::Active.eq(true))
        .into_tuple()
        .all(db)
        .await?;
    let interval = Duration::days(i64::from(township.visit_interval_days));
    let mut overdue: BTreeMap<Uuid, Vec<String>> = BTreeMap::new();
    for a in assignments {
        let due = last
            .get(&a.household_id)
            .is_none_or(|at| now - *at > interval);
        if due && active.contains(&a.member_id) {
            let head = heads.get(&a.household_id).cloned().unwrap_or_default();
            overdue.entry(a.member_id).or_default().push(head);
        }
    }
    Ok(overdue
        .into_iter()
        .map(|(member_id, mut households)| {
            let count = households.len();
            households.sort();
            households.truncate(NAMES_LISTED);
            let payload = json!({
                "member_id": member_id,
                "count": count,
                "households": households,
                "interval_days": township.visit_interval_days,
            });
            ("user", member_id, payload)
        })
        .collect())
}

/// One event per branch whose visits, reports or member pledges have waited
/// for review for over a day.
async fn stale_reviews(
    db: &impl sea_orm::ConnectionTrait,
    township_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, ApiError> {
    let before = now - Duration::days(1);
    let pending = ReviewStatus::Pending.as_str();
    let mut waiting: BTreeMap<Uuid, (u64, DateTime<Utc>)> = BTreeMap::new();
    let mut add = |rows: Vec<(Uuid, DateTime<Utc>)>| {
        for (branch_id, at) in rows {
            let entry = waiting.entry(branch_id).or_insert((0, at));
            entry.0 += 1;
            entry.1 = entry.1.min(at);
        }
    };
    macro_rules! stale {
        ($entity:ident) => {
            $entity::Entity::find()
                .select_only()
                .column($entity::Column::BranchId)
                .column($entity::Column::SubmittedAt)
                .filter($entity::Column::TownshipId.eq(township_id))
                .filter($entity::Column::Status.eq(pending))
                .filter($entity::Column::SubmittedAt.lt(before))
                .into_tuple()
                .all(db)
                .await?
        };
    }
    add(stale!(visit));
    add(stale!(mediation_report));
    add(stale!(pledge));
    Ok(waiting
        .into_iter()
        .map(|(branch_id, (count, oldest))| {
            let hours = (now - oldest).num_hours();
            let payload = json!({ "branch_id": branch_id, "count": count, "oldest_hours": hours });
            ("branch", branch_id, payload)
        })
        .collect())
}
