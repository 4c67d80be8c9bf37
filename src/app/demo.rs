//! The demo township: a few branches, a secretary and members in each,
//! households with assignments, a few visits in every review state and a
//! pledge wall — enough to try every screen at once.

use sea_orm::{DatabaseConnection, DatabaseTransaction};
use uuid::Uuid;

use crate::core::Actor;
use crate::core::review::{self, HistoryEvent, Pending};
use crate::domain::PledgeScope;
use crate::domain::pledge::{PledgeMetric, Target, TargetMetric};
use crate::domain::{
    BranchKind, CoordSystem, Location, ReviewDecision, ReviewStatus, Role, VisitKind,
};
use crate::entities::{household, pledge, township, visit};
use crate::features::branches::repo as branches;
use crate::features::households::dto::HouseholdFields;
use crate::features::households::repo as households;
use crate::features::pledges::dto::PledgeContent;
use crate::features::pledges::repo as pledges;
use crate::features::townships::repo as townships;
use crate::features::users::dto::NewUser;
use crate::features::users::repo as users;
use crate::features::visits::dto::VisitContent;
use crate::features::visits::repo as visits;
use crate::platform::config::Settings;
use crate::platform::db::Batch;
use crate::platform::password;

pub const DEMO_TOWNSHIP: &str = "示范乡";
pub const DEMO_PASSWORD: &str = "xianfeng-demo";

/// A sign-in of the demo township, to print.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub name: String,
    pub phone: String,
    pub branch: Option<String>,
}

const BRANCHES: [(&str, BranchKind, f64, f64); 3] = [
    ("红旗村党支部", BranchKind::Village, 30.2741, 120.1551),
    ("东山村党支部", BranchKind::Village, 30.2912, 120.1830),
    ("乡机关党支部", BranchKind::Organ, 30.2800, 120.1700),
];
const SECRETARIES: [&str; 3] = ["李建国", "王秀英", "赵志强"];
const MEMBERS: [[&str; 2]; 3] = [["张伟", "刘芳"], ["陈明", "杨丽"], ["黄磊", "周静"]];
const HEADS: [&str; 8] = [
    "张大山",
    "李桂兰",
    "王老五",
    "赵春花",
    "孙德福",
    "周玉梅",
    "吴长生",
    "郑金凤",
];
const TAGS: [&[&str]; 4] = [
    &["低保户"],
    &["独居老人"],
    &["脱贫监测户", "残疾人家庭"],
    &[],
];

/// Whether `xianfeng serve` loads the demo township into an empty database:
/// with `--demo`, never with `--no-demo`, otherwise only on the embedded
/// SQLite default. On PostgreSQL — a real deployment — an admin with the
/// published demo password is never made unasked.
pub fn loads_on_start(settings: &Settings, demo: bool, no_demo: bool) -> bool {
    !no_demo && (demo || settings.is_sqlite())
}

