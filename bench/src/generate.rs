//! A realistic dataset written through the real schema (so the statistics
//! triggers fire as they would for the API's writes), fast: townships with
//! their branches, secretaries and members, households assigned to members,
//! visits with reviews, mediation reports and pledges.
//!
//! Every generated user's password is [`xianfeng::app::demo::DEMO_PASSWORD`]; the
//! first township's admin has the phone [`first_admin_phone`].

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, Set, TransactionTrait};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use uuid::Uuid;
use xianfeng::domain::VisitKind;
use xianfeng::entities::{
    assignment, branch, household, mediation_report, pledge, township, user, visit,
};

/// Rows per insert statement (PostgreSQL binds at most 65,535 parameters).
const BATCH: usize = 1_000;

/// How much to generate.
#[derive(Clone, Copy)]
pub struct Shape {
    pub townships: usize,
    pub branches: usize,
    /// Users per branch: one secretary, the rest members.
    pub members: usize,
    pub households: usize,
    pub visits: usize,
    pub reports: usize,
    pub pledges: usize,
}

impl Shape {
    fn rows(&self) -> u64 {
        let users = self.townships * (1 + self.branches * self.members);
        (self.townships * (1 + self.branches)
            + users
            + 2 * self.households
            + self.visits
            + self.reports
            + self.pledges) as u64
    }
}

/// The phone of the first generated township's admin.
pub fn first_admin_phone() -> String {
    phone(0)
}

fn phone(n: usize) -> String {
    format!("17{n:09}")
}

pub async fn generate(database_url: &str, shape: Shape, concurrency: usize) -> anyhow::Result<()> {
    let db = sea_orm::Database::connect(database_url).await?;
    xianfeng::platform::db::migrate(&db).await?;
    let started = Instant::now();
    let password_hash =
        xianfeng::platform::password::hash(xianfeng::app::demo::DEMO_PASSWORD.into()).await?;
    let bar = ProgressBar::new(shape.rows()).with_style(ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {human_pos}/{human_len} rows, {per_sec}, {eta} left",
    )?);
    let slots = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut townships = JoinSet::new();
    for t in 0..shape.townships {
        let (db, bar, slots, password_hash) = (
            db.clone(),
            bar.clone(),
            slots.clone(),
            password_hash.clone(),
        );
        townships.spawn(async move {
            let _slot = slots.acquire_owned().await?;
            Township::new(t, shape, password_hash)
                .write(&db, &bar)
                .await
        });
    }
    while let Some(done) = townships.join_next().await {
        done??;
    }
    bar.finish();
    eprintln!(
        "generated {} rows in {:.1} s; log in as {} / {}",
        shape.rows(),
        started.elapsed().as_secs_f64(),
        first_admin_phone(),
        xianfeng::app::demo::DEMO_PASSWORD
    );
    Ok(())
}

/// One township's rows, made in memory a table at a time.
struct Township {
    index: usize,
    id: Uuid,
    shape: Shape,
    password_hash: String,
    now: DateTime<Utc>,
}

struct Household {
    id: Uuid,
    branch: Uuid,
    member: Uuid,
    secretary: Uuid,
}

struct Branch {
    id: Uuid,
    secretary: Uuid,
    members: Vec<Uuid>,
}

impl Township {
    fn new(index: usize, shape: Shape, password_hash: String) -> Self {
        Township {
            index,
            id: Uuid::now_v7(),
            shape,
            password_hash,
            now: xianfeng::platform::db::now(),
        }
    }

    /// Its share of `total`: an even split, the remainder to the first townships.
    fn share(&self, total: usize) -> usize {
        total / self.shape.townships + usize::from(self.index < total % self.shape.townships)
    }

    async fn write(self, db: &DatabaseConnection, bar: &ProgressBar) -> anyhow::Result<()> {
        let branches = self.organisation(db, bar).await?;
        let households = self.households(db, bar, &branches).await?;
        self.visits(db, bar, &households).await?;
        self.reports(db, bar, &branches).await?;
        self.pledges(db, bar, &branches).await
    }

