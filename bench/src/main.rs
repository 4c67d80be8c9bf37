//! Latency of the organisation endpoints against a running server, measured
//! from a second process over loopback, one request at a time (median and
//! tail of single requests, not throughput).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use reqwest::{Client, Method, RequestBuilder};
use serde_json::{Value, json};

mod assessment;
mod generate;
mod mixed;
mod notifications;
mod reports;
mod stats;

#[derive(Parser)]
#[command(about = "xianfeng benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A realistic dataset written straight into a (fresh) database through
    /// the real schema, migrating it first.
    Generate {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 100)]
        townships: usize,
        /// Branches per township.
        #[arg(long, default_value_t = 20)]
        branches: usize,
        /// Users per branch: a secretary and members.
        #[arg(long, default_value_t = 50)]
        members: usize,
        /// Households in all, spread over the branches.
        #[arg(long, default_value_t = 1_000_000)]
        households: usize,
        /// Visits in all, over the last year.
        #[arg(long, default_value_t = 1_000_000)]
        visits: usize,
        /// Mediation reports in all.
        #[arg(long, default_value_t = 100_000)]
        reports: usize,
        /// Members' pledges in all.
        #[arg(long, default_value_t = 100_000)]
        pledges: usize,
        /// Townships written at once.
        #[arg(long, default_value_t = 4)]
        concurrency: usize,
    },
    /// Computing the year's assessment of a township of `branches` ×
    /// `members`, its ballots, pledges and visits written straight into the
    /// server's database first.
    Assessment {
        #[arg(long, default_value = "http://127.0.0.1:18096")]
        base: String,
        /// The server's database.
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 20)]
        branches: usize,
        /// Members (the secretary included) per branch.
        #[arg(long, default_value_t = 50)]
        members: usize,
        /// Timed computations (each makes the next version).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Organisation endpoints and login, on a server holding the demo township.
    Org {
        #[arg(long, default_value = "http://127.0.0.1:18090")]
        base: String,
        /// Households to have in the demo township before measuring.
        #[arg(long, default_value_t = 10_000)]
        households: usize,
        /// Timed requests per endpoint.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        /// Timed logins (each costs one argon2 verification).
        #[arg(long, default_value_t = 100)]
        logins: usize,
    },
    /// The pledge wall of one branch of `members` members with three pledges each.
    Pledges {
        #[arg(long, default_value = "http://127.0.0.1:18092")]
        base: String,
        /// Members to add to the demo's first branch, each making three pledges.
        #[arg(long, default_value_t = 100)]
        members: usize,
        /// Timed requests per endpoint.
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
    /// `POST /api/v1/visits` under concurrent load, as the demo township's members.
    Checkins {
        /// The server, or several replicas (comma-separated) taking the
        /// clients in turn.
        #[arg(long, default_value = "http://127.0.0.1:18091")]
        base: String,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds of load (after a short warm-up).
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
    /// The stats overview (and its 304) at growing numbers of visits, the
    /// visits written straight into the server's database.
    Stats {
        #[arg(long, default_value = "http://127.0.0.1:18094")]
        base: String,
        #[arg(long)]
        database_url: String,
        /// Numbers of visits to measure at, ascending.
        #[arg(long, value_delimiter = ',', default_value = "10000,1000000")]
        visits: Vec<usize>,
        #[arg(long, default_value_t = 200)]
        requests: usize,
    },
    /// Members checking in and reading, secretaries reviewing, dashboards
    /// polling, all at once, as the demo township's people.
    Mixed {
        #[arg(long, default_value = "http://127.0.0.1:18096")]
        base: String,
        /// Concurrent clients: 70% members, 20% secretaries, 10% dashboards.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Seconds of load (after a short warm-up).
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// The server's process id, to read its resident memory.
        #[arg(long)]
        server_pid: Option<u32>,
    },
    /// The notification pipeline: submission-to-inbox latency at a steady
    /// rate, then the drain of a backlog written straight into the outbox.
    Notifications {
        #[arg(long, default_value = "http://127.0.0.1:18095")]
        base: String,
        /// The server's database.
        #[arg(long)]
        database_url: String,
        /// Submissions a second while measuring latency.
        #[arg(long, default_value_t = 100)]
        rate: u32,
        /// Seconds of submissions (after two seconds of warm-up).
        #[arg(long, default_value_t = 30)]
        seconds: u64,
        /// Events written into the outbox at once for the drain.
        #[arg(long, default_value_t = 20_000)]
        backlog: usize,
        /// `redis-benchmark` XADD requests a second measured in the same run,
        /// to compare the drain with.
        #[arg(long)]
        xadd_ceiling: Option<f64>,
    },
    /// Mediation report lists, with the township's reports written straight
    /// into the server's database first.
    Reports {
        #[arg(long, default_value = "http://127.0.0.1:18092")]
        base: String,
        /// The server's database.
        #[arg(long)]
        database_url: String,
        /// Reports to have in the township before measuring.
        #[arg(long, default_value_t = 100_000)]
        reports: usize,
        /// Timed requests per list.
        #[arg(long, default_value_t = 300)]
        requests: usize,
    },
}

const ADMIN_PHONE: &str = "13800000000";
const SECRETARY_PHONE: &str = "13800000100";
const MEMBER_PHONE: &str = "13800000101";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Generate {
            database_url,
            townships,
            branches,
            members,
            households,
            visits,
            reports,
            pledges,
            concurrency,
        } => {
            let shape = generate::Shape {
                townships,
                branches,
                members,
                households,
                visits,
                reports,
                pledges,
            };
            generate::generate(&database_url, shape, concurrency).await
        }
        Command::Org {
            base,
            households,
            requests,
            logins,
        } => org(&base, households, requests, logins).await,
        Command::Checkins {
            base,
            concurrency,
            seconds,
        } => checkins(&base, concurrency, seconds).await,
        Command::Mixed {
            base,
            concurrency,
            seconds,
            server_pid,
        } => mixed::mixed(&base, concurrency, seconds, server_pid).await,
        Command::Stats {
            base,
            database_url,
            visits,
            requests,
        } => stats::stats(&base, &database_url, &visits, requests).await,
        Command::Reports {
            base,
            database_url,
            reports,
            requests,
        } => reports::reports(&base, &database_url, reports, requests).await,
        Command::Assessment {
            base,
            database_url,
            branches,
            members,
            runs,
        } => assessment::assessment(&base, &database_url, branches, members, runs).await,
        Command::Pledges {
            base,
            members,
            requests,
        } => pledges(&base, members, requests).await,
        Command::Notifications {
            base,
            database_url,
            rate,
            seconds,
            backlog,
            xadd_ceiling,
        } => {
            notifications::notifications(&base, &database_url, rate, seconds, backlog, xadd_ceiling)
                .await
        }
    }
}

