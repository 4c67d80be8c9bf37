//! Who is told about an event, and what they read (SPEC §6): a new submission
//! goes to the branch's secretaries other than its author (the township admins
//! when there is none); a decision goes to the submitter; an escalated dispute
//! to the township admins; an overdue follow-up to the report's author and
//! the branch's secretaries; a leader comment, rating or fulfilment to the
//! pledge's owner; the daily digests to the members with overdue households
//! and the secretaries with reviews waiting over a day; a rectification's
//! report to the township admins, and its assignment, closing, reopening
//! and lapse to the branch's secretaries; a campaign phase's start to
//! everyone in the township.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde::Deserialize;
use uuid::Uuid;

use crate::domain::mediation::EscalationStatus;
use crate::domain::pledge::FulfilOutcome;
use crate::domain::{PledgeScope, ReviewDecision, Role, VisitKind};
use crate::entities::{branch, household, outbox_event, user};
use crate::platform::error::ApiError;

/// One inbox entry to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub recipient_id: Uuid,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Deserialize)]
struct Submitted {
    branch_id: Uuid,
    member_id: Uuid,
    #[serde(default)]
    household: String,
    kind: Option<VisitKind>,
}

#[derive(Debug, Deserialize)]
struct Reviewed {
    member_id: Uuid,
    household_id: Option<Uuid>,
    decision: ReviewDecision,
    comment: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PledgeSubmitted {
    branch_id: Uuid,
    member_id: Uuid,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Deserialize)]
struct PledgeReviewed {
    member_id: Uuid,
    #[serde(default)]
    title: String,
    decision: ReviewDecision,
    comment: Option<String>,
}

/// An event about a pledge that tells its owner.
#[derive(Debug, Deserialize)]
struct ToPledgeOwner {
    scope: PledgeScope,
    branch_id: Uuid,
    author_id: Uuid,
    #[serde(default)]
    title: String,
    comment: Option<String>,
    score: Option<i32>,
    outcome: Option<FulfilOutcome>,
    note: Option<String>,
}