/// Loads the demo township unless it exists; answers its logins (empty if it existed).
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Vec<DemoLogin>> {
    if townships::by_name(db, DEMO_TOWNSHIP).await?.is_some() {
        return Ok(Vec::new());
    }
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
    let txn = crate::platform::db::begin_write(db).await?;
    let township = townships::create(&txn, DEMO_TOWNSHIP).await?;
    let mut logins = Vec::new();
    let admin = new_user("潘建伟", "13800000000", Role::TownshipAdmin, None);
    let admin = users::create(&txn, township.id, admin, Some(hash.clone())).await?;
    demo_campaign(&txn, &township, admin.id).await?;
    let mut villages = Vec::new();
    logins.push(DemoLogin {
        role: Role::TownshipAdmin,
        name: "潘建伟".into(),
        phone: "13800000000".into(),
        branch: None,
    });

    for (b, (branch_name, kind, lat, lng)) in BRANCHES.into_iter().enumerate() {
        let branch = branches::create(&txn, township.id, branch_name.into(), kind).await?;
        let secretary_phone = format!("138000001{b}0");
        let secretary = users::create(
            &txn,
            township.id,
            new_user(
                SECRETARIES[b],
                &secretary_phone,
                Role::Secretary,
                Some(branch.id),
            ),
            Some(hash.clone()),
        )
        .await?;
        logins.push(DemoLogin {
            role: Role::Secretary,
            name: SECRETARIES[b].into(),
            phone: secretary_phone,
            branch: Some(branch_name.into()),
        });
        let mut member_ids = Vec::new();
        for (m, name) in MEMBERS[b].into_iter().enumerate() {
            let phone = format!("138000001{b}{}", m + 1);
            let member = users::create(
                &txn,
                township.id,
                new_user(name, &phone, Role::Member, Some(branch.id)),
                Some(hash.clone()),
            )
            .await?;
            member_ids.push(member.id);
            logins.push(DemoLogin {
                role: Role::Member,
                name: name.into(),
                phone,
                branch: Some(branch_name.into()),
            });
        }
        let secretary_actor = actor(secretary.id, &township, branch.id, Role::Secretary);
        let first_member = actor(member_ids[0], &township, branch.id, Role::Member);
        demo_pledges(&txn, &secretary_actor, &first_member).await?;
        if kind != BranchKind::Village {
            continue;
        }
        villages.push(branch.id);
        for (h, head) in HEADS.into_iter().enumerate() {
            let offset = h as f64 * 0.0011;
            let fields = HouseholdFields {
                head_name: Some(head.into()),
                address: Some(format!(
                    "{}{}组{}号",
                    &branch_name[..branch_name.len() - "党支部".len()],
                    h / 3 + 1,
                    h + 1
                )),
                group: Some(Some(format!("第{}村民小组", h / 3 + 1))),
                phone: Some(Some(format!("1390000{b}{h:03}"))),
                id_number: Some(None),
                location: Some(Some(Location {
                    lat: lat + offset,
                    lng: lng - offset,
                    accuracy_m: None,
                    coord_system: CoordSystem::Gcj02,
                })),
                tags: Some(
                    TAGS[h % TAGS.len()]
                        .iter()
                        .map(|t| (*t).to_owned())
                        .collect(),
                ),
            };
            let household = households::create(&txn, township.id, branch.id, fields).await?;
            let member_id = member_ids[h % member_ids.len()];
            households::assign(&txn, &household, member_id).await?;
            if h < DEMO_VISITS {
                let member = actor(member_id, &township, branch.id, Role::Member);
                let secretary = actor(secretary.id, &township, branch.id, Role::Secretary);
                demo_visit(&txn, &member, &secretary, &household, h).await?;
            }
        }
        let member = actor(member_ids[0], &township, branch.id, Role::Member);
        let secretary = actor(secretary.id, &township, branch.id, Role::Secretary);
        demo_reports(&txn, &member, &secretary).await?;
    }
    let admin = Actor {
        user_id: admin.id,
        township_id: township.id,
        branch_id: None,
        role: Role::TownshipAdmin,
        request_id: None,
    };
    demo_rectifications(&txn, &admin, &villages).await?;
    txn.commit().await?;
    Ok(logins)
}

/// The demo's campaign: a year from a month ago in three phases, the
/// second of today. Every phase takes every kind, so the campaign never
/// refuses what the demo township would take without it; its start is
/// marked announced, as it started a week before the demo existed.
async fn demo_campaign(
    txn: &DatabaseTransaction,
    township: &township::Model,
    admin_id: Uuid,
) -> anyhow::Result<()> {
    use crate::domain::campaign::{Admission, Days, KindDeadlines, SubmissionKind};
    use crate::features::campaigns::dto::{CampaignPlan, PhasePlan};
    let now = crate::platform::db::now();
    let tz = crate::domain::buckets::zone(&township.timezone);
    let today = crate::domain::buckets::local_date(now, tz);
    let days = |from: i64, to: i64| Days {
        starts_on: today + chrono::Duration::days(from),
        ends_on: today + chrono::Duration::days(to),
    };
    let admin = Actor {
        user_id: admin_id,
        township_id: township.id,
        branch_id: None,
        role: Role::TownshipAdmin,
        request_id: None,
    };
    let phase = |name: &str, from, to| PhasePlan {
        name: name.into(),
        description: String::new(),
        days: days(from, to),
        admission: Admission {
            open_kinds: SubmissionKind::ALL.to_vec(),
            deadlines: KindDeadlines::default(),
        },
    };
    let plan = CampaignPlan {
        name: "创先争优活动".into(),
        description: "深入开展创建先进基层党组织、争当优秀共产党员活动".into(),
        days: days(-30, 334),
        phases: vec![
            phase("动员部署", -30, -8),
            phase("组织实施", -7, 299),
            phase("总结完善", 300, 334),
        ],
    };
    let made = crate::features::campaigns::repo::insert_campaign(txn, &admin, &plan, now).await?;
    for phase in &plan.phases {
        let stored =
            crate::features::campaigns::repo::insert_phase(txn, &made, phase, tz, now).await?;
        if stored.starts_at <= now {
            crate::features::campaigns::repo::claim_start_notice(txn, &stored, now).await?;
        }
    }
    Ok(())
}