    async fn organisation(
        &self,
        db: &DatabaseConnection,
        bar: &ProgressBar,
    ) -> anyhow::Result<Vec<Branch>> {
        let shape = &self.shape;
        township::ActiveModel {
            id: Set(self.id),
            name: Set(format!("第{}乡镇", self.index + 1)),
            timezone: Set("Asia/Shanghai".into()),
            visit_interval_days: Set(30),
            created_at: Set(self.now),
            settings: Set("{}".into()),
        }
        .insert(db)
        .await?;
        let mut phones = self.index * (1 + shape.branches * shape.members);
        let mut users = vec![self.user(None, "township_admin", "乡党委管理员", &mut phones)];
        let mut branches = Vec::with_capacity(shape.branches);
        let mut branch_rows = Vec::with_capacity(shape.branches);
        for b in 0..shape.branches {
            let id = Uuid::now_v7();
            branch_rows.push(branch::ActiveModel {
                id: Set(id),
                township_id: Set(self.id),
                name: Set(format!("第{}村党支部", b + 1)),
                kind: Set("village".into()),
                created_at: Set(self.now),
                updated_at: Set(self.now),
            });
            let secretary = self.user(Some(id), "secretary", "支部书记", &mut phones);
            let secretary_id = secretary.id.clone().unwrap();
            users.push(secretary);
            let mut members = Vec::with_capacity(shape.members);
            for _ in 1..shape.members {
                let member = self.user(Some(id), "member", "党员", &mut phones);
                members.push(member.id.clone().unwrap());
                users.push(member);
            }
            branches.push(Branch {
                id,
                secretary: secretary_id,
                members,
            });
        }
        insert(db, bar, branch_rows).await?;
        insert(db, bar, users).await?;
        bar.inc(1);
        Ok(branches)
    }