struct Session {
    client: Client,
    base: String,
    token: String,
}

impl Session {
    async fn login(client: &Client, base: &str, phone: &str) -> anyhow::Result<Self> {
        let body: Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "phone": phone, "password": xianfeng::app::demo::DEMO_PASSWORD }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let token = body["access_token"]
            .as_str()
            .context("no access_token")?
            .to_owned();
        Ok(Session {
            client: client.clone(),
            base: base.to_owned(),
            token,
        })
    }

    /// The same signed-in user, talking to another replica.
    fn on(&self, base: &str) -> Self {
        Session {
            client: self.client.clone(),
            base: base.to_owned(),
            token: self.token.clone(),
        }
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    async fn json(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.json(&body);
        }
        Ok(request.send().await?.error_for_status()?.json().await?)
    }
}

/// Percentiles of a sample, in milliseconds.
struct Summary {
    p50: f64,
    p90: f64,
    p99: f64,
    max: f64,
}

fn summarise(mut samples: Vec<Duration>) -> Summary {
    samples.sort();
    let at =
        |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1e3;
    Summary {
        p50: at(0.50),
        p90: at(0.90),
        p99: at(0.99),
        max: at(1.0),
    }
}

fn row(name: &str, s: &Summary) {
    println!(
        "| {name:<44} | {:>7.2} | {:>7.2} | {:>7.2} | {:>7.2} |",
        s.p50, s.p90, s.p99, s.max
    );
}