/// The inbox entries an event makes; none for kinds that notify nobody.
pub async fn messages_for<C: ConnectionTrait>(
    people: &mut People<'_, C>,
    event: &outbox_event::Model,
) -> Result<Vec<Message>, ApiError> {
    let db = people.db;
    match event.kind.as_str() {
        "visit.submitted" | "visit.resubmitted" => {
            let Ok(submitted) = serde_json::from_value::<Submitted>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let author = people.name_of(submitted.member_id).await?;
            let again = if event.kind == "visit.resubmitted" {
                "修改后重新提交了"
            } else {
                "提交了"
            };
            let kind = submitted
                .kind
                .map(|k| format!("（{}）", k.label()))
                .unwrap_or_default();
            let body = format!(
                "党员{author}{again}走访记录：{}户{kind}",
                submitted.household
            );
            let recipients = people
                .reviewers_of(event.township_id, submitted.branch_id, submitted.member_id)
                .await?;
            Ok(to_each(recipients, "新的走访记录待审核", &body))
        }
        "visit.reviewed" => {
            let Ok(reviewed) = serde_json::from_value::<Reviewed>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let household = match reviewed.household_id {
                Some(id) => household::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|h| h.head_name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            let (title, outcome) = match reviewed.decision {
                ReviewDecision::Approve => ("走访记录已通过", "已通过审核"),
                ReviewDecision::Return => ("走访记录被退回", "被退回，请修改后重新提交"),
                ReviewDecision::Reject => ("走访记录未通过", "未通过审核"),
            };
            let reason = opinion(reviewed.comment.as_deref());
            Ok(vec![Message {
                recipient_id: reviewed.member_id,
                title: title.into(),
                body: format!("您对{household}户的走访记录{outcome}{reason}"),
            }])
        }
        "pledge.submitted" | "pledge.resubmitted" => {
            let Ok(submitted) = serde_json::from_value::<PledgeSubmitted>(event.payload.clone())
            else {
                return Ok(Vec::new());
            };
            let author = people.name_of(submitted.member_id).await?;
            let again = if event.kind == "pledge.resubmitted" {
                "修改后重新提交了"
            } else {
                "提交了"
            };
            let body = format!("党员{author}{again}公开承诺：《{}》", submitted.title);
            let recipients = people
                .reviewers_of(event.township_id, submitted.branch_id, submitted.member_id)
                .await?;
            Ok(to_each(recipients, "新的承诺待审核", &body))
        }
        "pledge.reviewed" => {
            let Ok(reviewed) = serde_json::from_value::<PledgeReviewed>(event.payload.clone())
            else {
                return Ok(Vec::new());
            };
            let (title, outcome) = match reviewed.decision {
                ReviewDecision::Approve => ("承诺已通过审核", "已通过审核，现已公开"),
                ReviewDecision::Return => ("承诺被退回", "被退回，请修改后重新提交"),
                ReviewDecision::Reject => ("承诺未通过", "未通过审核"),
            };
            let reason = opinion(reviewed.comment.as_deref());
            Ok(vec![Message {
                recipient_id: reviewed.member_id,
                title: title.into(),
                body: format!("您的承诺《{}》{outcome}{reason}", reviewed.title),
            }])
        }
        "pledge.commented" | "pledge.rated" | "pledge.fulfilled" => {
            let Ok(told) = serde_json::from_value::<ToPledgeOwner>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let pledge = format!("《{}》", told.title);
            let (title, body) = match event.kind.as_str() {
                "pledge.commented" => (
                    "领导点评了您的承诺",
                    format!(
                        "您的承诺{pledge}收到领导点评：{}",
                        told.comment.clone().unwrap_or_default()
                    ),
                ),
                "pledge.rated" => (
                    "您的承诺收到群众评议",
                    format!(
                        "您的承诺{pledge}收到一条{}分的群众评议",
                        told.score.unwrap_or_default()
                    ),
                ),
                _ => {
                    let note = told
                        .note
                        .clone()
                        .filter(|n| !n.is_empty())
                        .map(|n| format!("。说明：{n}"))
                        .unwrap_or_default();
                    match told.outcome.unwrap_or_default() {
                        FulfilOutcome::Fulfilled => {
                            ("承诺已践诺", format!("您的承诺{pledge}已确认践诺{note}"))
                        }
                        FulfilOutcome::NotFulfilled => (
                            "承诺未践诺",
                            format!("您的承诺{pledge}被确认为未践诺{note}"),
                        ),
                    }
                }
            };
            let recipients = people.owners_of(event.township_id, &told).await?;
            Ok(to_each(recipients, title, &body))
        }
        "mediation.submitted" | "mediation.resubmitted" => {
            let Ok(report) = serde_json::from_value::<ReportEvent>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let author = people.name_of(report.member_id).await?;
            let again = if event.kind == "mediation.resubmitted" {
                "修改后重新提交了"
            } else {
                "提交了"
            };
            let body = format!("党员{author}{again}矛盾纠纷调解记录：{}", report.title);
            let recipients = people
                .reviewers_of(event.township_id, report.branch_id, report.member_id)
                .await?;
            Ok(to_each(recipients, "新的矛盾纠纷调解记录待审核", &body))
        }
        "mediation.reviewed" => {
            let Ok(report) = serde_json::from_value::<ReportEvent>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let Some(decision) = report.decision else {
                return Ok(Vec::new());
            };
            let (title, outcome) = match decision {
                ReviewDecision::Approve => ("调解记录已通过", "已通过审核"),
                ReviewDecision::Return => ("调解记录被退回", "被退回，请修改后重新提交"),
                ReviewDecision::Reject => ("调解记录未通过", "未通过审核"),
            };
            let reason = opinion(report.comment.as_deref());
            Ok(vec![Message {
                recipient_id: report.member_id,
                title: title.into(),
                body: format!("您的调解记录“{}”{outcome}{reason}", report.title),
            }])
        }
        "mediation.escalated" => {
            let Ok(report) = serde_json::from_value::<ReportEvent>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let branch = branch::Entity::find_by_id(report.branch_id)
                .one(db)
                .await?
                .map(|b| b.name)
                .unwrap_or_default();
            let reason = report
                .reason
                .filter(|r| !r.is_empty())
                .map(|r| format!("。原因：{r}"))
                .unwrap_or_default();
            let body = format!("{branch}上报矛盾纠纷：{}{reason}", report.title);
            let admins = people.admins_of(event.township_id).await?;
            Ok(to_each(admins, "矛盾纠纷上报待处理", &body))
        }
        "mediation.escalation_handled" => {
            let Ok(report) = serde_json::from_value::<ReportEvent>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let (title, state) = match report.status {
                Some(EscalationStatus::Resolved) => ("上报的纠纷已办结", "已由乡党委办结"),
                _ => ("上报的纠纷已受理", "已由乡党委受理"),
            };
            let note = opinion(report.note.as_deref());
            Ok(vec![Message {
                recipient_id: report.member_id,
                title: title.into(),
                body: format!("您上报的纠纷“{}”{state}{note}", report.title),
            }])
        }
        "mediation.follow_up_overdue" => {
            let Ok(report) = serde_json::from_value::<ReportEvent>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let body = format!("矛盾纠纷“{}”的回访已逾期，请尽快回访", report.title);
            let mut recipients = people
                .reviewers_of(event.township_id, report.branch_id, report.member_id)
                .await?;
            recipients.insert(0, report.member_id);
            Ok(to_each(recipients, "纠纷回访逾期", &body))
        }
        crate::core::events::OVERDUE_HOUSEHOLDS => {
            let Ok(digest) = serde_json::from_value::<OverdueDigest>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let more = if digest.count > digest.households.len() {
                "等"
            } else {
                ""
            };
            let body = format!(
                "您有{}户包联农户超过{}天未走访：{}{more}",
                digest.count,
                digest.interval_days,
                digest.households.join("、")
            );
            Ok(to_each(vec![digest.member_id], "包联农户待走访", &body))
        }
        crate::core::events::STALE_REVIEWS => {
            let Ok(digest) = serde_json::from_value::<StaleDigest>(event.payload.clone()) else {
                return Ok(Vec::new());
            };
            let body = format!(
                "本支部有{}条提交等待审核超过一天，最早的已等待{}小时",
                digest.count, digest.oldest_hours
            );
            let recipients = people
                .reviewers_of(event.township_id, digest.branch_id, Uuid::nil())
                .await?;
            Ok(to_each(recipients, "待审核事项提醒", &body))
        }
        kind if kind.starts_with("rectification.") => rectification_messages(people, event).await,
        "campaign.phase_started" => phase_started_messages(people, event).await,
        kind if kind.starts_with("assessment.") => assessment_messages(people, event).await,
        _ => Ok(Vec::new()),
    }
}

#[derive(Debug, Deserialize)]
struct OverdueDigest {
    member_id: Uuid,
    count: usize,
    households: Vec<String>,
    interval_days: i32,
}

#[derive(Debug, Deserialize)]
struct StaleDigest {
    branch_id: Uuid,
    count: u64,
    oldest_hours: i64,
}

/// What a mediation event carries; fields absent from a kind stay `None`.
#[derive(Debug, Deserialize)]
struct ReportEvent {
    branch_id: Uuid,
    member_id: Uuid,
    #[serde(default)]
    title: String,
    decision: Option<ReviewDecision>,
    comment: Option<String>,
    reason: Option<String>,
    status: Option<EscalationStatus>,
    note: Option<String>,
}

fn to_each(recipients: Vec<Uuid>, title: &str, body: &str) -> Vec<Message> {
    recipients
        .into_iter()
        .map(|recipient_id| Message {
            recipient_id,
            title: title.to_owned(),
            body: body.to_owned(),
        })
        .collect()
}

/// "。意见：…" after a decision, when the reviewer wrote one.
fn opinion(comment: Option<&str>) -> String {
    comment
        .filter(|c| !c.is_empty())
        .map(|c| format!("。意见：{c}"))
        .unwrap_or_default()
}

/// The people a batch of events names, each looked up once: the events of
/// a batch mostly concern the same few members, secretaries and admins. Kept
/// for one batch only, so a change of secretary is seen by the next.
pub struct People<'c, C> {
    db: &'c C,
    names: HashMap<Uuid, String>,
    admins: HashMap<Uuid, Vec<Uuid>>,
    secretaries: HashMap<(Uuid, Uuid), Vec<Uuid>>,
}

