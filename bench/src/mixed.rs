//! A working day's mix against one server: members checking in and reading
//! their households and visits, secretaries working through the review
//! queue, dashboards polling the overview. Latency per endpoint, and the
//! server's resident memory idle and at its highest under the load.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

use crate::{ADMIN_PHONE, SUBMITTERS, Session, prepare_households, summarise};

/// One worker's requests: endpoint label → (latencies of successes, failures).
type Samples = BTreeMap<&'static str, (Vec<Duration>, usize)>;

pub async fn mixed(
    base: &str,
    concurrency: usize,
    seconds: u64,
    server_pid: Option<u32>,
) -> anyhow::Result<()> {
    let client = Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let members = prepare_households(&client, base).await?;
    let mut secretaries = Vec::new();
    for phone in SUBMITTERS.iter().filter(|p| p.ends_with('0')) {
        let session = Session::login(&client, base, phone).await?;
        let me = session.json(Method::GET, "/api/v1/me", None).await?;
        let id = me["id"].as_str().context("no id in /me")?.to_owned();
        secretaries.push(Arc::new((session, id)));
    }
    let admin = Arc::new(Session::login(&client, base, ADMIN_PHONE).await?);
    let idle_kib = server_pid.map(resident_kib).transpose()?;

    // Members make 70% of the clients, secretaries a fifth, dashboards the rest.
    let dashboards = (concurrency / 10).max(1);
    let reviewers = (concurrency / 5).clamp(1, secretaries.len());
    let submitters = concurrency.saturating_sub(dashboards + reviewers).max(1);
    let warm_up = Duration::from_secs(2);
    let started = Instant::now();
    let measure_from = started + warm_up;
    let deadline = measure_from + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..submitters {
        let (session, households) = members[worker % members.len()].clone();
        tasks.spawn(async move {
            let mut samples = Samples::new();
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                let body = json!({
                    "household_id": households[(worker + n) % households.len()],
                    "kind": "assistance",
                    "visited_at": xianfeng::platform::db::now().to_rfc3339(),
                    "location": {"lat": 30.2741, "lng": 120.1551, "accuracy_m": 15.0},
                    "summary": "了解近况，宣传医保政策",
                });
                let key = uuid::Uuid::now_v7().to_string();
                let post = session
                    .request(Method::POST, "/api/v1/visits")
                    .header("Idempotency-Key", key)
                    .json(&body);
                send(&mut samples, "POST /visits", post, measure_from).await;
                let households = session.request(Method::GET, "/api/v1/me/households?limit=20");
                send(&mut samples, "GET /me/households", households, measure_from).await;
                let visits = session.request(Method::GET, "/api/v1/visits?limit=20");
                send(&mut samples, "GET /visits", visits, measure_from).await;
            }
            samples
        });
    }
    for secretary in secretaries.iter().take(reviewers).cloned() {
        tasks.spawn(async move {
            let (session, own_id) = &*secretary;
            let mut samples = Samples::new();
            while Instant::now() < deadline {
                let queue = session.request(Method::GET, "/api/v1/reviews?status=pending&limit=20");
                let Some(queue) = send(&mut samples, "GET /reviews", queue, measure_from).await
                else {
                    continue;
                };
                let next = queue["items"].as_array().and_then(|items| {
                    items.iter().find(|item| {
                        item["subject_kind"] == "visit" && item["submitted_by"] != own_id.as_str()
                    })
                });
                let Some(visit) = next.and_then(|item| item["subject_id"].as_str()) else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let review = session
                    .request(Method::POST, &format!("/api/v1/visits/{visit}/review"))
                    .json(&json!({ "decision": "approve" }));
                send(
                    &mut samples,
                    "POST /visits/{id}/review",
                    review,
                    measure_from,
                )
                .await;
            }
            samples
        });
    }
    for _ in 0..dashboards {
        let admin = admin.clone();
        tasks.spawn(async move {
            let mut samples = Samples::new();
            let mut tag = String::new();
            while Instant::now() < deadline {
                let poll = admin
                    .request(Method::GET, "/api/v1/stats/overview")
                    .header("If-None-Match", tag.clone());
                let sent = Instant::now();
                let Ok(response) = poll.send().await else {
                    record(
                        &mut samples,
                        "GET /stats/overview",
                        sent,
                        measure_from,
                        false,
                    );
                    continue;
                };
                let status = response.status();
                if let Some(new) = response.headers().get("etag").and_then(|v| v.to_str().ok()) {
                    tag = new.to_owned();
                }
                let ok = response.bytes().await.is_ok()
                    && (status.is_success() || status == StatusCode::NOT_MODIFIED);
                record(&mut samples, "GET /stats/overview", sent, measure_from, ok);
            }
            samples
        });
    }

    let mut peak_kib = 0;
    let mut all = Samples::new();
    let mut ticker = tokio::time::interval(Duration::from_millis(250));
    while !tasks.is_empty() {
        tokio::select! {
            done = tasks.join_next() => {
                if let Some(done) = done {
                    for (label, (samples, failures)) in done? {
                        let entry = all.entry(label).or_default();
                        entry.0.extend(samples);
                        entry.1 += failures;
                    }
                }
            }
            _ = ticker.tick() => {
                if let Some(pid) = server_pid && Instant::now() > measure_from {
                    peak_kib = peak_kib.max(resident_kib(pid)?);
                }
            }
        }
    }

    println!(
        "mixed load: {submitters} members, {reviewers} secretaries, {dashboards} dashboards, {seconds} s"
    );
    println!(
        "| {:<26} | {:>7} | {:>7} | {:>7} | {:>7} | {:>6} |",
        "request", "count", "per s", "p50 ms", "p99 ms", "failed"
    );
    println!(
        "|{:-<28}|{:->9}|{:->9}|{:->9}|{:->9}|{:->8}|",
        "", "", "", "", "", ""
    );
    let mut total = 0;
    let mut failed = 0;
    for (label, (samples, failures)) in all {
        let count = samples.len();
        total += count;
        failed += failures;
        if count == 0 {
            println!(
                "| {label:<26} | {count:>7} | {:>7} | {:>7} | {:>7} | {failures:>6} |",
                "", "", ""
            );
            continue;
        }
        let s = summarise(samples);
        println!(
            "| {label:<26} | {count:>7} | {:>7.0} | {:>7.2} | {:>7.2} | {failures:>6} |",
            count as f64 / seconds as f64,
            s.p50,
            s.p99
        );
    }
    println!(
        "all: {total} requests, {:.0}/s, {failed} failed",
        total as f64 / seconds as f64
    );
    if let Some(idle) = idle_kib {
        println!(
            "resident memory: {:.1} MiB before the load, {:.1} MiB at most under it",
            idle as f64 / 1024.0,
            peak_kib as f64 / 1024.0
        );
    }
    Ok(())
}

/// Sends one request, records it, and answers its JSON body on success.
async fn send(
    samples: &mut Samples,
    label: &'static str,
    request: reqwest::RequestBuilder,
    measure_from: Instant,
) -> Option<Value> {
    let sent = Instant::now();
    let body = match request.send().await {
        Ok(response) if response.status().is_success() => response.json::<Value>().await.ok(),
        _ => None,
    };
    record(samples, label, sent, measure_from, body.is_some());
    body
}

fn record(samples: &mut Samples, label: &'static str, sent: Instant, from: Instant, ok: bool) {
    if sent < from {
        return;
    }
    let entry = samples.entry(label).or_default();
    if ok {
        entry.0.push(sent.elapsed());
    } else {
        entry.1 += 1;
    }
}

/// The process's resident set (`VmRSS`), in KiB.
pub fn resident_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}
