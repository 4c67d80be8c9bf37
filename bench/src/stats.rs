//! `GET /api/v1/stats/overview` as the township's visits grow: timed at one
//! size, topped up straight in the database, timed again, in one run.

use std::time::Instant;

use anyhow::Context;
use reqwest::{Client, Method};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;
use xianfeng::domain::VisitKind;
use xianfeng::entities::{household, visit};

use crate::{ADMIN_PHONE, Session, row, time};

/// Rows per insert statement.
const BATCH: usize = 1_000;

pub async fn stats(
    base: &str,
    database_url: &str,
    sizes: &[usize],
    requests: usize,
) -> anyhow::Result<()> {
    let db = Database::connect(database_url).await?;
    let households = household::Entity::find().all(&db).await?;
    let members = xianfeng::entities::user::Entity::find()
        .filter(xianfeng::entities::user::Column::BranchId.is_not_null())
        .all(&db)
        .await?;
    anyhow::ensure!(!households.is_empty(), "no demo township in {database_url}");
    let client = Client::builder().build()?;
    let admin = Session::login(&client, base, ADMIN_PHONE).await?;
    println!(
        "| {:<44} | {:>7} | {:>7} | {:>7} | {:>7} |",
        "request", "p50", "p90", "p99", "max"
    );
    println!("|{:-<46}|{:->9}|{:->9}|{:->9}|{:->9}|", "", "", "", "", "");
    for &size in sizes {
        let existing = visit::Entity::find().count(&db).await? as usize;
        if existing < size {
            let started = Instant::now();
            seed(&db, &households, &members, size - existing).await?;
            eprintln!(
                "wrote {} visits in {:.1} s",
                size - existing,
                started.elapsed().as_secs_f64()
            );
            let started = Instant::now();
            folded(&db).await?;
            eprintln!(
                "the server folded their rollup deltas {:.1} s later",
                started.elapsed().as_secs_f64()
            );
        }
        let path = "/api/v1/stats/overview";
        let summary = time(requests, |_| admin.request(Method::GET, path)).await?;
        row(&format!("overview, {size} visits"), &summary);
        let tag = admin
            .request(Method::GET, path)
            .send()
            .await?
            .headers()
            .get("etag")
            .context("no ETag")?
            .to_str()?
            .to_owned();
        let summary = time(requests, |_| {
            admin
                .request(Method::GET, path)
                .header("If-None-Match", tag.clone())
        })
        .await?;
        row(&format!("overview 304, {size} visits"), &summary);
    }
    Ok(())
}

/// Waits until the server has folded every rollup delta into the totals,
/// so the overview is timed in its steady state.
async fn folded(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    while xianfeng::entities::stats_delta::Entity::find()
        .count(db)
        .await?
        > 0
    {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // And for the vacuum the folder runs once it has caught up.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    Ok(())
}

/// Writes `count` visits spread over the demo's households and the last
/// three years: most approved, some pending or rejected.
pub(crate) async fn seed(
    db: &sea_orm::DatabaseConnection,
    households: &[household::Model],
    members: &[xianfeng::entities::user::Model],
    count: usize,
) -> anyhow::Result<()> {
    let now = xianfeng::platform::db::now();
    for start in (0..count).step_by(BATCH) {
        let rows = (start..(start + BATCH).min(count)).map(|i| {
            let household = &households[i % households.len()];
            let member = members
                .iter()
                .find(|m| m.branch_id == Some(household.branch_id))
                .unwrap_or(&members[0]);
            let at = now - chrono::Duration::minutes((i % (3 * 365 * 24 * 60)) as i64);
            let status = match i % 10 {
                0 => "pending",
                1 => "rejected",
                _ => "approved",
            };
            visit::ActiveModel {
                id: Set(Uuid::now_v7()),
                township_id: Set(household.township_id),
                branch_id: Set(household.branch_id),
                household_id: Set(household.id),
                member_id: Set(member.id),
                kind: Set(VisitKind::ALL[i % VisitKind::ALL.len()].as_str().into()),
                visited_at: Set(at),
                received_at: Set(at),
                submitted_at: Set(at),
                lat: Set(30.27),
                lng: Set(120.15),
                accuracy_m: Set(None),
                coord_system: Set("gcj02".into()),
                distance_m: Set(None),
                summary: Set("走访".into()),
                needs: Set(json!([])),
                follow_up: Set(false),
                photo_ids: Set(json!([])),
                flags: Set(json!([])),
                status: Set(status.into()),
                version: Set(1),
                reviewer_id: Set(None),
                review_decision: Set(None),
                review_comment: Set(None),
                reviewed_at: Set(None),
                created_at: Set(at),
                updated_at: Set(at),
            }
        });
        visit::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
