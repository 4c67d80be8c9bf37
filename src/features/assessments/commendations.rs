//! Commendations (评选表彰) from a published snapshot: the ranking proposes
//! the top branch secretaries (优秀党支部书记), branches (先进基层党组织) and
//! members (优秀共产党员); the township committee confirms the list, and any
//! departure from the ranking carries its reason. The confirmed list exports
//! as a workbook and as records a certificate can be printed from.

use std::collections::HashMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo;
use crate::core::audit;
use crate::core::state::AppState;
use crate::core::{Action, Actor};
use crate::domain::assessment::Subject;
use crate::domain::text::{self, COMMENT_MAX};
use crate::domain::{FieldErrors, Role};
use crate::entities::{assessment_commendation, assessment_snapshot, branch, user};
use crate::platform::error::{ApiError, ErrorBody};
use crate::platform::http::extract::{Json, Query};
use crate::platform::http::xlsx_export::{Cell, Download, Sheet, XlsxFile, xlsx_response};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(proposal)
        .service(confirm)
        .service(confirmed)
        .service(export)
        .service(certificates);
}

/// The honours the campaign plan names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommendationTitle {
    /// 优秀党支部书记: the secretaries of the best-ranked branches.
    OutstandingSecretary,
    /// 先进基层党组织.
    AdvancedBranch,
    /// 优秀共产党员.
    OutstandingMember,
}

impl CommendationTitle {
    pub const ALL: [CommendationTitle; 3] = [
        CommendationTitle::OutstandingSecretary,
        CommendationTitle::AdvancedBranch,
        CommendationTitle::OutstandingMember,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommendationTitle::OutstandingSecretary => "outstanding_secretary",
            CommendationTitle::AdvancedBranch => "advanced_branch",
            CommendationTitle::OutstandingMember => "outstanding_member",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == value)
    }

    pub fn label(self) -> &'static str {
        match self {
            CommendationTitle::OutstandingSecretary => "优秀党支部书记",
            CommendationTitle::AdvancedBranch => "先进基层党组织",
            CommendationTitle::OutstandingMember => "优秀共产党员",
        }
    }
}

/// How many the ranking proposes for each title.
#[derive(Debug, Default, Deserialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct ShortlistSize {
    /// Branch secretaries (default 3, at most 100).
    pub secretaries: Option<u32>,
    /// Branches (default 3).
    pub branches: Option<u32>,
    /// Members (default 10).
    pub members: Option<u32>,
}

impl ShortlistSize {
    fn parse(&self) -> Result<HashMap<CommendationTitle, usize>, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut sizes = HashMap::new();
        for (field, value, default, title) in [
            (
                "secretaries",
                self.secretaries,
                3,
                CommendationTitle::OutstandingSecretary,
            ),
            (
                "branches",
                self.branches,
                3,
                CommendationTitle::AdvancedBranch,
            ),
            (
                "members",
                self.members,
                10,
                CommendationTitle::OutstandingMember,
            ),
        ] {
            let n = value.unwrap_or(default);
            if n > 100 {
                errors.add(
                    field,
                    "out_of_range",
                    "名额须在 0 到 100 之间",
                    "at most 100",
                );
            }
            sizes.insert(title, n as usize);
        }
        errors.finish(|| sizes)
    }
}

/// One commended branch or person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CommendationEntry {
    pub title: CommendationTitle,
    pub title_label: String,
    pub subject_kind: Subject,
    /// The branch (先进基层党组织) or the person.
    pub subject_id: Uuid,
    pub name: String,
    pub branch_id: Uuid,
    pub branch_name: String,
    /// The rank the score gave (a secretary: their branch's).
    pub rank: i32,
    pub total: f64,
    /// Why the committee departed from the ranking, for an entry it added.
    pub override_reason: Option<String>,
}