impl<'c, C: ConnectionTrait> People<'c, C> {
    pub fn new(db: &'c C) -> Self {
        People {
            db,
            names: HashMap::new(),
            admins: HashMap::new(),
            secretaries: HashMap::new(),
        }
    }

    /// The township's active admins.
    async fn admins_of(&mut self, township_id: Uuid) -> Result<Vec<Uuid>, ApiError> {
        if let Some(admins) = self.admins.get(&township_id) {
            return Ok(admins.clone());
        }
        let admins: Vec<Uuid> = user::Entity::find()
            .filter(user::Column::TownshipId.eq(township_id))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::Role.eq(Role::TownshipAdmin.as_str()))
            .all(self.db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        self.admins.insert(township_id, admins.clone());
        Ok(admins)
    }

    /// The branch's active secretaries.
    async fn secretaries_of(
        &mut self,
        township_id: Uuid,
        branch_id: Uuid,
    ) -> Result<Vec<Uuid>, ApiError> {
        if let Some(secretaries) = self.secretaries.get(&(township_id, branch_id)) {
            return Ok(secretaries.clone());
        }
        let secretaries: Vec<Uuid> = user::Entity::find()
            .filter(user::Column::TownshipId.eq(township_id))
            .filter(user::Column::Active.eq(true))
            .filter(user::Column::BranchId.eq(branch_id))
            .filter(user::Column::Role.eq(Role::Secretary.as_str()))
            .all(self.db)
            .await?
            .into_iter()
            .map(|u| u.id)
            .collect();
        self.secretaries
            .insert((township_id, branch_id), secretaries.clone());
        Ok(secretaries)
    }

