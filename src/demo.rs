//! The demo township: a few branches, a secretary and members in each,
//! households with assignments — enough to try every screen at once.

use sea_orm::DatabaseConnection;
use uuid::Uuid;

use crate::auth::password;
use crate::branches::repo as branches;
use crate::domain::{BranchKind, CoordSystem, Location, Role};
use crate::households::dto::HouseholdFields;
use crate::households::repo as households;
use crate::townships::repo as townships;
use crate::users::dto::NewUser;
use crate::users::repo as users;

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

/// Loads the demo township unless it exists; answers its logins (empty if it existed).
pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Vec<DemoLogin>> {
    if townships::by_name(db, DEMO_TOWNSHIP).await?.is_some() {
        return Ok(Vec::new());
    }
    let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
    let txn = crate::db::begin_write(db).await?;
    let township = townships::create(&txn, DEMO_TOWNSHIP).await?;
    let mut logins = Vec::new();
    let admin = new_user("潘建伟", "13800000000", Role::TownshipAdmin, None);
    users::create(&txn, township.id, admin, Some(hash.clone())).await?;
    logins.push(DemoLogin {
        role: Role::TownshipAdmin,
        name: "潘建伟".into(),
        phone: "13800000000".into(),
        branch: None,
    });

    for (b, (branch_name, kind, lat, lng)) in BRANCHES.into_iter().enumerate() {
        let branch = branches::create(&txn, township.id, branch_name.into(), kind).await?;
        let secretary_phone = format!("138000001{b}0");
        users::create(
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
        if kind != BranchKind::Village {
            continue;
        }
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
            households::assign(&txn, &household, member_ids[h % member_ids.len()]).await?;
        }
    }
    txn.commit().await?;
    Ok(logins)
}

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