/// Two rectifications (整改) from last month's supervision, so the dashboard
/// has its column: one due next week, and one whose deadline passed three
/// days ago without a report (overdue; the first sweep tells its secretary).
async fn demo_rectifications(
    txn: &DatabaseTransaction,
    admin: &Actor,
    villages: &[Uuid],
) -> anyhow::Result<()> {
    use crate::features::rectifications::repo::{NewRectification, insert};
    let now = crate::platform::db::now();
    let items = [
        (
            "走访台账不规范",
            "部分走访记录缺少照片和群众诉求，请补齐并建立台账。",
            7,
        ),
        (
            "公开承诺未上墙",
            "支部书记任职承诺未在村务公开栏公示，请公开并报送照片。",
            -3,
        ),
    ];
    for (branch_id, (title, description, days)) in villages.iter().zip(items) {
        let new = NewRectification {
            branch_id: *branch_id,
            spot_check_item_id: None,
            title,
            description,
            deadline: now + chrono::Duration::days(days),
        };
        insert(txn, admin, new, now - chrono::Duration::days(20)).await?;
    }
    Ok(())
}

/// Households of each village branch that get a visit in the demo.
const DEMO_VISITS: usize = 5;

fn actor(user_id: Uuid, township: &township::Model, branch_id: Uuid, role: Role) -> Actor {
    Actor {
        user_id,
        township_id: township.id,
        branch_id: Some(branch_id),
        role,
        request_id: None,
    }
}

/// A visit of a few days ago: approved, pending, or returned for a photo.
async fn demo_visit(
    txn: &DatabaseTransaction,
    member: &Actor,
    secretary: &Actor,
    household: &household::Model,
    n: usize,
) -> anyhow::Result<()> {
    let visited_at = crate::platform::db::now() - chrono::Duration::days(n as i64 + 1);
    let content = VisitContent {
        household_id: household.id,
        kind: VisitKind::ALL[n % VisitKind::ALL.len()],
        visited_at,
        location: Location {
            lat: household.lat.unwrap_or_default() + 0.0002,
            lng: household.lng.unwrap_or_default(),
            accuracy_m: Some(15.0),
            coord_system: CoordSystem::Gcj02,
        },
        summary: DEMO_SUMMARIES[n % DEMO_SUMMARIES.len()].to_owned(),
        needs: Vec::new(),
        follow_up: n.is_multiple_of(2),
        photo_ids: Vec::new(),
    };
    let mut batch = Batch::default();
    let created = visits::insert(
        &mut batch,
        member,
        household.branch_id,
        &content,
        Some(22.2),
        &[],
        visited_at,
    );
    review::add_event(&mut batch, member, submitted_event(created.id));
    batch.write(txn).await?;
    let decision = match n % 3 {
        0 => Some((ReviewDecision::Approve, None)),
        2 => Some((ReviewDecision::Return, Some("请补充走访照片"))),
        _ => None,
    };
    if let Some((decision, comment)) = decision {
        let seen = Pending {
            id: created.id,
            status: ReviewStatus::Pending,
            version: created.version,
        };
        review::record_decision::<visit::Entity>(txn, &seen, decision, comment, secretary).await?;
        let decided = HistoryEvent {
            version: created.version + 1,
            action: decision.event(),
            comment,
            ..submitted_event(created.id)
        };
        review::record_event(txn, secretary, decided).await?;
    }
    Ok(())
}