    /// Who owns a pledge: a member pledge's author; a branch pledge's active
    /// secretaries (its author, when the branch has none).
    async fn owners_of(
        &mut self,
        township_id: Uuid,
        told: &ToPledgeOwner,
    ) -> Result<Vec<Uuid>, ApiError> {
        if told.scope == PledgeScope::Member {
            return Ok(vec![told.author_id]);
        }
        let secretaries = self.secretaries_of(township_id, told.branch_id).await?;
        if secretaries.is_empty() {
            Ok(vec![told.author_id])
        } else {
            Ok(secretaries)
        }
    }

    /// The branch's active secretaries other than the author (`Uuid::nil()`:
    /// none excluded); failing those, the township's active admins.
    async fn reviewers_of(
        &mut self,
        township_id: Uuid,
        branch_id: Uuid,
        author_id: Uuid,
    ) -> Result<Vec<Uuid>, ApiError> {
        let others = |ids: Vec<Uuid>| -> Vec<Uuid> {
            ids.into_iter().filter(|id| *id != author_id).collect()
        };
        let secretaries = others(self.secretaries_of(township_id, branch_id).await?);
        if !secretaries.is_empty() {
            return Ok(secretaries);
        }
        Ok(others(self.admins_of(township_id).await?))
    }

    async fn name_of(&mut self, user_id: Uuid) -> Result<String, ApiError> {
        if let Some(name) = self.names.get(&user_id) {
            return Ok(name.clone());
        }
        let name = user::Entity::find_by_id(user_id)
            .one(self.db)
            .await?
            .map(|u| u.name)
            .unwrap_or_default();
        self.names.insert(user_id, name.clone());
        Ok(name)
    }
}

