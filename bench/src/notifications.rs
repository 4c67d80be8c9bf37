//! The notification pipeline against a running server: how long a
//! submission takes to reach its reviewer's inbox at a steady rate, and how
//! fast a large backlog of outbox events drains into inboxes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use chrono::{DateTime, Utc};
use reqwest::{Client, Method};
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::entities::{household, notification, outbox_event, user};

use crate::Session;

/// Members of the demo township whose visits go to their branch's secretary.
const MEMBERS: [&str; 6] = [
    "13800000101",
    "13800000102",
    "13800000111",
    "13800000112",
    "13800000121",
    "13800000122",
];

/// Outbox rows per insert statement when writing the backlog.
const INSERT_BATCH: usize = 1_000;

pub async fn notifications(
    base: &str,
    database_url: &str,
    rate: u32,
    seconds: u64,
    backlog: usize,
    xadd_ceiling: Option<f64>,
) -> anyhow::Result<()> {
    let db = Database::connect(database_url).await?;
    latency(base, &db, rate, seconds).await?;
    throughput(&db, backlog, xadd_ceiling).await?;
    let client = Client::new();
    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    println!("\nserver's /metrics after the run:");
    for line in text.lines().filter(|l| {
        l.starts_with("xianfeng_notification_events_")
            || l.starts_with("xianfeng_notification_inbox_entries_total")
            || l.starts_with("xianfeng_notification_delivery_seconds_count")
            || l.starts_with("xianfeng_notification_delivery_seconds_sum")
    }) {
        println!("  {line}");
    }
    Ok(())
}

/// Submits visits at `rate` a second for `seconds` (after two seconds of
/// warm-up), each at its own time whatever the answers before it (an open
/// loop), then compares each answer's time with its inbox entry's.
async fn latency(
    base: &str,
    db: &DatabaseConnection,
    rate: u32,
    seconds: u64,
) -> anyhow::Result<()> {
    let client = Client::builder().build()?;
    let mut submitters = Vec::new();
    for phone in MEMBERS {
        let session = Session::login(&client, base, phone).await?;
        let households = session
            .json(Method::GET, "/api/v1/households?limit=100", None)
            .await?;
        let ids: Vec<String> = households["items"]
            .as_array()
            .context("no households")?
            .iter()
            .filter_map(|h| h["id"].as_str().map(str::to_owned))
            .collect();
        if !ids.is_empty() {
            submitters.push((Arc::new(session), Arc::new(ids)));
        }
    }
    ensure!(!submitters.is_empty(), "no demo member has households");

    let warm_up = u64::from(rate) * 2;
    let total = warm_up + u64::from(rate) * seconds;
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total as usize);
    for n in 0..total {
        tick.tick().await;
        let (session, households) = submitters[n as usize % submitters.len()].clone();
        tasks.push(tokio::spawn(async move {
            let body = json!({
                "household_id": households[n as usize / 7 % households.len()],
                "kind": "assistance",
                "visited_at": xianfeng::platform::db::now().to_rfc3339(),
                "location": {"lat": 30.2741, "lng": 120.1551, "accuracy_m": 15.0},
                "summary": "了解近况，宣传医保政策",
            });
            let response = session
                .request(Method::POST, "/api/v1/visits")
                .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
                .json(&body)
                .send()
                .await?;
            let answered = Utc::now();
            if response.status() != reqwest::StatusCode::CREATED {
                bail!("visit {n} answered {}", response.status());
            }
            let visit: Value = response.json().await?;
            let id: Uuid = visit["id"].as_str().context("no visit id")?.parse()?;
            Ok((n >= warm_up, id, answered))
        }));
    }
    let offered = started.elapsed();
    let mut answered_at = HashMap::new();
    let mut failures = 0;
    for task in tasks {
        match task.await? {
            Ok((true, id, at)) => {
                answered_at.insert(id, at);
            }
            Ok((false, _, _)) => {}
            Err(err) => {
                failures += 1;
                if failures <= 3 {
                    eprintln!("{err:#}");
                }
            }
        }
    }

    // Every measured visit's inbox entry, waiting for the last ones.
    let ids: Vec<Uuid> = answered_at.keys().copied().collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut written: HashMap<Uuid, DateTime<Utc>> = HashMap::new();
    loop {
        written.clear();
        for chunk in ids.chunks(1_000) {
            for entry in notification::Entity::find()
                .filter(notification::Column::SubjectId.is_in(chunk.iter().copied()))
                .filter(notification::Column::Kind.eq("visit.submitted"))
                .all(db)
                .await?
            {
                let at = written.entry(entry.subject_id).or_insert(entry.created_at);
                *at = (*at).min(entry.created_at);
            }
        }
        if written.len() == ids.len() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut samples: Vec<f64> = answered_at
        .iter()
        .filter_map(|(id, answered)| {
            let written = written.get(id)?;
            Some((*written - *answered).as_seconds_f64() * 1e3)
        })
        .collect();
    ensure!(!samples.is_empty(), "no inbox entry was written");
    samples.sort_by(f64::total_cmp);
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    let early = samples.iter().filter(|ms| **ms <= 0.0).count();
    println!(
        "\nlatency: {} visits at {rate}/s over {seconds} s (offered in {:.1} s, after {warm_up} warm-up), {failures} failed, {} never reached an inbox",
        answered_at.len(),
        offered.as_secs_f64(),
        answered_at.len() - written.len(),
    );
    println!(
        "answer (client clock) → inbox entry created_at (server clock), ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}  min {:.2}",
        at(0.50),
        at(0.90),
        at(0.99),
        at(1.0),
        at(0.0)
    );
    println!(
        "{early} of {} entries ({:.0}%) were written before the client had its answer",
        samples.len(),
        100.0 * early as f64 / samples.len() as f64
    );
    Ok(())
}