/// A list of commendations (proposed or confirmed).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shortlist {
    pub snapshot_id: Uuid,
    pub year: i32,
    pub items: Vec<CommendationEntry>,
    /// Proposed by the ranking, left out by the committee, with the reason.
    pub removed: Vec<RemovedEntry>,
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RemovedEntry {
    pub title: CommendationTitle,
    pub subject_id: Uuid,
    pub name: String,
    pub reason: String,
}

/// Every candidate for each title, in ranking order.
async fn candidates(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    snapshot: &assessment_snapshot::Model,
) -> Result<HashMap<CommendationTitle, Vec<CommendationEntry>>, ApiError> {
    let results = repo::results(db, actor, snapshot.id, None, None).await?;
    let branch_names: HashMap<Uuid, String> = branch::Entity::find()
        .filter(branch::Column::TownshipId.eq(actor.township_id))
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.id, b.name))
        .collect();
    let mut secretaries: HashMap<Uuid, (Uuid, String)> = HashMap::new();
    for s in user::Entity::find()
        .filter(user::Column::TownshipId.eq(actor.township_id))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Role.eq(Role::Secretary.as_str()))
        .order_by_asc(user::Column::Id)
        .all(db)
        .await?
    {
        if let Some(branch_id) = s.branch_id {
            secretaries.entry(branch_id).or_insert((s.id, s.name));
        }
    }
    let mut by_title: HashMap<CommendationTitle, Vec<CommendationEntry>> = HashMap::new();
    for r in results {
        let branch_name = branch_names.get(&r.branch_id).cloned().unwrap_or_default();
        let entry = |title: CommendationTitle, kind, id, name: String| CommendationEntry {
            title,
            title_label: title.label().to_owned(),
            subject_kind: kind,
            subject_id: id,
            name,
            branch_id: r.branch_id,
            branch_name: branch_name.clone(),
            rank: r.rank,
            total: r.total,
            override_reason: None,
        };
        if r.subject_kind == "branch" {
            by_title
                .entry(CommendationTitle::AdvancedBranch)
                .or_default()
                .push(entry(
                    CommendationTitle::AdvancedBranch,
                    Subject::Branch,
                    r.subject_id,
                    r.subject_name.clone(),
                ));
            if let Some((id, name)) = secretaries.get(&r.branch_id) {
                by_title
                    .entry(CommendationTitle::OutstandingSecretary)
                    .or_default()
                    .push(entry(
                        CommendationTitle::OutstandingSecretary,
                        Subject::Member,
                        *id,
                        name.clone(),
                    ));
            }
        } else {
            by_title
                .entry(CommendationTitle::OutstandingMember)
                .or_default()
                .push(entry(
                    CommendationTitle::OutstandingMember,
                    Subject::Member,
                    r.subject_id,
                    r.subject_name.clone(),
                ));
        }
    }
    for list in by_title.values_mut() {
        list.sort_by_key(|e| (e.rank, e.subject_id));
    }
    Ok(by_title)
}

fn propose(
    all: &HashMap<CommendationTitle, Vec<CommendationEntry>>,
    sizes: &HashMap<CommendationTitle, usize>,
) -> Vec<CommendationEntry> {
    CommendationTitle::ALL
        .iter()
        .flat_map(|title| {
            all.get(title)
                .into_iter()
                .flatten()
                .take(sizes.get(title).copied().unwrap_or(0))
                .cloned()
        })
        .collect()
}

async fn published_snapshot(
    db: &impl sea_orm::ConnectionTrait,
    actor: &Actor,
    id: Uuid,
) -> Result<assessment_snapshot::Model, ApiError> {
    let found = repo::find_snapshot(db, actor, id).await?;
    if found.published_at.is_none() {
        return Err(ApiError::conflict(
            "published_at",
            "not_published",
            "考核结果公布后方可评选表彰",
            "commendations come from a published snapshot",
        ));
    }
    Ok(found)
}

/// What the ranking proposes (township admins): the top `secretaries`
/// branch secretaries, `branches` branches and `members` members.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path), ShortlistSize),
    responses(
        (status = 200, body = Shortlist),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "the snapshot is not published (`not_published`)", body = ErrorBody),
        (status = 422, description = "a size over 100", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}/commendations/proposal")]
