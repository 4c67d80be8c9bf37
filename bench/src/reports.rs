//! `GET /api/v1/mediation-reports` with a township holding many reports: the
//! reports are written straight into the database (the API would take
//! minutes to file 100,000), then each list is timed over HTTP.

use std::time::Instant;

use anyhow::Context;
use reqwest::{Client, Method};
use sea_orm::{ColumnTrait, Database, EntityTrait, PaginatorTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;
use xianfeng::domain::mediation::{DisputeCategory, MediationOutcome, RiskLevel};
use xianfeng::entities::{mediation_report, user};

use crate::{ADMIN_PHONE, MEMBER_PHONE, SECRETARY_PHONE, Session, row, time};

/// Rows per insert statement (44 columns each, under SQLite's 32,766 parameters).
const BATCH: usize = 500;

pub async fn reports(
    base: &str,
    database_url: &str,
    count: usize,
    requests: usize,
) -> anyhow::Result<()> {
    let db = Database::connect(database_url).await?;
    let members = user::Entity::find()
        .filter(user::Column::BranchId.is_not_null())
        .all(&db)
        .await?;
    anyhow::ensure!(!members.is_empty(), "no demo township in {database_url}");
    let existing = mediation_report::Entity::find().count(&db).await? as usize;
    if existing < count {
        let started = Instant::now();
        seed(&db, &members, count - existing).await?;
        println!(
            "wrote {} reports in {:.1} s",
            count - existing,
            started.elapsed().as_secs_f64()
        );
    }
    let total = mediation_report::Entity::find().count(&db).await?;

    let client = Client::builder().build()?;
    let admin = Session::login(&client, base, ADMIN_PHONE).await?;
    let secretary = Session::login(&client, base, SECRETARY_PHONE).await?;
    let member = Session::login(&client, base, MEMBER_PHONE).await?;
    let deep_cursor = cursor_after_pages(&admin, 50).await?;

    println!("\n{total} reports in the township; {requests} sequential requests per row (ms)\n");
    println!(
        "| {:<44} | {:>7} | {:>7} | {:>7} | {:>7} |",
        "request", "p50", "p90", "p99", "max"
    );
    println!("|{:-<46}|{:->9}|{:->9}|{:->9}|{:->9}|", "", "", "", "", "");
    let cases: [(&str, &Session, String); 9] = [
        ("admin: first page (20)", &admin, String::new()),
        ("admin: limit=100", &admin, "?limit=100".into()),
        (
            "admin: page 51 by cursor",
            &admin,
            format!("?cursor={deep_cursor}"),
        ),
        ("admin: escalated=true", &admin, "?escalated=true".into()),
        (
            "admin: category=land&status=pending",
            &admin,
            "?category=land&status=pending".into(),
        ),
        (
            "admin: follow_up=overdue",
            &admin,
            "?follow_up=overdue".into(),
        ),
        (
            "admin: risk_level=high (rare)",
            &admin,
            "?risk_level=high".into(),
        ),
        ("secretary: own branch", &secretary, String::new()),
        ("member: own + approved of branch", &member, String::new()),
    ];
    for (name, session, query) in cases {
        let path = format!("/api/v1/mediation-reports{query}");
        let summary = time(requests, |_| session.request(Method::GET, &path)).await?;
        row(name, &summary);
    }
    Ok(())
}

/// The cursor after `pages` pages of 20, newest first.
async fn cursor_after_pages(admin: &Session, pages: usize) -> anyhow::Result<String> {
    let mut cursor = String::new();
    for _ in 0..pages {
        let page = admin
            .json(
                Method::GET,
                &format!("/api/v1/mediation-reports?cursor={cursor}"),
                None,
            )
            .await?;
        cursor = page["next_cursor"]
            .as_str()
            .context("fewer reports than pages")?
            .to_owned();
    }
    Ok(cursor)
}

/// Writes `count` reports spread over the members and the last year: most
/// approved, some pending, a tenth escalated, a few high risk.
async fn seed(
    db: &sea_orm::DatabaseConnection,
    members: &[user::Model],
    count: usize,
) -> anyhow::Result<()> {
    let now = xianfeng::platform::db::now();
    let categories = DisputeCategory::ALL;
    let outcomes = MediationOutcome::ALL;
    for start in (0..count).step_by(BATCH) {
        let rows = (start..(start + BATCH).min(count)).map(|i| {
            let author = &members[i % members.len()];
            let occurred_at = now - chrono::Duration::minutes((count - i) as i64 * 5);
            let outcome = outcomes[i % outcomes.len()];
            let escalated = i % 10 == 0;
            let status = if i % 5 == 0 { "pending" } else { "approved" };
            mediation_report::ActiveModel {
                id: Set(Uuid::now_v7()),
                township_id: Set(author.township_id),
                branch_id: Set(author.branch_id.unwrap_or_default()),
                member_id: Set(author.id),
                title: Set(format!("纠纷{i}")),
                category: Set(categories[i % categories.len()].as_str().into()),
                parties: Set(json!([{ "name": "张某", "phone": "13900001111" }])),
                description: Set("两户因院墙位置发生争执".into()),
                occurred_at: Set(occurred_at),
                received_at: Set(occurred_at),
                submitted_at: Set(occurred_at),
                lat: Set(None),
                lng: Set(None),
                accuracy_m: Set(None),
                coord_system: Set(None),
                household_ids: Set(json!([])),
                process: Set("现场调解".into()),
                outcome: Set(outcome.as_str().into()),
                agreement: Set(Some("按登记界址".into())),
                risk_level: Set(if i % 97 == 0 {
                    RiskLevel::High
                } else {
                    RiskLevel::Low
                }
                .as_str()
                .into()),
                photo_ids: Set(json!([])),
                status: Set(status.into()),
                version: Set(1),
                reviewer_id: Set(None),
                review_decision: Set((status == "approved").then(|| "approve".into())),
                review_comment: Set(None),
                reviewed_at: Set((status == "approved").then_some(occurred_at)),
                escalation_status: Set(escalated.then(|| "open".into())),
                escalation_reason: Set(None),
                escalated_by: Set(escalated.then_some(author.id)),
                escalated_at: Set(escalated.then_some(occurred_at)),
                acknowledged_by: Set(None),
                acknowledged_at: Set(None),
                resolved_by: Set(None),
                resolved_at: Set(None),
                escalation_note: Set(None),
                latest_outcome: Set(outcome.as_str().into()),
                follow_up_count: Set(0),
                follow_up_due_at: Set((outcome != MediationOutcome::Resolved)
                    .then(|| occurred_at + chrono::Duration::days(7))),
                overdue_notified_for: Set(None),
                created_at: Set(occurred_at),
                updated_at: Set(occurred_at),
            }
        });
        mediation_report::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