/// What a rectification event carries.
#[derive(Debug, Deserialize)]
struct RectificationEvent {
    branch_id: Uuid,
    #[serde(default)]
    title: String,
    deadline: Option<chrono::DateTime<chrono::Utc>>,
    comment: Option<String>,
}

/// A rectification's steps: its report goes to the township admins; its
/// assignment, closing, reopening and lapse to the branch's secretaries.
async fn rectification_messages<C: ConnectionTrait>(
    people: &mut People<'_, C>,
    event: &outbox_event::Model,
) -> Result<Vec<Message>, ApiError> {
    let db = people.db;
    let Ok(told) = serde_json::from_value::<RectificationEvent>(event.payload.clone()) else {
        return Ok(Vec::new());
    };
    let deadline = match told.deadline {
        Some(at) => local_day(db, event.township_id, at).await?,
        None => String::new(),
    };
    let item = &told.title;
    let reason = opinion(told.comment.as_deref());
    let (title, body) = match event.kind.as_str() {
        "rectification.created" => (
            "新的整改事项",
            format!("乡党委交办整改事项：{item}，请于{deadline}前整改并报告整改情况"),
        ),
        "rectification.reported" => {
            let branch = branch::Entity::find_by_id(told.branch_id)
                .one(db)
                .await?
                .map(|b| b.name)
                .unwrap_or_default();
            let body = format!("{branch}报告了整改事项“{item}”的整改情况，请验收");
            let admins = people.admins_of(event.township_id).await?;
            return Ok(to_each(admins, "整改情况待验收", &body));
        }
        "rectification.closed" => (
            "整改事项已销号",
            format!("整改事项“{item}”已通过验收销号{reason}"),
        ),
        "rectification.reopened" => (
            "整改事项被退回",
            format!("整改事项“{item}”未通过验收，请继续整改并于{deadline}前重新报告{reason}"),
        ),
        "rectification.overdue" => (
            "整改事项已逾期",
            format!("整改事项已逾期：{item}（整改期限{deadline}），请尽快整改并报告"),
        ),
        _ => return Ok(Vec::new()),
    };
    let secretaries = people
        .secretaries_of(event.township_id, told.branch_id)
        .await?;
    Ok(to_each(secretaries, title, &body))
}

/// What a phase's start carries.
#[derive(Debug, Deserialize)]
struct PhaseStarted {
    #[serde(default)]
    campaign_name: String,
    #[serde(default)]
    name: String,
    starts_on: chrono::NaiveDate,
    ends_on: chrono::NaiveDate,
    #[serde(default)]
    open_kinds: Vec<crate::domain::campaign::SubmissionKind>,
}

/// A campaign phase has started: everyone active in the township is told,
/// with what the phase takes.
async fn phase_started_messages<C: ConnectionTrait>(
    people: &mut People<'_, C>,
    event: &outbox_event::Model,
) -> Result<Vec<Message>, ApiError> {
    let Ok(told) = serde_json::from_value::<PhaseStarted>(event.payload.clone()) else {
        return Ok(Vec::new());
    };
    let taken: Vec<&str> = told.open_kinds.iter().map(|k| k.label()).collect();
    let taken = if taken.is_empty() {
        "本阶段暂停提交走访记录、矛盾纠纷调解记录和承诺".to_owned()
    } else {
        format!("本阶段接受{}", taken.join("、"))
    };
    let body = format!(
        "{}进入“{}”阶段（{} 至 {}），{taken}",
        told.campaign_name, told.name, told.starts_on, told.ends_on
    );
    let everyone: Vec<Uuid> = user::Entity::find()
        .filter(user::Column::TownshipId.eq(event.township_id))
        .filter(user::Column::Active.eq(true))
        .all(people.db)
        .await?
        .into_iter()
        .map(|u| u.id)
        .collect();
    Ok(to_each(everyone, "活动进入新阶段", &body))
}