pub async fn proposal(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    sizes: Query<ShortlistSize>,
) -> Result<web::Json<Shortlist>, ApiError> {
    let found = published_snapshot(&state.db, &actor, id.into_inner()).await?;
    actor.may(Action::ManageAssessment, None)?;
    let sizes = sizes.into_inner().parse()?;
    let all = candidates(&state.db, &actor, &found).await?;
    Ok(web::Json(Shortlist {
        snapshot_id: found.id,
        year: found.year,
        items: propose(&all, &sizes),
        removed: Vec::new(),
        confirmed_at: None,
    }))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverrideAction {
    /// Commend one the ranking did not propose.
    Add,
    /// Leave out one the ranking proposed.
    Remove,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OverrideRequest {
    pub title: CommendationTitle,
    pub subject_id: Uuid,
    pub action: OverrideAction,
    /// Required: why the committee departs from the ranking.
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"secretaries": 3, "overrides": [{"title": "outstanding_member", "subject_id": "0193a6b0-0000-7000-8000-000000000002", "action": "add", "reason": "抗洪抢险中表现突出"}]}))]
pub struct ConfirmRequest {
    #[serde(default)]
    pub secretaries: Option<u32>,
    #[serde(default)]
    pub branches: Option<u32>,
    #[serde(default)]
    pub members: Option<u32>,
    /// Departures from the proposal, each with its reason.
    #[serde(default)]
    pub overrides: Vec<OverrideRequest>,
}