/// Times `n` requests made by `make` (after 20 untimed warm-up requests).
async fn time(n: usize, make: impl Fn(usize) -> RequestBuilder) -> anyhow::Result<Summary> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n + 20 {
        let started = Instant::now();
        let response = make(i).send().await?;
        let status = response.status();
        response.bytes().await?;
        if !(status.is_success() || status == reqwest::StatusCode::NOT_MODIFIED) {
            bail!("request {i} answered {status}");
        }
        if i >= 20 {
            samples.push(started.elapsed());
        }
    }
    Ok(summarise(samples))
}

async fn org(base: &str, households: usize, requests: usize, logins: usize) -> anyhow::Result<()> {
    let client = Client::builder().build()?;
    let admin = Session::login(&client, base, ADMIN_PHONE).await?;
    let secretary = Session::login(&client, base, SECRETARY_PHONE).await?;
    let member = Session::login(&client, base, MEMBER_PHONE).await?;
    let me = secretary.json(Method::GET, "/api/v1/me", None).await?;
    let branch_id = me["branch"]["id"]
        .as_str()
        .context("secretary has no branch")?
        .to_owned();

    let existing = count_households(&admin).await?;
    if existing < households {
        let started = Instant::now();
        let report = import_households(&secretary, households - existing, 0).await?;
        println!(
            "imported {} households in {:.1} s",
            report["imported"],
            started.elapsed().as_secs_f64()
        );
    }
    let total = count_households(&admin).await?;
    let list = secretary
        .json(Method::GET, "/api/v1/households?limit=1", None)
        .await?;
    let household_id = list["items"][0]["id"]
        .as_str()
        .context("no household")?
        .to_owned();
    let member_me = member.json(Method::GET, "/api/v1/me", None).await?;
    let member_id = member_me["id"].as_str().context("no member id")?.to_owned();
    let users = admin
        .json(Method::GET, "/api/v1/users?limit=1", None)
        .await?;
    let user_id = users["items"][0]["id"]
        .as_str()
        .context("no user")?
        .to_owned();

    println!(
        "\n{total} households in the township; {requests} sequential requests per row, after 20 warm-up.\n"
    );
    println!(
        "| endpoint (one client, loopback)              |  p50 ms |  p90 ms |  p99 ms |  max ms |"
    );
    println!(
        "|----------------------------------------------|--------:|--------:|--------:|--------:|"
    );
    row(
        "GET /api/v1/me",
        &time(requests, |_| secretary.request(Method::GET, "/api/v1/me")).await?,
    );
    row(
        "GET /api/v1/branches",
        &time(requests, |_| admin.request(Method::GET, "/api/v1/branches")).await?,
    );
    row(
        "GET /api/v1/branches/{id}",
        &time(requests, |_| {
            admin.request(Method::GET, &format!("/api/v1/branches/{branch_id}"))
        })
        .await?,
    );
    row(
        "GET /api/v1/users",
        &time(requests, |_| admin.request(Method::GET, "/api/v1/users")).await?,
    );
    row(
        "GET /api/v1/users/{id}",
        &time(requests, |_| {
            admin.request(Method::GET, &format!("/api/v1/users/{user_id}"))
        })
        .await?,
    );
    row(
        "GET /api/v1/households (20)",
        &time(requests, |_| {
            secretary.request(Method::GET, "/api/v1/households")
        })
        .await?,
    );
    row(
        "GET /api/v1/households?limit=100",
        &time(requests, |_| {
            secretary.request(Method::GET, "/api/v1/households?limit=100")
        })
        .await?,
    );
    row(
        "GET /api/v1/households?q=户主9999",
        &time(requests, |_| {
            secretary.request(Method::GET, "/api/v1/households?q=%E6%88%B7%E4%B8%BB9999")
        })
        .await?,
    );
    row(
        "GET /api/v1/households?tag=低保户",
        &time(requests, |_| {
            secretary.request(
                Method::GET,
                "/api/v1/households?tag=%E4%BD%8E%E4%BF%9D%E6%88%B7",
            )
        })
        .await?,
    );
    row(
        "GET /api/v1/households/{id}",
        &time(requests, |_| {
            secretary.request(Method::GET, &format!("/api/v1/households/{household_id}"))
        })
        .await?,
    );
    row(
        "PATCH /api/v1/households/{id}",
        &time(requests, |i| {
            secretary
                .request(Method::PATCH, &format!("/api/v1/households/{household_id}"))
                .json(&json!({ "address": format!("新址{i}") }))
        })
        .await?,
    );
    row(
        "POST /api/v1/households",
        &time(requests, |i| {
            secretary
                .request(Method::POST, "/api/v1/households")
                .json(&json!({ "head_name": format!("新户{i}"), "address": "红旗村" }))
        })
        .await?,
    );
    row(
        "POST /api/v1/households/{id}/assignees",
        &time(requests, |_| {
            secretary
                .request(
                    Method::POST,
                    &format!("/api/v1/households/{household_id}/assignees"),
                )
                .json(&json!({ "member_id": member_id }))
        })
        .await?,
    );
    row(
        "GET /api/v1/me/households",
        &time(requests, |_| {
            member.request(Method::GET, "/api/v1/me/households")
        })
        .await?,
    );
    row(
        "POST /api/v1/branches",
        &time(requests, |i| {
            admin.request(Method::POST, "/api/v1/branches").json(
                &json!({ "name": format!("基准支部{}-{i}", std::process::id()), "kind": "other" }),
            )
        })
        .await?,
    );

    let login = time(logins, |_| {
        client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({ "phone": MEMBER_PHONE, "password": xianfeng::app::demo::DEMO_PASSWORD }))
    })
    .await?;
    row("POST /api/v1/auth/login", &login);
    let hash =
        xianfeng::platform::password::hash(xianfeng::app::demo::DEMO_PASSWORD.to_owned()).await?;
    let mut verifications = Vec::with_capacity(logins);
    for _ in 0..logins {
        let started = Instant::now();
        xianfeng::platform::password::verify(
            xianfeng::app::demo::DEMO_PASSWORD.to_owned(),
            Some(hash.clone()),
        )
        .await?;
        verifications.push(started.elapsed());
    }
    let argon2 = summarise(verifications);
    row("argon2id verify alone (in this process)", &argon2);
    println!(
        "\nargon2 share of login: {:.0}% at p50, {:.0}% at p99",
        100.0 * argon2.p50 / login.p50,
        100.0 * argon2.p99 / login.p99
    );
    Ok(())
}

