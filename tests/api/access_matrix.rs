//! The access matrix: role × (own branch, other branch, other township) ×
//! endpoint, each cell the status SPEC §3 implies. Out of reach is 404;
//! within reach but not permitted is 403.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

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

/// One endpoint applied to a target branch: method, path, body.
struct Call {
    name: &'static str,
    make: fn(&TestApp, &Branch) -> (Method, String, Option<Value>),
    /// Expected status for [own branch, other branch, other township], per role.
    member: [u16; 3],
    secretary: [u16; 3],
    admin: [u16; 3],
}

fn calls() -> Vec<Call> {
    vec![
        Call {
            name: "GET /branches/{id}",
            make: |_, b| {
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
            make: |_, b| {
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
            make: |_, b| {
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
            make: |_, b| {
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
            make: |_, b| {
                let body = json!({ "name": "新", "phone": unique_phone(), "role": "member", "branch_id": b.branch.id });
                (Method::POST, "/api/v1/users".into(), Some(body))
            },
            member: [403, 403, 403],
            secretary: [201, 403, 403],
            admin: [201, 201, 422],
        },
        Call {
            name: "POST /users/{id}/activation-code",
            make: |_, b| {
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
            make: |_, b| {
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
            make: |_, b| {
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
            make: |_, b| {
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
            make: |_, b| {
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
            name: "DELETE /households/{id}/assignees/{member_id}",
            make: |_, b| {
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
    ]
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
    let mut wrong = Vec::new();
    for call in calls() {
        let expected = match role {
            Role::Member => call.member,
            Role::Secretary => call.secretary,
            Role::Admin => call.admin,
        };
        for (i, (target, branch)) in targets.iter().enumerate() {
            let (method, path, body) = (call.make)(&app, branch);
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
    for call in calls() {
        let (method, path, body) = (call.make)(&app, branch);
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
