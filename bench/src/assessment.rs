//! Computing the year's assessment of a township of 20 branches × 50
//! members, through `POST /api/v1/assessments/{id}/snapshots`, with the
//! ballots, pledges and visits it scores written straight into the server's
//! database first.

use std::time::{Duration, Instant};

use anyhow::Context;
use reqwest::{Client, Method};
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;
use xianfeng::domain::{BranchKind, Role};
use xianfeng::entities::{assessment_ballot, assessment_mark, branch, household, township, user};

use crate::{ADMIN_PHONE, Session};

pub async fn assessment(
    base: &str,
    database_url: &str,
    branches: usize,
    members: usize,
    runs: usize,
) -> anyhow::Result<()> {
    let db = Database::connect(database_url).await?;
    let town = township::Entity::find()
        .one(&db)
        .await?
        .context("no demo township")?;
    let started = Instant::now();
    let mut all_branches = branch::Entity::find()
        .filter(branch::Column::TownshipId.eq(town.id))
        .all(&db)
        .await?;
    for b in all_branches.len()..branches {
        all_branches.push(
            xianfeng::features::branches::repo::create(
                &db,
                town.id,
                format!("第{b}村党支部"),
                BranchKind::Village,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        );
    }
    let mut phone = 13_600_000_000_u64;
    for b in &all_branches {
        let have = user::Entity::find()
            .filter(user::Column::BranchId.eq(b.id))
            .all(&db)
            .await?;
        let has_secretary = have.iter().any(|u| u.role == Role::Secretary.as_str());
        for m in have.len()..members {
            phone += 1;
            let role = if m == 0 && !has_secretary {
                Role::Secretary
            } else {
                Role::Member
            };
            let new = xianfeng::features::users::dto::NewUser {
                name: format!("党员{m}"),
                phone: phone.to_string(),
                role,
                branch_id: Some(b.id),
                password: None,
                id_number: None,
            };
            xianfeng::features::users::repo::create(&db, town.id, new, None)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        for h in 0..members {
            let fields = xianfeng::features::households::dto::HouseholdFields {
                head_name: Some(format!("户主{h}")),
                address: Some(format!("{}{h}号", b.name)),
                group: Some(None),
                phone: Some(None),
                id_number: Some(None),
                location: Some(None),
                tags: Some(Vec::new()),
            };
            xianfeng::features::households::repo::create(&db, town.id, b.id, fields)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    let people = user::Entity::find()
        .filter(user::Column::TownshipId.eq(town.id))
        .filter(user::Column::BranchId.is_not_null())
        .all(&db)
        .await?;
    let households = household::Entity::find()
        .filter(household::Column::TownshipId.eq(town.id))
        .all(&db)
        .await?;
    let visits = branches * members * 20;
    crate::stats::seed(&db, &households, &people, visits).await?;
    let year = xianfeng::platform::db::now()
        .format("%Y")
        .to_string()
        .parse::<i32>()?;
    for b in &all_branches {
        let Some(secretary) = people
            .iter()
            .find(|u| u.branch_id == Some(b.id) && u.role == Role::Secretary.as_str())
        else {
            continue;
        };
        let actor = xianfeng::core::Actor {
            user_id: secretary.id,
            township_id: town.id,
            branch_id: Some(b.id),
            role: Role::Secretary,
            request_id: None,
        };
        for p in 0..3 {
            let content = xianfeng::features::pledges::dto::PledgeContent::parse(
                year,
                &format!("任职承诺{p}"),
                "全年走访包联户",
                vec![xianfeng::domain::pledge::Target {
                    description: "走访".into(),
                    due_date: None,
                    metric: Some(xianfeng::domain::pledge::TargetMetric {
                        metric: xianfeng::domain::pledge::PledgeMetric::Visits,
                        count: 500,
                    }),
                }],
                None,
                None,
            )
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            xianfeng::features::pledges::repo::insert(
                &db,
                &actor,
                b.id,
                xianfeng::domain::PledgeScope::Branch,
                &content,
                xianfeng::platform::db::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
    }
    eprintln!(
        "{} branches, {} members and secretaries, {} households, {visits} visits, {} branch pledges in {:.1} s",
        all_branches.len(),
        people.len(),
        households.len(),
        all_branches.len() * 3,
        started.elapsed().as_secs_f64()
    );

    let client = Client::builder().build()?;
    let admin = Session::login(&client, base, ADMIN_PHONE).await?;
    let scheme = admin
        .json(
            Method::POST,
            "/api/v1/assessments",
            Some(json!({
                "year": year,
                "branch_components": [
                    {"kind": "representative_ballot", "weight": 30},
                    {"kind": "pledge_fulfilment", "weight": 20},
                    {"kind": "committee_rating", "weight": 20},
                    {"kind": "visit_coverage", "weight": 10},
                    {"kind": "mediation_resolution", "weight": 5},
                    {"kind": "review_turnaround", "weight": 5},
                    {"kind": "spot_check_confirmation", "weight": 10}
                ],
                "member_components": [
                    {"kind": "secretary_rating", "weight": 40},
                    {"kind": "peer_rating", "weight": 40},
                    {"kind": "member_visits", "weight": 20}
                ]
            })),
        )
        .await?;
    let id = scheme["id"]
        .as_str()
        .context("no assessment id")?
        .to_owned();
    let ratings: Vec<Value> = all_branches
        .iter()
        .enumerate()
        .map(|(i, b)| json!({ "branch_id": b.id, "points": 60 + (i % 40) }))
        .collect();
    admin
        .json(
            Method::PUT,
            &format!("/api/v1/assessments/{id}/committee-ratings"),
            Some(json!({ "ratings": ratings })),
        )
        .await?;
    let closes = (xianfeng::platform::db::now() + chrono::Duration::days(3)).to_rfc3339();
    let round = admin
        .json(
            Method::POST,
            &format!("/api/v1/assessments/{id}/rounds"),
            Some(json!({ "closes_at": closes })),
        )
        .await?;
    let round_id: Uuid = round["id"].as_str().context("no round id")?.parse()?;
    let assessment_id: Uuid = id.parse()?;
    // Every member votes once: the branch on the 五个好 and five peers on the 五个模范.
    let mut ballots = Vec::new();
    let mut marks = Vec::new();
    for (i, voter) in people.iter().enumerate() {
        let branch_id = voter.branch_id.context("member without branch")?;
        ballots.push(assessment_ballot::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(town.id),
            round_id: Set(round_id),
            branch_id: Set(branch_id),
            voter_id: Set(voter.id),
            cast_at: Set(xianfeng::platform::db::now()),
        });
        let mark =
            |kind: &str, subject: Uuid, role: &str, base_mark: i16| assessment_mark::ActiveModel {
                id: Set(Uuid::now_v7()),
                township_id: Set(town.id),
                assessment_id: Set(assessment_id),
                round_id: Set(round_id),
                branch_id: Set(branch_id),
                subject_kind: Set(kind.into()),
                subject_id: Set(subject),
                rater_role: Set(role.into()),
                mark1: Set(base_mark),
                mark2: Set(5),
                mark3: Set(4),
                mark4: Set(base_mark),
                mark5: Set(3),
            };
        marks.push(mark(
            "branch",
            branch_id,
            "representative",
            (i % 5) as i16 + 1,
        ));
        let role = if voter.role == Role::Secretary.as_str() {
            "secretary"
        } else {
            "peer"
        };
        for peer in people
            .iter()
            .filter(|p| p.branch_id == Some(branch_id) && p.id != voter.id)
            .take(5)
        {
            marks.push(mark("member", peer.id, role, (i % 3) as i16 + 3));
        }
    }
    for chunk in ballots.chunks(1_000) {
        assessment_ballot::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await?;
    }
    for chunk in marks.chunks(1_000) {
        assessment_mark::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(&db)
            .await?;
    }
    eprintln!("{} ballots, {} marks", ballots.len(), marks.len());

    let mut samples = Vec::new();
    let mut last = Value::Null;
    for _ in 0..runs {
        let started = Instant::now();
        last = admin
            .json(
                Method::POST,
                &format!("/api/v1/assessments/{id}/snapshots"),
                None,
            )
            .await?;
        samples.push(started.elapsed());
    }
    let snapshot = last["id"].as_str().context("no snapshot id")?;
    let started = Instant::now();
    let results = admin
        .json(
            Method::GET,
            &format!("/api/v1/assessment-snapshots/{snapshot}/results"),
            None,
        )
        .await?;
    let read = started.elapsed();
    let rows = results["items"].as_array().map_or(0, Vec::len);
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1_000.0;
    println!("| request | runs | min ms | median ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    println!(
        "| POST /assessments/{{id}}/snapshots ({} branches, {} members) | {runs} | {:.0} | {:.0} | {:.0} |",
        all_branches.len(),
        people.len(),
        ms(samples[0]),
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() - 1])
    );
    println!(
        "| GET /assessment-snapshots/{{id}}/results ({rows} rows) | 1 | {:.0} | {:.0} | {:.0} |",
        ms(read),
        ms(read),
        ms(read)
    );
    Ok(())
}