/// Imports `count` households into the secretary's branch, numbered from `first`.
async fn import_households(
    secretary: &Session,
    count: usize,
    first: usize,
) -> anyhow::Result<Value> {
    let mut csv = String::from("户主姓名,地址,村民小组,联系电话,标签\n");
    for i in first..first + count {
        let tag = if i % 7 == 0 { "低保户" } else { "一般户" };
        csv.push_str(&format!(
            "户主{i},红旗村{}组{i}号,第{}村民小组,139{:08},{tag}\n",
            i % 12 + 1,
            i % 12 + 1,
            i
        ));
    }
    Ok(secretary
        .request(Method::POST, "/api/v1/households/import")
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

async fn count_households(admin: &Session) -> anyhow::Result<usize> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/households?limit=100&cursor={c}"),
            None => "/api/v1/households?limit=100".to_owned(),
        };
        let page = admin.json(Method::GET, &path, None).await?;
        count += page["items"].as_array().map_or(0, Vec::len);
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(count),
        }
    }
}

/// Members of the demo township who submit visits (secretaries submit too).
const SUBMITTERS: [&str; 9] = [
    "13800000100",
    "13800000101",
    "13800000102",
    "13800000110",
    "13800000111",
    "13800000112",
    "13800000120",
    "13800000121",
    "13800000122",
];