/// What an assessment event carries; fields absent from a kind stay `None`.
#[derive(Debug, Deserialize)]
struct AssessmentEvent {
    year: Option<i32>,
    branch_id: Option<Uuid>,
    closes_at: Option<chrono::DateTime<chrono::Utc>>,
    appeal_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The year-end assessment: a ballot round opening and a result published
/// reach every member and secretary of the township; an objection the
/// township admins; its answer the branch's secretaries.
async fn assessment_messages<C: ConnectionTrait>(
    people: &mut People<'_, C>,
    event: &outbox_event::Model,
) -> Result<Vec<Message>, ApiError> {
    let db = people.db;
    let Ok(told) = serde_json::from_value::<AssessmentEvent>(event.payload.clone()) else {
        return Ok(Vec::new());
    };
    let year = told.year.map(|y| format!("{y}年度")).unwrap_or_default();
    let everyone = || async {
        Ok::<Vec<Uuid>, ApiError>(
            user::Entity::find()
                .filter(user::Column::TownshipId.eq(event.township_id))
                .filter(user::Column::Active.eq(true))
                .filter(user::Column::Role.is_in([Role::Member.as_str(), Role::Secretary.as_str()]))
                .all(db)
                .await?
                .into_iter()
                .map(|u| u.id)
                .collect(),
        )
    };
    match event.kind.as_str() {
        "assessment.ballot_opened" => {
            let until = match told.closes_at {
                Some(at) => format!(
                    "，请于{}前投票",
                    local_day(db, event.township_id, at).await?
                ),
                None => String::new(),
            };
            let body = format!("{year}党员代表测评已开始{until}");
            Ok(to_each(everyone().await?, "考核测评开始", &body))
        }
        "assessment.result_published" => {
            let until = match told.appeal_until {
                Some(at) => format!(
                    "，如有异议请于{}前提出申诉",
                    local_day(db, event.township_id, at).await?
                ),
                None => String::new(),
            };
            let body = format!("{year}考核结果已公布{until}");
            Ok(to_each(everyone().await?, "考核结果公布", &body))
        }
        "assessment.appealed" => {
            let branch = match told.branch_id {
                Some(id) => branch::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .map(|b| b.name)
                    .unwrap_or_default(),
                None => String::new(),
            };
            let body = format!("{branch}对{year}考核结果提出申诉，请答复");
            let admins = people.admins_of(event.township_id).await?;
            Ok(to_each(admins, "考核结果申诉", &body))
        }
        "assessment.appeal_answered" => {
            let Some(branch_id) = told.branch_id else {
                return Ok(Vec::new());
            };
            let secretaries = people.secretaries_of(event.township_id, branch_id).await?;
            Ok(to_each(
                secretaries,
                "申诉已答复",
                "乡党委已答复本支部的考核结果申诉",
            ))
        }
        _ => Ok(Vec::new()),
    }
}

/// "2026年12月31日": the day of `at` in the township's time zone.
async fn local_day(
    db: &impl ConnectionTrait,
    township_id: Uuid,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<String, ApiError> {
    use chrono::Datelike;
    let zone = crate::entities::township::Entity::find_by_id(township_id)
        .one(db)
        .await?
        .map(|t| crate::domain::buckets::zone(&t.timezone))
        .unwrap_or(chrono_tz::Asia::Shanghai);
    let day = crate::domain::buckets::local_date(at, zone);
    Ok(format!("{}年{}月{}日", day.year(), day.month(), day.day()))
}
