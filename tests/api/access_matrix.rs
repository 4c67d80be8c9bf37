//! The access matrix: role × (own branch, other branch, other township) ×
//! endpoint, each cell the status SPEC §3 implies. Out of reach is 404;
//! within reach but not permitted is 403.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::*;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Role {
    Member,
    Secretary,
    Admin,
}

#[derive(Clone, Copy, Debug)]
enum Target {
    OwnBranch,
    OtherBranch,
    OtherTownship,
}

/// Pending submissions made in a target branch by its second member.
struct Subjects {
    visit: Uuid,
    report: Uuid,
    /// A member pledge, pending.
    pledge: Uuid,
    /// An open spot check of the target's township that sampled only the
    /// target branch, and its item.
    spot_check: Uuid,
    spot_item: Uuid,
    /// An open rectification assigned to the target branch.
    rectification: Uuid,
    /// A campaign of the target's township in a year of its own, its one
    /// phase (January to March), and a later year free for another.
    campaign: Uuid,
    phase: Uuid,
    free_year: i32,
    /// An open ballot round and a published snapshot of an assessment of
    /// the target's township (one of its own year per target).
    round: Uuid,
    snapshot: Uuid,
}

/// One endpoint applied to a target branch and the submissions made there:
/// method, path, body.
struct Call {
    name: &'static str,
    make: fn(&Branch, &Subjects) -> (Method, String, Option<Value>),
    /// Expected status for [own branch, other branch, other township], per role.
    member: [u16; 3],
    secretary: [u16; 3],
    admin: [u16; 3],
}