/// Two disputes per village: one settled and approved, one the member could
/// not settle, escalated to the township and due a follow-up.
async fn demo_reports(
    txn: &DatabaseTransaction,
    member: &Actor,
    secretary: &Actor,
) -> anyhow::Result<()> {
    use crate::domain::mediation::{DisputeCategory, MediationOutcome, RiskLevel};
    use crate::features::mediation::dto::{Party, ReportContent};
    use crate::features::mediation::repo as reports;
    let party = |name: &str, role: &str, phone: Option<&str>| Party {
        name: name.into(),
        role: Some(role.into()),
        phone: phone.map(str::to_owned),
    };
    let occurred_at = crate::platform::db::now() - chrono::Duration::days(3);
    let settled = ReportContent {
        title: "两户宅基地院墙边界纠纷".into(),
        category: DisputeCategory::Land,
        parties: vec![
            party("张某", "申请人", Some("13900001111")),
            party("李某", "被申请人", None),
        ],
        description: "两户因院墙位置发生争执，多次口角。".into(),
        occurred_at,
        location: None,
        household_ids: Vec::new(),
        process: "邀请村民小组长到场，查阅原始宅基地登记，双方协商。".into(),
        outcome: MediationOutcome::Resolved,
        agreement: Some("以登记界址为准，院墙后移 0.3 米。".into()),
        risk_level: RiskLevel::Low,
        photo_ids: Vec::new(),
    };
    let unsettled = ReportContent {
        title: "山林承包权属争议".into(),
        category: DisputeCategory::ForestLand,
        parties: vec![
            party("王某", "承包户", Some("13900002222")),
            party("赵某", "相邻户", None),
        ],
        description: "承包合同四至描述不清，双方各执一词。".into(),
        process: "两次上门调解，双方未达成一致。".into(),
        outcome: MediationOutcome::Unresolved,
        agreement: None,
        risk_level: RiskLevel::Medium,
        ..settled.clone()
    };
    for (content, approve) in [(settled, true), (unsettled, false)] {
        let due = crate::domain::mediation::follow_up_due(
            content.outcome,
            occurred_at,
            crate::domain::mediation::DEFAULT_FOLLOW_UP_DAYS,
        );
        let submitted = reports::Submitted {
            branch_id: secretary.branch_id.unwrap_or_default(),
            now: occurred_at,
            follow_up_due_at: due,
        };
        let created = reports::insert(txn, member, &content, &submitted).await?;
        let submitted = HistoryEvent {
            subject_kind: reports::SUBJECT_KIND,
            ..submitted_event(created.id)
        };
        review::record_event(txn, member, submitted).await?;
        if approve {
            let seen = Pending {
                id: created.id,
                status: ReviewStatus::Pending,
                version: created.version,
            };
            review::record_decision::<crate::entities::mediation_report::Entity>(
                txn,
                &seen,
                ReviewDecision::Approve,
                None,
                secretary,
            )
            .await?;
            let approved = HistoryEvent {
                subject_kind: reports::SUBJECT_KIND,
                version: created.version + 1,
                action: ReviewDecision::Approve.event(),
                ..submitted_event(created.id)
            };
            review::record_event(txn, secretary, approved).await?;
        } else {
            let reason = "未化解纠纷，提交时自动上报";
            let escalated = reports::escalate(txn, &created, member, reason, occurred_at).await?;
            let event = HistoryEvent {
                subject_kind: reports::SUBJECT_KIND,
                version: escalated.version,
                action: "escalated",
                comment: Some(reason),
                ..submitted_event(created.id)
            };
            review::record_event(txn, member, event).await?;
        }
    }
    Ok(())
}