/// Each submitting member's session and the households they may visit, with
/// a hundred households per branch, as a village has: check-ins spread over
/// them as they would, not queued on a handful of demo households.
async fn prepare_households(
    client: &Client,
    base: &str,
) -> anyhow::Result<Vec<(std::sync::Arc<Session>, std::sync::Arc<Vec<String>>)>> {
    for (b, secretary) in SUBMITTERS.iter().filter(|p| p.ends_with('0')).enumerate() {
        let secretary = Session::login(client, base, secretary).await?;
        let listed = secretary
            .json(Method::GET, "/api/v1/households?limit=100", None)
            .await?;
        let have = listed["items"].as_array().map_or(0, Vec::len);
        if (1..100).contains(&have) {
            import_households(&secretary, 100 - have, b * 1000).await?;
        }
    }
    let mut sessions = Vec::new();
    for phone in SUBMITTERS {
        let session = Session::login(client, base, phone).await?;
        let households = session
            .json(Method::GET, "/api/v1/households?limit=100", None)
            .await?;
        let ids: Vec<String> = households["items"]
            .as_array()
            .context("no households")?
            .iter()
            .filter_map(|h| h["id"].as_str().map(str::to_owned))
            .collect();
        if ids.is_empty() {
            // The organ branch keeps no households: its members do not check in.
            continue;
        }
        sessions.push((std::sync::Arc::new(session), std::sync::Arc::new(ids)));
    }
    Ok(sessions)
}

async fn checkins(base: &str, concurrency: usize, seconds: u64) -> anyhow::Result<()> {
    let client = Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let replicas: Vec<&str> = base.split(',').collect();
    let sessions = prepare_households(&client, replicas[0]).await?;
    let warm_up = Duration::from_secs(2);
    let started = Instant::now();
    let deadline = started + warm_up + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (session, households) = sessions[worker % sessions.len()].clone();
        let session = session.on(replicas[worker % replicas.len()]);
        tasks.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            let mut failures = 0usize;
            let mut n = 0usize;
            while Instant::now() < deadline {
                n += 1;
                let body = json!({
                    "household_id": households[(worker + n) % households.len()],
                    "kind": "assistance",
                    "visited_at": xianfeng::platform::db::now().to_rfc3339(),
                    "location": {"lat": 30.2741, "lng": 120.1551, "accuracy_m": 15.0},
                    "summary": "了解近况，宣传医保政策",
                    "needs": ["医保续费"],
                });
                let sent = Instant::now();
                let response = session
                    .request(Method::POST, "/api/v1/visits")
                    .header("Idempotency-Key", uuid::Uuid::now_v7().to_string())
                    .json(&body)
                    .send()
                    .await;
                let ok = match response {
                    Ok(r) => r.status() == reqwest::StatusCode::CREATED && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                if sent >= started + warm_up {
                    if ok {
                        samples.push(sent.elapsed())
                    } else {
                        failures += 1
                    }
                }
            }
            (samples, failures)
        }));
    }
    let mut samples = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (s, f) = task.await?;
        samples.extend(s);
        failures += f;
    }
    let count = samples.len();
    let summary = summarise(samples);
    println!(
        "POST /api/v1/visits: {concurrency} clients, {seconds} s: {count} created, {failures} failed"
    );
    println!("throughput: {:.0} visits/s", count as f64 / seconds as f64);
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        summary.p50, summary.p90, summary.p99, summary.max
    );
    Ok(())
}