fn calls() -> Vec<Call> {
    vec![
        Call {
            name: "GET /branches/{id}",
            make: |b, _| {
                (
                    Method::GET,
                    format!("/api/v1/branches/{}", b.branch.id),
                    None,
                )
            },
            member: [200, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "PATCH /branches/{id}",
            make: |b, _| {
                (
                    Method::PATCH,
                    format!("/api/v1/branches/{}", b.branch.id),
                    Some(json!({ "kind": "other" })),
                )
            },
            member: [403, 404, 404],
            secretary: [403, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /users/{id}",
            make: |b, _| {
                (
                    Method::GET,
                    format!("/api/v1/users/{}", b.members[1].id),
                    None,
                )
            },
            member: [200, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "PATCH /users/{id}",
            make: |b, _| {
                (
                    Method::PATCH,
                    format!("/api/v1/users/{}", b.members[1].id),
                    Some(json!({ "name": "改" })),
                )
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /users",
            make: |b, _| {
                let body = json!({ "name": "新", "phone": unique_phone(), "role": "member", "branch_id": b.branch.id });
                (Method::POST, "/api/v1/users".into(), Some(body))
            },
            member: [403, 403, 403],
            secretary: [201, 403, 403],
            admin: [201, 201, 422],
        },
        Call {
            name: "POST /users/{id}/activation-code",
            make: |b, _| {
                (
                    Method::POST,
                    format!("/api/v1/users/{}/activation-code", b.members[1].id),
                    None,
                )
            },
            member: [403, 404, 404],
            secretary: [201, 404, 404],
            admin: [201, 201, 404],
        },
        Call {
            name: "GET /households/{id}",
            make: |b, _| {
                (
                    Method::GET,
                    format!("/api/v1/households/{}", b.households[1].id),
                    None,
                )
            },
            member: [200, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "PATCH /households/{id}",
            make: |b, _| {
                (
                    Method::PATCH,
                    format!("/api/v1/households/{}", b.households[1].id),
                    Some(json!({ "address": "新址" })),
                )
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /households",
            make: |b, _| {
                (
                    Method::POST,
                    "/api/v1/households".into(),
                    Some(
                        json!({ "branch_id": b.branch.id, "head_name": "新户", "address": "新址" }),
                    ),
                )
            },
            member: [403, 403, 403],
            secretary: [201, 403, 403],
            admin: [201, 201, 422],
        },
        Call {
            name: "POST /households/{id}/assignees",
            make: |b, _| {
                (
                    Method::POST,
                    format!("/api/v1/households/{}/assignees", b.households[1].id),
                    Some(json!({ "member_id": b.members[1].id })),
                )
            },
            member: [403, 404, 404],
            secretary: [201, 404, 404],
            admin: [201, 201, 404],
        },
        Call {
            name: "POST /visits",
            make: |b, _| {
                let body = json!({
                    "household_id": b.households[0].id, "kind": "other", "visited_at": chrono::Utc::now().to_rfc3339(),
                    "location": { "lat": 30.0, "lng": 120.0 }, "summary": "走访"
                });
                (Method::POST, "/api/v1/visits".into(), Some(body))
            },
            // Members and secretaries check in at their own branch's households only.
            member: [201, 422, 422],
            secretary: [201, 422, 422],
            admin: [403, 403, 403],
        },
        Call {
            name: "GET /visits/{id} (a colleague's pending visit)",
            make: |_, s| (Method::GET, format!("/api/v1/visits/{}", s.visit), None),
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /visits/{id}/history",
            make: |_, s| {
                (
                    Method::GET,
                    format!("/api/v1/visits/{}/history", s.visit),
                    None,
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "PATCH /visits/{id} (someone else's)",
            make: |_, s| {
                let visit = s.visit;
                (
                    Method::PATCH,
                    format!("/api/v1/visits/{visit}"),
                    Some(json!({ "summary": "改" })),
                )
            },
            member: [404, 404, 404],
            secretary: [403, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "POST /visits/{id}/review",
            make: |_, s| {
                let visit = s.visit;
                (
                    Method::POST,
                    format!("/api/v1/visits/{visit}/review"),
                    Some(json!({ "decision": "approve" })),
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /mediation-reports/{id}",
            make: |_, s| {
                let report = s.report;
                (
                    Method::GET,
                    format!("/api/v1/mediation-reports/{report}"),
                    None,
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "PATCH /mediation-reports/{id}",
            make: |_, s| {
                let report = s.report;
                (
                    Method::PATCH,
                    format!("/api/v1/mediation-reports/{report}"),
                    Some(json!({ "title": "改" })),
                )
            },
            member: [404, 404, 404],
            secretary: [403, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "POST /mediation-reports/{id}/review",
            make: |_, s| {
                let report = s.report;
                (
                    Method::POST,
                    format!("/api/v1/mediation-reports/{report}/review"),
                    Some(json!({ "decision": "approve" })),
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /mediation-reports/{id}/escalate",
            make: |_, s| {
                let report = s.report;
                (
                    Method::POST,
                    format!("/api/v1/mediation-reports/{report}/escalate"),
                    Some(json!({ "reason": "需乡里协调" })),
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            // Admins pass the permission check and meet the state check: this
            // world's reports were never escalated.
            name: "POST /mediation-reports/{id}/escalation",
            make: |_, s| {
                let report = s.report;
                (
                    Method::POST,
                    format!("/api/v1/mediation-reports/{report}/escalation"),
                    Some(json!({ "action": "acknowledge" })),
                )
            },
            member: [404, 404, 404],
            secretary: [403, 404, 404],
            admin: [409, 409, 404],
        },
        Call {
            name: "POST /mediation-reports/{id}/follow-ups",
            make: |_, s| {
                let report = s.report;
                let body = json!({ "visited_at": chrono::Utc::now().to_rfc3339(), "note": "回访", "outcome": "unresolved" });
                (
                    Method::POST,
                    format!("/api/v1/mediation-reports/{report}/follow-ups"),
                    Some(body),
                )
            },
            member: [404, 404, 404],
            secretary: [201, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "GET /mediation-reports/{id}/history",
            make: |_, s| {
                let report = s.report;
                (
                    Method::GET,
                    format!("/api/v1/mediation-reports/{report}/history"),
                    None,
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /escalations",
            make: |_, _| (Method::GET, "/api/v1/escalations".into(), None),
            member: [403, 403, 403],
            secretary: [403, 403, 403],
            admin: [200, 200, 200],
        },
        Call {
            name: "GET /pledges/{id}",
            make: |_, s| (Method::GET, format!("/api/v1/pledges/{}", s.pledge), None),
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /pledges/{id}/review",
            make: |_, s| {
                let body = json!({ "decision": "approve" });
                (
                    Method::POST,
                    format!("/api/v1/pledges/{}/review", s.pledge),
                    Some(body),
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            // Progress is its owner's: the pledge's author, here a branch mate.
            name: "POST /pledges/{id}/progress",
            make: |_, s| {
                let body = json!({ "note": "本月走访3户" });
                (
                    Method::POST,
                    format!("/api/v1/pledges/{}/progress", s.pledge),
                    Some(body),
                )
            },
            member: [404, 404, 404],
            secretary: [403, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "POST /pledges/{id}/comments",
            make: |_, s| {
                let body = json!({ "body": "措施具体，望抓好落实" });
                (
                    Method::POST,
                    format!("/api/v1/pledges/{}/comments", s.pledge),
                    Some(body),
                )
            },
            member: [404, 404, 404],
            secretary: [403, 404, 404],
            admin: [201, 201, 404],
        },
        Call {
            name: "PUT /pledges/{id}/rating",
            make: |_, s| {
                let body = json!({ "score": 4 });
                (
                    Method::PUT,
                    format!("/api/v1/pledges/{}/rating", s.pledge),
                    Some(body),
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "POST /pledges/{id}/fulfil",
            make: |_, s| {
                let body = json!({ "note": "已兑现" });
                (
                    Method::POST,
                    format!("/api/v1/pledges/{}/fulfil", s.pledge),
                    Some(body),
                )
            },
            member: [404, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /stats/overview?branch_id",
            make: |b, _| {
                let path = format!("/api/v1/stats/overview?branch_id={}", b.branch.id);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /stats/members?branch_id",
            make: |b, _| {
                let path = format!("/api/v1/stats/members?branch_id={}", b.branch.id);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /stats/members/export?branch_id",
            make: |b, _| {
                let path = format!("/api/v1/stats/members/export?branch_id={}", b.branch.id);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /spot-checks",
            make: |_, _| (Method::GET, "/api/v1/spot-checks".into(), None),
            member: [403, 403, 403],
            secretary: [200, 200, 200],
            admin: [200, 200, 200],
        },
        Call {
            // Admins pass the permission check and meet the state check:
            // nothing was approved before 2000.
            name: "POST /spot-checks",
            make: |_, _| {
                let body = json!({ "percent": 10, "to": "2000-01-01T00:00:00Z" });
                (Method::POST, "/api/v1/spot-checks".into(), Some(body))
            },
            member: [403, 403, 403],
            secretary: [403, 403, 403],
            admin: [409, 409, 409],
        },
        Call {
            name: "GET /spot-checks/branches",
            make: |_, _| (Method::GET, "/api/v1/spot-checks/branches".into(), None),
            member: [403, 403, 403],
            secretary: [200, 200, 200],
            admin: [200, 200, 200],
        },
        Call {
            name: "GET /spot-checks/{id}",
            make: |_, s| {
                let path = format!("/api/v1/spot-checks/{}", s.spot_check);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /spot-checks/{id}/branches",
            make: |_, s| {
                let path = format!("/api/v1/spot-checks/{}/branches", s.spot_check);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /spot-checks/{id}/items/{item_id}/verification",
            make: |_, s| {
                let path = format!(
                    "/api/v1/spot-checks/{}/items/{}/verification",
                    s.spot_check, s.spot_item
                );
                (Method::POST, path, Some(json!({ "outcome": "confirmed" })))
            },
            member: [403, 404, 404],
            secretary: [403, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /spot-checks/{id}/close",
            make: |_, s| {
                let path = format!("/api/v1/spot-checks/{}/close", s.spot_check);
                (Method::POST, path, None)
            },
            member: [403, 404, 404],
            secretary: [403, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /rectifications",
            make: |b, _| {
                let deadline = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
                let body = json!({ "branch_id": b.branch.id, "title": "整改", "description": "说明", "deadline": deadline });
                (Method::POST, "/api/v1/rectifications".into(), Some(body))
            },
            member: [403, 403, 403],
            secretary: [403, 403, 403],
            admin: [201, 201, 422],
        },
        Call {
            name: "GET /rectifications?branch_id",
            make: |b, _| {
                let path = format!("/api/v1/rectifications?branch_id={}", b.branch.id);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /rectifications/{id}",
            make: |_, s| {
                let path = format!("/api/v1/rectifications/{}", s.rectification);
                (Method::GET, path, None)
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /rectifications/{id}/report",
            make: |_, s| {
                let path = format!("/api/v1/rectifications/{}/report", s.rectification);
                (Method::POST, path, Some(json!({ "note": "已整改" })))
            },
            member: [403, 404, 404],
            secretary: [200, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            // Admins pass the permission check and meet the state check:
            // their own role never reports, so nothing is reported to decide.
            name: "POST /rectifications/{id}/reopen",
            make: |_, s| {
                let path = format!("/api/v1/rectifications/{}/reopen", s.rectification);
                (Method::POST, path, Some(json!({ "comment": "不到位" })))
            },
            member: [403, 404, 404],
            secretary: [403, 404, 404],
            admin: [409, 409, 404],
        },
        Call {
            name: "POST /rectifications/{id}/close",
            make: |_, s| {
                let path = format!("/api/v1/rectifications/{}/close", s.rectification);
                (Method::POST, path, Some(json!({})))
            },
            member: [403, 404, 404],
            secretary: [403, 404, 404],
            admin: [409, 409, 404],
        },
        Call {
            name: "GET /campaigns/{id}",
            make: |_, s| {
                (
                    Method::GET,
                    format!("/api/v1/campaigns/{}", s.campaign),
                    None,
                )
            },
            member: [200, 200, 404],
            secretary: [200, 200, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /campaigns",
            make: |_, s| {
                let y = s.free_year;
                let body = json!({ "name": "活动", "starts_on": format!("{y}-01-01"), "ends_on": format!("{y}-12-31") });
                (Method::POST, "/api/v1/campaigns".into(), Some(body))
            },
            member: [403, 403, 403],
            secretary: [403, 403, 403],
            admin: [201, 201, 201],
        },
        Call {
            name: "PATCH /campaigns/{id}",
            make: |_, s| {
                let path = format!("/api/v1/campaigns/{}", s.campaign);
                (Method::PATCH, path, Some(json!({ "name": "改" })))
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /campaigns/{id}/phases",
            make: |_, s| {
                let path = format!("/api/v1/campaigns/{}/phases", s.campaign);
                let y = s.free_year - FREE_YEARS;
                let body = json!({ "name": "组织实施", "starts_on": format!("{y}-04-01"), "ends_on": format!("{y}-06-30") });
                (Method::POST, path, Some(body))
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            admin: [201, 201, 404],
        },
        Call {
            name: "PATCH /campaigns/{id}/phases/{phase_id}",
            make: |_, s| {
                let path = format!("/api/v1/campaigns/{}/phases/{}", s.campaign, s.phase);
                (
                    Method::PATCH,
                    path,
                    Some(json!({ "open_kinds": ["visit"] })),
                )
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "GET /stats/overview?phase_id",
            make: |_, s| {
                let path = format!("/api/v1/stats/overview?phase_id={}", s.phase);
                (Method::GET, path, None)
            },
            member: [403, 403, 404],
            secretary: [200, 200, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "DELETE /households/{id}/assignees/{member_id}",
            make: |b, _| {
                (
                    Method::DELETE,
                    format!(
                        "/api/v1/households/{}/assignees/{}",
                        b.households[0].id, b.members[0].id
                    ),
                    None,
                )
            },
            member: [403, 404, 404],
            secretary: [204, 404, 404],
            admin: [204, 204, 404],
        },
        // The audit log is the township office's: its admins read their own
        // township's (whose rows other townships never see: see
        // `audit::audit_log_never_shows_another_townships_entries`).
        Call {
            name: "GET /audit",
            make: |_, _| (Method::GET, "/api/v1/audit".into(), None),
            member: [403, 403, 403],
            secretary: [403, 403, 403],
            admin: [200, 200, 200],
        },
        Call {
            name: "GET /audit?subject_kind&subject_id",
            make: |b, _| {
                let path = format!(
                    "/api/v1/audit?subject_kind=household&subject_id={}",
                    b.households[0].id
                );
                (Method::GET, path, None)
            },
            member: [403, 403, 403],
            secretary: [403, 403, 403],
            admin: [200, 200, 200],
        },
        Call {
            name: "POST /assessment-rounds/{id}/ballots",
            make: |b, s| {
                (
                    Method::POST,
                    format!("/api/v1/assessment-rounds/{}/ballots", s.round),
                    Some(json!({ "branch_id": b.branch.id, "scores": {
                        "leadership": 5, "membership": 4, "mechanism": 4, "performance": 5, "reputation": 4
                    } })),
                )
            },
            member: [201, 404, 404],
            secretary: [201, 404, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "GET /assessment-snapshots/{id}/results?branch_id",
            make: |b, s| {
                (
                    Method::GET,
                    format!(
                        "/api/v1/assessment-snapshots/{}/results?branch_id={}",
                        s.snapshot, b.branch.id
                    ),
                    None,
                )
            },
            member: [200, 404, 404],
            secretary: [200, 404, 404],
            admin: [200, 200, 404],
        },
        Call {
            // An objection is always the caller's own branch's.
            name: "POST /assessment-snapshots/{id}/appeals",
            make: |_, s| {
                (
                    Method::POST,
                    format!("/api/v1/assessment-snapshots/{}/appeals", s.snapshot),
                    Some(json!({ "reason": "结果有误" })),
                )
            },
            member: [403, 403, 404],
            secretary: [201, 201, 404],
            admin: [403, 403, 404],
        },
        Call {
            name: "GET /assessment-snapshots/{id}/appeals",
            make: |_, s| {
                (
                    Method::GET,
                    format!("/api/v1/assessment-snapshots/{}/appeals", s.snapshot),
                    None,
                )
            },
            member: [403, 403, 404],
            secretary: [200, 200, 404],
            admin: [200, 200, 404],
        },
        Call {
            name: "POST /assessment-snapshots/{id}/publish",
            make: |_, s| {
                (
                    Method::POST,
                    format!("/api/v1/assessment-snapshots/{}/publish", s.snapshot),
                    Some(json!({})),
                )
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            // Published already: the admin reaches it and is told so.
            admin: [409, 409, 404],
        },
        Call {
            name: "GET /assessment-snapshots/{id}/commendations/proposal",
            make: |_, s| {
                (
                    Method::GET,
                    format!(
                        "/api/v1/assessment-snapshots/{}/commendations/proposal",
                        s.snapshot
                    ),
                    None,
                )
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            admin: [200, 200, 404],
        },
        // Deletions last: the rows above use what they delete.
        Call {
            name: "DELETE /campaigns/{id}/phases/{phase_id}",
            make: |_, s| {
                let path = format!("/api/v1/campaigns/{}/phases/{}", s.campaign, s.phase);
                (Method::DELETE, path, None)
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            admin: [204, 204, 404],
        },
        Call {
            name: "DELETE /campaigns/{id}",
            make: |_, s| {
                (
                    Method::DELETE,
                    format!("/api/v1/campaigns/{}", s.campaign),
                    None,
                )
            },
            member: [403, 403, 404],
            secretary: [403, 403, 404],
            admin: [204, 204, 404],
        },
    ]
}

/// How far after a subject campaign's year the free year lies.
const FREE_YEARS: i32 = 40;

/// The next year no subject campaign has taken (campaigns of a township
/// may not overlap, and tests share this process).
fn next_year() -> i32 {
    static NEXT: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(2031);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// A campaign of the branch's township over `year`, with one phase from
/// January to March taking everything; made through the repositories.
async fn campaign_of(app: &TestApp, branch: &Branch, year: i32) -> (Uuid, Uuid) {
    use xianfeng::domain::campaign::{Admission, Days, KindDeadlines, SubmissionKind};
    use xianfeng::features::campaigns::dto::{CampaignPlan, PhasePlan};
    let date = |m, d| chrono::NaiveDate::from_ymd_opt(year, m, d).unwrap();
    let plan = CampaignPlan {
        name: "创先争优活动".into(),
        description: String::new(),
        days: Days {
            starts_on: date(1, 1),
            ends_on: date(12, 31),
        },
        phases: Vec::new(),
    };
    let now = xianfeng::platform::db::now();
    let admin = admin_of(app, branch);
    let made = xianfeng::features::campaigns::repo::insert_campaign(&app.db, &admin, &plan, now)
        .await
        .unwrap();
    let phase = PhasePlan {
        name: "动员部署".into(),
        description: String::new(),
        days: Days {
            starts_on: date(1, 1),
            ends_on: date(3, 31),
        },
        admission: Admission {
            open_kinds: SubmissionKind::ALL.to_vec(),
            deadlines: KindDeadlines::default(),
        },
    };
    let phase = xianfeng::features::campaigns::repo::insert_phase(
        &app.db,
        &made,
        &phase,
        chrono_tz::Asia::Shanghai,
        now,
    )
    .await
    .unwrap();
    (made.id, phase.id)
}

/// Pending submissions by the branch's second member, made through the repositories.
async fn pending_subjects(app: &TestApp, branch: &Branch) -> Subjects {
    let author = &branch.members[1];
    let actor = xianfeng::core::Actor {
        user_id: author.id,
        township_id: author.township_id,
        branch_id: author.branch_id,
        role: xianfeng::domain::Role::Member,
        request_id: None,
    };
    let visit = pending_visit(app, branch, &actor).await;
    let (spot_check, spot_item) = spot_check_of(app, branch, visit).await;
    let year = next_year();
    let (campaign, phase) = campaign_of(app, branch, year).await;
    let (round, snapshot) = assessment_of(app, branch).await;
    Subjects {
        campaign,
        phase,
        free_year: year + FREE_YEARS,
        visit,
        report: pending_report(app, branch, &actor).await,
        pledge: pending_pledge(app, branch, &actor).await,
        spot_check,
        spot_item,
        rectification: open_rectification(app, branch).await,
        round,
        snapshot,
    }
}

/// Years of the assessments made for the matrix, one per target.
static ASSESSMENT_YEARS: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(2001);

/// An assessment of the branch's township with an open round and a
/// published snapshot, made through the API as the township's admin.
async fn assessment_of(app: &TestApp, branch: &Branch) -> (Uuid, Uuid) {
    let admin = if branch.branch.township_id == app.world.a.township.id {
        &app.world.a.admin
    } else {
        &app.world.b.admin
    };
    let year = ASSESSMENT_YEARS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = |v: Value| v["id"].as_str().unwrap().parse::<Uuid>().unwrap();
    let assessment = id(json_of(
        app.post(
            "/api/v1/assessments",
            admin,
            json!({
                "year": year,
                "branch_components": [{"kind": "representative_ballot", "weight": 100}],
                "member_components": [{"kind": "peer_rating", "weight": 100}]
            }),
        )
        .await,
    )
    .await);
    let closes = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let round = id(json_of(
        app.post(
            &format!("/api/v1/assessments/{assessment}/rounds"),
            admin,
            json!({ "closes_at": closes }),
        )
        .await,
    )
    .await);
    let snapshot = id(json_of(
        app.post(
            &format!("/api/v1/assessments/{assessment}/snapshots"),
            admin,
            json!({}),
        )
        .await,
    )
    .await);
    app.post(
        &format!("/api/v1/assessment-snapshots/{snapshot}/publish"),
        admin,
        json!({}),
    )
    .await;
    (round, snapshot)
}

/// The admin of the branch's township, as an actor.
fn admin_of(app: &TestApp, branch: &Branch) -> xianfeng::core::Actor {
    let town = if branch.branch.township_id == app.world.a.township.id {
        &app.world.a
    } else {
        &app.world.b
    };
    xianfeng::core::Actor {
        user_id: town.admin.id,
        township_id: town.township.id,
        branch_id: None,
        role: xianfeng::domain::Role::TownshipAdmin,
        request_id: None,
    }
}

/// A spot check of the branch's township sampling `subject` of the branch alone.
async fn spot_check_of(app: &TestApp, branch: &Branch, subject: Uuid) -> (Uuid, Uuid) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use xianfeng::domain::supervision::{Candidate, Percent, SampledKind};
    let draw = xianfeng::features::spot_checks::dto::Draw {
        percent: Percent::parse("percent", 10.0).unwrap(),
        from: None,
        to: None,
        seed: Some(1),
        kinds: vec![SampledKind::Visit],
    };
    let sample = [Candidate {
        branch_id: branch.branch.id,
        id: subject,
        kind: SampledKind::Visit,
    }];
    let check = xianfeng::features::spot_checks::repo::insert(
        &app.db,
        &admin_of(app, branch),
        &draw,
        1,
        &sample,
        xianfeng::platform::db::now(),
    )
    .await
    .unwrap();
    let item = xianfeng::entities::spot_check_item::Entity::find()
        .filter(xianfeng::entities::spot_check_item::Column::SpotCheckId.eq(check.id))
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    (check.id, item.id)
}

async fn open_rectification(app: &TestApp, branch: &Branch) -> Uuid {
    let now = xianfeng::platform::db::now();
    xianfeng::features::rectifications::repo::insert(
        &app.db,
        &admin_of(app, branch),
        xianfeng::features::rectifications::repo::NewRectification {
            branch_id: branch.branch.id,
            spot_check_item_id: None,
            title: "走访台账不规范",
            description: "补齐走访记录",
            deadline: now + chrono::Duration::days(7),
        },
        now,
    )
    .await
    .unwrap()
    .id
}

async fn pending_pledge(app: &TestApp, branch: &Branch, actor: &xianfeng::core::Actor) -> Uuid {
    let content = xianfeng::features::pledges::dto::PledgeContent::parse(
        chrono::Datelike::year(&chrono::Utc::now()),
        "亮身份、作表率",
        "每月走访包联户",
        vec![xianfeng::domain::pledge::Target {
            description: "走访12次".into(),
            due_date: None,
            metric: None,
        }],
        None,
        None,
    )
    .unwrap();
    xianfeng::features::pledges::repo::insert(
        &app.db,
        actor,
        branch.branch.id,
        xianfeng::domain::PledgeScope::Member,
        &content,
        xianfeng::platform::db::now(),
    )
    .await
    .unwrap()
    .id
}

async fn pending_report(app: &TestApp, branch: &Branch, actor: &xianfeng::core::Actor) -> Uuid {
    use xianfeng::domain::mediation::{DisputeCategory, MediationOutcome, RiskLevel};
    let content = xianfeng::features::mediation::dto::ReportContent {
        title: "邻里纠纷".into(),
        category: DisputeCategory::Neighbourhood,
        parties: vec![xianfeng::features::mediation::dto::Party {
            name: "王某".into(),
            role: None,
            phone: None,
        }],
        description: "争执".into(),
        occurred_at: xianfeng::platform::db::now(),
        location: None,
        household_ids: Vec::new(),
        process: "调解".into(),
        outcome: MediationOutcome::PartiallyResolved,
        agreement: None,
        risk_level: RiskLevel::Low,
        photo_ids: Vec::new(),
    };
    let submitted = xianfeng::features::mediation::repo::Submitted {
        branch_id: branch.branch.id,
        now: xianfeng::platform::db::now(),
        follow_up_due_at: None,
    };
    xianfeng::features::mediation::repo::insert(&app.db, actor, &content, &submitted)
        .await
        .unwrap()
        .id
}

async fn pending_visit(app: &TestApp, branch: &Branch, actor: &xianfeng::core::Actor) -> Uuid {
    let content = xianfeng::features::visits::dto::VisitContent {
        household_id: branch.households[1].id,
        kind: xianfeng::domain::VisitKind::Assistance,
        visited_at: xianfeng::platform::db::now(),
        location: xianfeng::domain::Location {
            lat: 30.0,
            lng: 120.0,
            accuracy_m: None,
            coord_system: Default::default(),
        },
        summary: "走访".into(),
        needs: Vec::new(),
        follow_up: false,
        photo_ids: Vec::new(),
    };
    let mut batch = xianfeng::platform::db::Batch::default();
    let visit = xianfeng::features::visits::repo::insert(
        &mut batch,
        actor,
        branch.branch.id,
        &content,
        None,
        &[],
        xianfeng::platform::db::now(),
    );
    batch.write(&app.db).await.unwrap();
    visit.id
}

async fn check_role(role: Role) {
    // A fresh world per role, so one role's changes cannot decide another's cells.
    let app = spawn_app().await;
    let own = &app.world.a.branches[0];
    let caller = match role {
        Role::Member => &own.members[0],
        Role::Secretary => &own.secretary,
        Role::Admin => &app.world.a.admin,
    };
    let targets = [
        (Target::OwnBranch, &app.world.a.branches[0]),
        (Target::OtherBranch, &app.world.a.branches[1]),
        (Target::OtherTownship, &app.world.b.branches[0]),
    ];
    let mut subjects = Vec::new();
    for (_, branch) in &targets {
        subjects.push(pending_subjects(&app, branch).await);
    }
    let mut wrong = Vec::new();
    for call in calls() {
        let expected = match role {
            Role::Member => call.member,
            Role::Secretary => call.secretary,
            Role::Admin => call.admin,
        };
        for (i, (target, branch)) in targets.iter().enumerate() {
            let (method, path, body) = (call.make)(branch, &subjects[i]);
            let mut request = app.request(method, &path, Some(caller));
            if let Some(body) = body {
                request = request.json(&body);
            }
            let status = request.send().await.unwrap().status().as_u16();
            if status != expected[i] {
                wrong.push(format!(
                    "{role:?} {} on {target:?}: expected {}, got {status}",
                    call.name, expected[i]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "access matrix cells wrong:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test]
async fn access_matrix_for_members() {
    check_role(Role::Member).await;
}

#[tokio::test]
async fn access_matrix_for_secretaries() {
    check_role(Role::Secretary).await;
}

#[tokio::test]
async fn access_matrix_for_township_admins() {
    check_role(Role::Admin).await;
}

#[tokio::test]
async fn anonymous_callers_get_401_everywhere() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let subjects = pending_subjects(&app, branch).await;
    for call in calls() {
        let (method, path, body) = (call.make)(branch, &subjects);
        let mut request = app.request(method, &path, None);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{}", call.name);
    }
}

#[tokio::test]
async fn lists_never_show_another_townships_rows() {
    let app = spawn_app().await;
    let foreign_ids: Vec<String> = [
        app.world.b.branches[0].branch.id,
        app.world.b.branches[0].members[0].id,
        app.world.b.branches[0].households[0].id,
        app.world.b.admin.id,
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    for path in [
        "/api/v1/branches",
        "/api/v1/users",
        "/api/v1/households",
        "/api/v1/me/households",
    ] {
        for caller in [
            &app.world.a.admin,
            &app.world.a.branches[0].secretary,
            &app.world.a.branches[0].members[0],
        ] {
            let list = json_of(app.get(&format!("{path}?limit=100"), caller).await).await;
            for item in list["items"].as_array().unwrap() {
                assert!(
                    !foreign_ids.contains(&item["id"].as_str().unwrap().to_owned()),
                    "{path} leaked {item}"
                );
                assert_eq!(
                    item["township_id"],
                    app.world.a.township.id.to_string(),
                    "{path}"
                );
            }
        }
    }
}