/// Confirm the commendations (township admins; 评选表彰): the proposal of
/// the sizes given, changed by `overrides` — each one, adding or removing,
/// must say why; the reasons are kept with the list and in the audit log.
/// A snapshot's list is confirmed once.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    request_body = ConfirmRequest,
    responses(
        (status = 201, body = Shortlist),
        (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "not published (`not_published`) or confirmed already (`already_confirmed`)", body = ErrorBody),
        (status = 422, description = "`overrides[i].reason` missing (`override_needs_reason`) or too long; `overrides[i].subject_id` not a candidate, already proposed (add) or not proposed (remove); a size over 100", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[post("/assessment-snapshots/{id}/commendations")]
pub async fn confirm(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
    body: Json<ConfirmRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let now = crate::platform::db::now();
    let txn = crate::platform::db::begin_write(&state.db).await?;
    let found = published_snapshot(&txn, &actor, id.into_inner()).await?;
    actor.may(Action::ManageAssessment, None)?;
    let sizes = ShortlistSize {
        secretaries: body.secretaries,
        branches: body.branches,
        members: body.members,
    }
    .parse()?;
    if !stored_list(&txn, found.id).await?.is_empty() {
        return Err(already_confirmed());
    }
    let all = candidates(&txn, &actor, &found).await?;
    let mut list = propose(&all, &sizes);
    let mut removed = Vec::new();
    let mut errors = FieldErrors::new();
    for (i, o) in body.overrides.iter().enumerate() {
        let reason = match text::required(
            &format!("overrides[{i}].reason"),
            o.reason.as_deref().unwrap_or(""),
            COMMENT_MAX,
        ) {
            Ok(reason) => Some(reason),
            Err(_) if o.reason.as_deref().is_none_or(|r| r.trim().is_empty()) => {
                errors.add(
                    format!("overrides[{i}].reason"),
                    "override_needs_reason",
                    "调整评选结果须说明理由",
                    "an override of the ranking needs a reason",
                );
                None
            }
            Err(e) => {
                errors.take::<()>(Err(e));
                None
            }
        };
        let at = list
            .iter()
            .position(|e| e.title == o.title && e.subject_id == o.subject_id);
        let field = format!("overrides[{i}].subject_id");
        match (o.action, at) {
            (OverrideAction::Add, Some(_)) => errors.add(
                field,
                "already_proposed",
                "该对象已在推荐名单中",
                "already on the list",
            ),
            (OverrideAction::Add, None) => {
                let candidate = all
                    .get(&o.title)
                    .and_then(|c| c.iter().find(|e| e.subject_id == o.subject_id));
                match (candidate, reason) {
                    (Some(c), Some(reason)) => {
                        let mut added = c.clone();
                        added.override_reason = Some(reason);
                        list.push(added);
                    }
                    (Some(_), None) => {}
                    (None, _) => errors.add(
                        field,
                        "not_a_candidate",
                        "该对象不在本次考核结果中",
                        "not among this snapshot's results for that title",
                    ),
                }
            }
            (OverrideAction::Remove, Some(at)) => {
                if let Some(reason) = reason {
                    let out = list.remove(at);
                    removed.push(RemovedEntry {
                        title: out.title,
                        subject_id: out.subject_id,
                        name: out.name,
                        reason,
                    });
                }
            }
            (OverrideAction::Remove, None) => errors.add(
                field,
                "not_proposed",
                "该对象不在推荐名单中",
                "not on the proposed list",
            ),
        }
    }
    errors.finish(|| ())?;
    for (position, e) in list.iter().enumerate() {
        assessment_commendation::ActiveModel {
            id: Set(Uuid::now_v7()),
            township_id: Set(actor.township_id),
            snapshot_id: Set(found.id),
            title: Set(e.title.as_str().to_owned()),
            subject_kind: Set(repo::subject_code(e.subject_kind).to_owned()),
            subject_id: Set(e.subject_id),
            branch_id: Set(e.branch_id),
            name: Set(e.name.clone()),
            branch_name: Set(e.branch_name.clone()),
            rank: Set(Some(e.rank)),
            total: Set(Some(e.total)),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            override_reason: Set(e.override_reason.clone()),
            confirmed_by: Set(actor.user_id),
            confirmed_at: Set(now),
        }
        .insert(&txn)
        .await
        .map_err(|err| {
            if crate::platform::error::is_unique_violation(&err) {
                already_confirmed()
            } else {
                err.into()
            }
        })?;
    }
    let shortlist = Shortlist {
        snapshot_id: found.id,
        year: found.year,
        items: list,
        removed,
        confirmed_at: Some(now),
    };
    audit::record(
        &txn,
        &actor,
        "assessment.commendations_confirmed",
        "assessment_snapshot",
        found.id,
        None,
        Some(json!({
            "items": shortlist.items.iter().map(|e| json!({
                "title": e.title, "subject_id": e.subject_id, "override_reason": e.override_reason
            })).collect::<Vec<_>>(),
            "removed": shortlist.removed.iter().map(|r| json!({
                "title": r.title, "subject_id": r.subject_id, "reason": r.reason
            })).collect::<Vec<_>>(),
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(HttpResponse::Created().json(shortlist))
}

fn already_confirmed() -> ApiError {
    ApiError::conflict(
        "snapshot_id",
        "already_confirmed",
        "该版本考核结果的表彰名单已确认",
        "the commendations of this snapshot are already confirmed",
    )
}

async fn stored_list(
    db: &impl sea_orm::ConnectionTrait,
    snapshot_id: Uuid,
) -> Result<Vec<assessment_commendation::Model>, ApiError> {
    Ok(assessment_commendation::Entity::find()
        .filter(assessment_commendation::Column::SnapshotId.eq(snapshot_id))
        .order_by_asc(assessment_commendation::Column::Position)
        .all(db)
        .await?)
}

fn entry_of(c: assessment_commendation::Model) -> CommendationEntry {
    let title = CommendationTitle::parse(&c.title).unwrap_or(CommendationTitle::OutstandingMember);
    CommendationEntry {
        title,
        title_label: title.label().to_owned(),
        subject_kind: if c.subject_kind == "branch" {
            Subject::Branch
        } else {
            Subject::Member
        },
        subject_id: c.subject_id,
        name: c.name,
        branch_id: c.branch_id,
        branch_name: c.branch_name,
        rank: c.rank.unwrap_or_default(),
        total: c.total.unwrap_or_default(),
        override_reason: c.override_reason,
    }
}

/// The confirmed commendations of a published snapshot (everyone in the
/// township: honours are announced); empty until confirmed.
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Shortlist),
        (status = 401, body = ErrorBody),
        (status = 404, description = "no such snapshot, or not published", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}/commendations")]
pub async fn confirmed(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Shortlist>, ApiError> {
    let found = repo::find_snapshot(&state.db, &actor, id.into_inner()).await?;
    let rows = stored_list(&state.db, found.id).await?;
    let confirmed_at = rows.first().map(|r| r.confirmed_at);
    Ok(web::Json(Shortlist {
        snapshot_id: found.id,
        year: found.year,
        items: rows.into_iter().map(entry_of).collect(),
        removed: Vec::new(),
        confirmed_at,
    }))
}

const EXPORT_HEADERS: &[&str] = &[
    "称号",
    "名次",
    "姓名/组织",
    "所在支部",
    "考核得分",
    "调整理由",
];

/// The confirmed commendations as an xlsx workbook (township admins).
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = XlsxFile),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, description = "no such snapshot", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}/commendations/export")]
pub async fn export(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = repo::find_snapshot(&state.db, &actor, id.into_inner()).await?;
    actor.may(Action::ManageAssessment, None)?;
    let rows = stored_list(&state.db, found.id)
        .await?
        .into_iter()
        .map(entry_of)
        .map(|e| {
            vec![
                Cell::Text(e.title_label),
                Cell::Count(i64::from(e.rank)),
                Cell::Text(e.name),
                Cell::Text(e.branch_name),
                Cell::Tenths(e.total),
                e.override_reason.map_or(Cell::Empty, Cell::Text),
            ]
        })
        .collect();
    xlsx_response(&Download {
        filename: format!("commendations-{}-v{}.xlsx", found.year, found.version),
        display_name: format!("{}年度评选表彰名单.xlsx", found.year),
        sheets: vec![Sheet {
            name: "评选表彰",
            headers: EXPORT_HEADERS,
            rows,
        }],
    })
}

/// A certificate's text, ready to print.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Certificate {
    pub title: CommendationTitle,
    pub title_label: String,
    /// The person or the branch honoured.
    pub name: String,
    pub branch_name: String,
    pub year: i32,
    pub township_name: String,
    /// E.g. "授予张伟同志2026年度“优秀共产党员”称号".
    pub citation: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Certificates {
    pub items: Vec<Certificate>,
}

/// Certificate-ready records of the confirmed commendations (township admins).
#[utoipa::path(
    tag = "assessments",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Certificates),
        (status = 401, body = ErrorBody),
        (status = 403, description = "township admins only", body = ErrorBody),
        (status = 404, description = "no such snapshot", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
#[get("/assessment-snapshots/{id}/commendations/certificates")]
pub async fn certificates(
    state: web::Data<AppState>,
    actor: Actor,
    id: web::Path<Uuid>,
) -> Result<web::Json<Certificates>, ApiError> {
    let found = repo::find_snapshot(&state.db, &actor, id.into_inner()).await?;
    actor.may(Action::ManageAssessment, None)?;
    let township_name = crate::entities::township::Entity::find_by_id(actor.township_id)
        .one(&state.db)
        .await?
        .map(|t| t.name)
        .unwrap_or_default();
    let items = stored_list(&state.db, found.id)
        .await?
        .into_iter()
        .map(entry_of)
        .map(|e| {
            let honoured = match e.subject_kind {
                Subject::Branch => e.name.clone(),
                Subject::Member => format!("{}同志", e.name),
            };
            Certificate {
                citation: format!("授予{honoured}{}年度“{}”称号", found.year, e.title_label),
                title: e.title,
                title_label: e.title_label,
                name: e.name,
                branch_name: e.branch_name,
                year: found.year,
                township_name: township_name.clone(),
            }
        })
        .collect();
    Ok(web::Json(Certificates { items }))
}