/// The branch's yearly pledge (published) and its first member's pledge
/// (approved by the secretary), both with a target measured from visits.
async fn demo_pledges(
    txn: &DatabaseTransaction,
    secretary: &Actor,
    member: &Actor,
) -> anyhow::Result<()> {
    let year = chrono::Datelike::year(&crate::platform::db::now());
    let pledge = |title: &str, content: &str, target: &str, count: i32| {
        PledgeContent::parse(
            year,
            title,
            content,
            vec![Target {
                description: target.into(),
                due_date: None,
                metric: Some(TargetMetric {
                    metric: PledgeMetric::Visits,
                    count,
                }),
            }],
            None,
            None,
        )
        .map_err(|errors| anyhow::anyhow!("demo pledge: {errors:?}"))
    };
    let now = crate::platform::db::now();
    let branch_pledge = pledge(
        "建强支部堡垒，包户走访全覆盖",
        "支部委员带头包户，每季度开展一次集中走访，群众反映的问题限时办结",
        "全支部全年走访农户120户次",
        120,
    )?;
    let made = pledges::insert(
        txn,
        secretary,
        member.branch_id.unwrap_or_default(),
        PledgeScope::Branch,
        &branch_pledge,
        now,
    )
    .await?;
    review::record_event(txn, secretary, pledge_event(made.id, 1, "published")).await?;

    let member_pledge = pledge(
        "亮身份、作表率，结对帮扶不落一户",
        "每月走访包联户，帮助解决取暖、就医等实际困难",
        "全年走访包联户36次",
        36,
    )?;
    let made = pledges::insert(
        txn,
        member,
        member.branch_id.unwrap_or_default(),
        PledgeScope::Member,
        &member_pledge,
        now,
    )
    .await?;
    review::record_event(txn, member, pledge_event(made.id, 1, "submitted")).await?;
    let seen = Pending {
        id: made.id,
        status: ReviewStatus::Pending,
        version: made.version,
    };
    review::record_decision::<pledge::Entity>(txn, &seen, ReviewDecision::Approve, None, secretary)
        .await?;
    review::record_event(txn, secretary, pledge_event(made.id, 2, "approved")).await?;
    Ok(())
}

fn pledge_event(id: Uuid, version: i32, action: &'static str) -> HistoryEvent<'static> {
    HistoryEvent {
        subject_kind: pledges::SUBJECT_KIND,
        subject_id: id,
        version,
        action,
        comment: None,
        snapshot: None,
    }
}

fn submitted_event(id: Uuid) -> HistoryEvent<'static> {
    HistoryEvent {
        subject_kind: visits::SUBJECT_KIND,
        subject_id: id,
        version: 1,
        action: "submitted",
        comment: None,
        snapshot: None,
    }
}

const DEMO_SUMMARIES: [&str; 4] = [
    "了解冬季取暖情况，帮助联系送煤",
    "宣传医保续费政策，老人已办理",
    "排查用电线路老化，已提醒更换",
    "慰问独居老人，送去米面油",
];

fn new_user(name: &str, phone: &str, role: Role, branch_id: Option<Uuid>) -> NewUser {
    NewUser {
        name: name.into(),
        phone: phone.into(),
        role,
        branch_id,
        password: None,
        id_number: None,
    }
}

/// The logins as a table for the terminal.
pub fn describe(logins: &[DemoLogin]) -> String {
    let mut out = format!("示范乡 demo township loaded. Every password is `{DEMO_PASSWORD}`.\n");
    for login in logins {
        out.push_str(&format!(
            "  {:<15} {:<6} {}  {}\n",
            login.role.as_str(),
            login.name,
            login.phone,
            login.branch.as_deref().unwrap_or("(乡党委)")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings_on(database_url: &str) -> Settings {
        use rand::RngCore;
        let jwt = crate::platform::tokens::opaque_secret();
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let key = hex::encode(key);
        Settings::from_lookup(|name| match name {
            "DATABASE_URL" => Some(database_url.to_owned()),
            "JWT_SECRET" => Some(jwt.clone()),
            "ID_NUMBER_KEY" => Some(key.clone()),
            _ => None,
        })
        .unwrap()
    }

    #[test]
    fn the_demo_loads_unasked_only_on_the_embedded_sqlite() {
        let sqlite = settings_on("sqlite://./data/xianfeng.db?mode=rwc");
        let postgres = settings_on("postgres://xianfeng@db/xianfeng");

        assert!(loads_on_start(&sqlite, false, false));
        assert!(!loads_on_start(&sqlite, false, true));
        assert!(!loads_on_start(&postgres, false, false));
        assert!(loads_on_start(&postgres, true, false));
        assert!(!loads_on_start(&postgres, false, true));
    }
}