/// Writes `count` `visit.submitted` events straight into the outbox in one
/// transaction, as if that many submissions had committed at once, and times
/// their drain into the inbox.
async fn throughput(
    db: &DatabaseConnection,
    count: usize,
    xadd_ceiling: Option<f64>,
) -> anyhow::Result<()> {
    wait_for_empty_outbox(db).await?;
    let member = user::Entity::find()
        .filter(user::Column::Phone.eq(MEMBERS[0]))
        .one(db)
        .await?
        .context("no demo member")?;
    let branch_id = member.branch_id.context("member without a branch")?;
    let household = household::Entity::find()
        .filter(household::Column::BranchId.eq(branch_id))
        .one(db)
        .await?
        .context("no household in the member's branch")?;
    let before = notification::Entity::find().count(db).await? as usize;

    let inserting = xianfeng::platform::db::now();
    let txn = db.begin().await?;
    for start in (0..count).step_by(INSERT_BATCH) {
        let rows = (start..(start + INSERT_BATCH).min(count)).map(|_| outbox_event::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(member.township_id),
            kind: Set("visit.submitted".into()),
            subject_kind: Set("visit".into()),
            subject_id: Set(Uuid::now_v7()),
            payload: Set(json!({
                "branch_id": branch_id, "member_id": member.id, "household_id": household.id,
                "household": household.head_name, "kind": "assistance",
            })),
            created_at: Set(xianfeng::platform::db::now()),
            relayed_at: Set(None),
            attempts: Set(0),
            last_error: Set(None),
        });
        outbox_event::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await?;
    }
    txn.commit().await?;
    let committed = Utc::now();

    // One inbox entry per event: the demo's branches have one secretary.
    let expected = before + count;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let now = notification::Entity::find().count(db).await? as usize;
        if now >= expected {
            break;
        }
        ensure!(
            Instant::now() < deadline,
            "only {} of {count} entries after 10 minutes",
            now - before
        );
        // The times come from the entries themselves: polling often would
        // only take the database's time from the pipeline it measures.
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let first = newest_or_oldest(db, committed, false).await?;
    let last = newest_or_oldest(db, committed, true).await?;
    let relayed = outbox_event::Entity::find()
        .filter(outbox_event::Column::CreatedAt.gte(inserting))
        .filter(outbox_event::Column::RelayedAt.is_not_null())
        .order_by_desc(outbox_event::Column::RelayedAt)
        .one(db)
        .await?
        .and_then(|e| e.relayed_at)
        .context("no relayed event")?;
    let from_commit = (last - committed).as_seconds_f64();
    let draining = (last - first).as_seconds_f64();
    let rate = count as f64 / from_commit;
    println!(
        "\nthroughput: {count} events, outbox → inbox, {:.2} s from commit to the last entry ({:.2} s from the first entry): {rate:.0} events/s ({:.0}/s while draining)",
        from_commit,
        draining,
        count as f64 / draining
    );
    println!(
        "the last event left the outbox (relayed, or delivered in process) {:.2} s after the commit",
        (relayed - committed).as_seconds_f64()
    );
    if let Some(ceiling) = xadd_ceiling {
        println!(
            "redis-benchmark XADD ceiling: {ceiling:.0}/s; pipeline at {:.1}% of it",
            100.0 * rate / ceiling
        );
    }
    Ok(())
}

/// The first (or last) inbox entry written after `since`.
async fn newest_or_oldest(
    db: &DatabaseConnection,
    since: DateTime<Utc>,
    newest: bool,
) -> anyhow::Result<DateTime<Utc>> {
    let query = notification::Entity::find()
        .filter(notification::Column::CreatedAt.gte(since - chrono::Duration::milliseconds(500)));
    let query = if newest {
        query.order_by_desc(notification::Column::CreatedAt)
    } else {
        query.order_by_asc(notification::Column::CreatedAt)
    };
    Ok(query.one(db).await?.context("no inbox entry")?.created_at)
}

async fn wait_for_empty_outbox(db: &DatabaseConnection) -> anyhow::Result<()> {
    for _ in 0..300 {
        let pending = outbox_event::Entity::find()
            .filter(outbox_event::Column::RelayedAt.is_null())
            .count(db)
            .await?;
        if pending == 0 {
            // With Redis the stream may still hold the last few.
            tokio::time::sleep(Duration::from_secs(1)).await;
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the outbox never emptied")
}