/// Fills the demo's first branch with `members` members making three pledges
/// each (approved, rated once, some commented on), then times the wall.
async fn pledges(base: &str, members: usize, requests: usize) -> anyhow::Result<()> {
    let client = Client::builder().build()?;
    let admin = Session::login(&client, base, ADMIN_PHONE).await?;
    let secretary = Session::login(&client, base, SECRETARY_PHONE).await?;
    let year = xianfeng::platform::db::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()?;
    let started = Instant::now();
    let mut sessions = Vec::with_capacity(members);
    for m in 0..members {
        let phone = format!("1370000{m:04}");
        secretary
            .json(
                Method::POST,
                "/api/v1/users",
                Some(json!({
                    "name": format!("党员{m}"), "phone": phone, "role": "member",
                    "password": xianfeng::app::demo::DEMO_PASSWORD
                })),
            )
            .await?;
        sessions.push(Session::login(&client, base, &phone).await?);
    }
    let mut made = Vec::new();
    for (m, member) in sessions.iter().enumerate() {
        for p in 0..3 {
            let pledge = member
                .json(
                    Method::POST,
                    "/api/v1/pledges",
                    Some(json!({
                        "scope": "member", "year": year,
                        "title": format!("承诺{m}-{p}"),
                        "content": "每月走访包联户，帮助解决实际困难",
                        "targets": [
                            {"description": "全年走访包联户36次", "metric": {"metric": "visits", "count": 36}},
                            {"description": "参加主题党日"}
                        ]
                    })),
                )
                .await?;
            let id = pledge["id"].as_str().context("no pledge id")?.to_owned();
            secretary
                .json(
                    Method::POST,
                    &format!("/api/v1/pledges/{id}/review"),
                    Some(json!({"decision": "approve"})),
                )
                .await?;
            made.push((m, id));
        }
    }
    for (i, (m, id)) in made.iter().enumerate() {
        let rater = &sessions[(m + 1) % sessions.len()];
        rater
            .request(Method::PUT, &format!("/api/v1/pledges/{id}/rating"))
            .json(&json!({"score": 1 + i % 5, "comment": "为群众办实事"}))
            .send()
            .await?
            .error_for_status()?;
        if i % 10 == 0 {
            admin
                .json(
                    Method::POST,
                    &format!("/api/v1/pledges/{id}/comments"),
                    Some(json!({"body": "承诺具体，望抓好落实"})),
                )
                .await?;
        }
    }
    println!(
        "set-up: {members} members, {} pledges, approved and rated, in {:.1} s",
        made.len(),
        started.elapsed().as_secs_f64()
    );
    let member = &sessions[0];
    let one = made[0].1.clone();
    println!(
        "| endpoint (one client, loopback)              |  p50 ms |  p90 ms |  p99 ms |  max ms |"
    );
    println!(
        "|----------------------------------------------|--------:|--------:|--------:|--------:|"
    );
    row(
        "GET /api/v1/pledges (member, 20)",
        &time(requests, |_| member.request(Method::GET, "/api/v1/pledges")).await?,
    );
    row(
        "GET /api/v1/pledges?limit=100 (member)",
        &time(requests, |_| {
            member.request(Method::GET, "/api/v1/pledges?limit=100")
        })
        .await?,
    );
    row(
        "GET /api/v1/pledges?limit=100 (secretary)",
        &time(requests, |_| {
            secretary.request(Method::GET, "/api/v1/pledges?limit=100")
        })
        .await?,
    );
    row(
        "GET /api/v1/pledges/{id}",
        &time(requests, |_| {
            member.request(Method::GET, &format!("/api/v1/pledges/{one}"))
        })
        .await?,
    );
    Ok(())
}