    fn user(
        &self,
        branch_id: Option<Uuid>,
        role: &str,
        title: &str,
        phones: &mut usize,
    ) -> user::ActiveModel {
        *phones += 1;
        user::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(self.id),
            branch_id: Set(branch_id),
            role: Set(role.into()),
            name: Set(format!("{title}{}", *phones)),
            phone: Set(phone(*phones - 1)),
            id_number: Set(None),
            password_hash: Set(Some(self.password_hash.clone())),
            wechat_openid: Set(None),
            active: Set(true),
            token_version: Set(0),
            created_at: Set(self.now),
            updated_at: Set(self.now),
        }
    }

    /// Households spread over the branches, each assigned to one member.
    async fn households(
        &self,
        db: &DatabaseConnection,
        bar: &ProgressBar,
        branches: &[Branch],
    ) -> anyhow::Result<Vec<Household>> {
        let count = self.share(self.shape.households);
        let mut made = Vec::with_capacity(count);
        for start in (0..count).step_by(BATCH) {
            let mut households = Vec::with_capacity(BATCH);
            let mut assignments = Vec::with_capacity(BATCH);
            for i in start..(start + BATCH).min(count) {
                let branch = &branches[i % branches.len()];
                let member = branch
                    .members
                    .get((i / branches.len()) % branch.members.len().max(1))
                    .copied()
                    .unwrap_or(branch.secretary);
                let id = Uuid::now_v7();
                households.push(household::ActiveModel {
                    id: Set(id),
                    township_id: Set(self.id),
                    branch_id: Set(branch.id),
                    head_name: Set(format!("户主{i}")),
                    address: Set(format!("{}组{}号", i % 12 + 1, i)),
                    village_group: Set(Some(format!("{}组", i % 12 + 1))),
                    phone: Set(None),
                    id_number: Set(None),
                    lat: Set(Some(30.27 + (i % 100) as f64 * 1e-4)),
                    lng: Set(Some(120.15 + (i % 97) as f64 * 1e-4)),
                    coord_system: Set(Some("gcj02".into())),
                    tags: Set(if i % 7 == 0 {
                        json!(["低保户"])
                    } else {
                        json!([])
                    }),
                    created_at: Set(self.now),
                    updated_at: Set(self.now),
                });
                assignments.push(assignment::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    township_id: Set(self.id),
                    branch_id: Set(branch.id),
                    household_id: Set(id),
                    member_id: Set(member),
                    created_at: Set(self.now),
                    deleted_at: Set(None),
                });
                made.push(Household {
                    id,
                    branch: branch.id,
                    member,
                    secretary: branch.secretary,
                });
            }
            insert(db, bar, households).await?;
            insert(db, bar, assignments).await?;
        }
        Ok(made)
    }

    /// Visits over the last year by the households' members: most approved
    /// by the secretary's review, a tenth pending, a tenth rejected.
    async fn visits(
        &self,
        db: &DatabaseConnection,
        bar: &ProgressBar,
        households: &[Household],
    ) -> anyhow::Result<()> {
        let count = self.share(self.shape.visits);
        if households.is_empty() {
            return Ok(());
        }
        for start in (0..count).step_by(BATCH) {
            let rows = (start..(start + BATCH).min(count)).map(|i| {
                let household = &households[i % households.len()];
                let at = self.now - Duration::minutes((i * 7919 % (365 * 24 * 60)) as i64);
                let (status, decision) = match i % 10 {
                    0 => ("pending", None),
                    1 => ("rejected", Some("rejected")),
                    _ => ("approved", Some("approved")),
                };
                let reviewed_at = decision.map(|_| at + Duration::hours(20));
                visit::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    township_id: Set(self.id),
                    branch_id: Set(household.branch),
                    household_id: Set(household.id),
                    member_id: Set(household.member),
                    kind: Set(VisitKind::ALL[i % VisitKind::ALL.len()].as_str().into()),
                    visited_at: Set(at),
                    received_at: Set(at + Duration::minutes(2)),
                    submitted_at: Set(at + Duration::minutes(2)),
                    lat: Set(30.27),
                    lng: Set(120.15),
                    accuracy_m: Set(Some(15.0)),
                    coord_system: Set("gcj02".into()),
                    distance_m: Set(Some((i % 300) as f64)),
                    summary: Set("入户走访，了解生产生活情况".into()),
                    needs: Set(json!([])),
                    follow_up: Set(i % 5 == 0),
                    photo_ids: Set(json!([])),
                    flags: Set(json!([])),
                    status: Set(status.into()),
                    version: Set(1 + i32::from(decision.is_some())),
                    reviewer_id: Set(decision.map(|_| household.secretary)),
                    review_decision: Set(decision.map(Into::into)),
                    review_comment: Set((status == "rejected").then(|| "信息不全".into())),
                    reviewed_at: Set(reviewed_at),
                    created_at: Set(at),
                    updated_at: Set(reviewed_at.unwrap_or(at)),
                }
            });
            insert(db, bar, rows.collect()).await?;
        }
        Ok(())
    }

    async fn reports(
        &self,
        db: &DatabaseConnection,
        bar: &ProgressBar,
        branches: &[Branch],
    ) -> anyhow::Result<()> {
        let count = self.share(self.shape.reports);
        for start in (0..count).step_by(BATCH) {
            let rows = (start..(start + BATCH).min(count)).map(|i| {
                let branch = &branches[i % branches.len()];
                let author = branch.members.get(i % branch.members.len().max(1));
                let at = self.now - Duration::hours((i * 31 % (365 * 24)) as i64);
                let (status, outcome) = match i % 10 {
                    0 => ("pending", "unresolved"),
                    1 | 2 => ("approved", "partially_resolved"),
                    _ => ("approved", "resolved"),
                };
                let escalated = i % 25 == 0;
                mediation_report::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    township_id: Set(self.id),
                    branch_id: Set(branch.id),
                    member_id: Set(*author.unwrap_or(&branch.secretary)),
                    title: Set(format!("邻里纠纷调解{i}")),
                    category: Set(["neighbourhood", "land", "marriage_family"][i % 3].into()),
                    parties: Set(json!([{ "name": "甲" }, { "name": "乙" }])),
                    description: Set("因宅基地边界发生争执".into()),
                    occurred_at: Set(at),
                    received_at: Set(at),
                    submitted_at: Set(at),
                    lat: Set(None),
                    lng: Set(None),
                    accuracy_m: Set(None),
                    coord_system: Set(None),
                    household_ids: Set(json!([])),
                    process: Set("当面调解".into()),
                    outcome: Set(outcome.into()),
                    agreement: Set(None),
                    risk_level: Set(if escalated { "high" } else { "low" }.into()),
                    photo_ids: Set(json!([])),
                    status: Set(status.into()),
                    version: Set(1),
                    reviewer_id: Set((status == "approved").then_some(branch.secretary)),
                    review_decision: Set((status == "approved").then(|| "approved".into())),
                    review_comment: Set(None),
                    reviewed_at: Set((status == "approved").then_some(at + Duration::hours(6))),
                    escalation_status: Set(escalated.then(|| "open".into())),
                    escalation_reason: Set(escalated.then(|| "矛盾可能激化".into())),
                    escalated_by: Set(escalated.then_some(branch.secretary)),
                    escalated_at: Set(escalated.then_some(at + Duration::hours(6))),
                    acknowledged_by: Set(None),
                    acknowledged_at: Set(None),
                    resolved_by: Set(None),
                    resolved_at: Set(None),
                    escalation_note: Set(None),
                    latest_outcome: Set(outcome.into()),
                    follow_up_count: Set(0),
                    follow_up_due_at: Set(None),
                    overdue_notified_for: Set(None),
                    created_at: Set(at),
                    updated_at: Set(at),
                }
            });
            insert(db, bar, rows.collect()).await?;
        }
        Ok(())
    }

    /// Members' pledges for this year, reviewed or waiting.
    async fn pledges(
        &self,
        db: &DatabaseConnection,
        bar: &ProgressBar,
        branches: &[Branch],
    ) -> anyhow::Result<()> {
        let count = self.share(self.shape.pledges);
        let year = self.now.year();
        let counts_from = self.now - Duration::days(300);
        for start in (0..count).step_by(BATCH) {
            let rows = (start..(start + BATCH).min(count)).map(|i| {
                let branch = &branches[i % branches.len()];
                let author = branch.members.get(i % branch.members.len().max(1));
                let status = ["approved", "approved", "fulfilled", "pending"][i % 4];
                let reviewed = status != "pending";
                pledge::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    township_id: Set(self.id),
                    branch_id: Set(branch.id),
                    scope: Set("member".into()),
                    author_id: Set(*author.unwrap_or(&branch.secretary)),
                    year: Set(year),
                    title: Set("每月走访联系户不少于4次".into()),
                    content: Set("帮助困难群众解决实际问题".into()),
                    targets: Set(json!([{ "description": "走访联系户", "metric": null }])),
                    period_start: Set(None),
                    period_end: Set(None),
                    counts_from: Set(counts_from),
                    counts_until: Set(counts_from + Duration::days(365)),
                    reported_percent: Set(None),
                    status: Set(status.into()),
                    version: Set(1),
                    reviewer_id: Set(reviewed.then_some(branch.secretary)),
                    review_decision: Set(reviewed.then(|| "approved".into())),
                    review_comment: Set(None),
                    reviewed_at: Set(reviewed.then_some(counts_from + Duration::days(1))),
                    fulfilled_by: Set((status == "fulfilled").then_some(branch.secretary)),
                    fulfilment_note: Set(None),
                    fulfilled_at: Set((status == "fulfilled").then_some(self.now)),
                    submitted_at: Set(counts_from),
                    created_at: Set(counts_from),
                    updated_at: Set(counts_from),
                }
            });
            insert(db, bar, rows.collect()).await?;
        }
        Ok(())
    }
}

/// Inserts one batch in its own transaction and counts it on the bar.
async fn insert<A>(db: &DatabaseConnection, bar: &ProgressBar, rows: Vec<A>) -> anyhow::Result<()>
where
    A: ActiveModelTrait + Send,
{
    if rows.is_empty() {
        return Ok(());
    }
    let n = rows.len() as u64;
    let txn = db.begin().await?;
    <A::Entity as EntityTrait>::insert_many(rows)
        .exec_without_returning(&txn)
        .await?;
    txn.commit().await?;
    bar.inc(n);
    Ok(())
}
