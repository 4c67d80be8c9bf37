//! Branches, users and `/me`.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn admin_creates_a_branch_and_a_duplicate_name_is_409() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;

    let created = app
        .post(
            "/api/v1/branches",
            admin,
            json!({ "name": "新村党支部", "kind": "village" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body = json_of(created).await;
    assert_eq!(body["kind"], "village");
    assert_eq!(body["township_id"], app.world.a.township.id.to_string());

    let duplicate = app
        .post(
            "/api/v1/branches",
            admin,
            json!({ "name": "新村党支部", "kind": "organ" }),
        )
        .await;
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let body = json_of(duplicate).await;
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["details"][0]["field"], "name");
    assert_eq!(body["error"]["details"][0]["code"], "branch_name_taken");
}

#[tokio::test]
async fn the_same_branch_name_is_fine_in_another_township() {
    let app = spawn_app().await;
    let name = &app.world.a.branches[0].branch.name;
    let response = app
        .post(
            "/api/v1/branches",
            &app.world.b.admin,
            json!({ "name": name, "kind": "village" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn unknown_branch_kind_is_422() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/api/v1/branches",
            &app.world.a.admin,
            json!({ "name": "x", "kind": "castle" }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(response).await["error"]["details"][0]["field"],
        "kind"
    );
}

#[tokio::test]
async fn members_see_only_their_own_branch_admins_see_all() {
    let app = spawn_app().await;

    let member_view = json_of(
        app.get("/api/v1/branches", &app.world.a.branches[0].members[0])
            .await,
    )
    .await;
    let admin_view = json_of(app.get("/api/v1/branches", &app.world.a.admin).await).await;

    let ids: Vec<&str> = member_view["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [app.world.a.branches[0].branch.id.to_string()]);
    assert_eq!(admin_view["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn admin_renames_a_branch_and_the_audit_log_records_it() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0].branch;

    let response = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/branches/{}", branch.id),
            Some(&app.world.a.admin),
        )
        .header("x-request-id", "rename-1")
        .json(&json!({ "name": "改名支部" }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await["name"], "改名支部");
    let audit = xianfeng::entities::audit_log::Entity::find()
        .filter(xianfeng::entities::audit_log::Column::SubjectId.eq(branch.id))
        .one(&app.db)
        .await
        .unwrap()
        .expect("an audit row");
    assert_eq!(audit.action, "branch.updated");
    assert_eq!(audit.actor_id, Some(app.world.a.admin.id));
    assert_eq!(audit.request_id.as_deref(), Some("rename-1"));
    assert_eq!(audit.before.unwrap()["name"], branch.name.as_str());
    assert_eq!(audit.after.unwrap()["name"], "改名支部");
}

#[tokio::test]
async fn secretary_creates_a_member_of_their_branch_with_an_activation_code() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let phone = unique_phone();

    let response = app
        .post(
            "/api/v1/users",
            &branch.secretary,
            json!({ "name": "王小明", "phone": phone, "role": "member" }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_of(response).await;
    assert_eq!(body["branch_id"], branch.branch.id.to_string());
    assert_eq!(body["phone"], phone.as_str());
    assert_eq!(body["activation_code"].as_str().unwrap().len(), 8);
    assert_eq!(body["wechat_bound"], false);
}

#[tokio::test]
async fn a_member_created_with_a_password_can_sign_in() {
    let app = spawn_app().await;
    let phone = unique_phone();
    let branch_id = app.world.a.branches[1].branch.id;

    let created = app.post("/api/v1/users", &app.world.a.admin, json!({ "name": "李四", "phone": phone, "role": "secretary", "branch_id": branch_id, "password": "a-good-password" })).await;

    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(
        app.login(&phone, "a-good-password").await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn duplicate_phone_is_409_and_short_password_is_422() {
    let app = spawn_app().await;
    let taken = &app.world.b.branches[0].members[0].phone;
    let admin = &app.world.a.admin;
    let branch_id = app.world.a.branches[0].branch.id;

    let duplicate = app
        .post(
            "/api/v1/users",
            admin,
            json!({ "name": "重", "phone": taken, "role": "member", "branch_id": branch_id }),
        )
        .await;
    let short = app.post("/api/v1/users", admin, json!({ "name": "短", "phone": unique_phone(), "role": "member", "branch_id": branch_id, "password": "short" })).await;

    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    let body = json_of(duplicate).await;
    assert_eq!(body["error"]["code"], "conflict");
    assert_eq!(body["error"]["details"][0]["code"], "phone_taken");
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(short).await["error"]["details"][0]["field"],
        "password"
    );
}

#[tokio::test]
async fn secretaries_cannot_create_secretaries_or_admins() {
    let app = spawn_app().await;
    let secretary = &app.world.a.branches[0].secretary;

    for role in ["secretary", "township_admin"] {
        let response = app
            .post(
                "/api/v1/users",
                secretary,
                json!({ "name": "越权", "phone": unique_phone(), "role": role }),
            )
            .await;
        assert!(
            matches!(
                response.status(),
                StatusCode::FORBIDDEN | StatusCode::UNPROCESSABLE_ENTITY
            ),
            "{role}: {}",
            response.status()
        );
    }
}

#[tokio::test]
async fn admin_naming_another_townships_branch_gets_422() {
    let app = spawn_app().await;
    let foreign_branch = app.world.b.branches[0].branch.id;

    let response = app.post("/api/v1/users", &app.world.a.admin, json!({ "name": "外乡", "phone": unique_phone(), "role": "member", "branch_id": foreign_branch })).await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(response).await["error"]["details"][0]["field"],
        "branch_id"
    );
}

#[tokio::test]
async fn phones_are_masked_for_colleagues_and_whole_for_self_and_secretary() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let subject = &branch.members[1];
    let path = format!("/api/v1/users/{}", subject.id);

    let by_colleague = json_of(app.get(&path, &branch.members[0]).await).await;
    let by_self = json_of(app.get(&path, subject).await).await;
    let by_secretary = json_of(app.get(&path, &branch.secretary).await).await;
    let in_list = json_of(app.get("/api/v1/users", &branch.secretary).await).await;

    let masked = xianfeng::domain::personal::mask(&subject.phone);
    assert_eq!(by_colleague["phone"], masked.as_str());
    assert_eq!(by_colleague["id_number"], "110***********002X");
    assert_eq!(by_self["phone"], subject.phone.as_str());
    assert_eq!(by_secretary["phone"], subject.phone.as_str());
    assert!(
        in_list["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["phone"].as_str().unwrap().contains("****"))
    );
}

#[tokio::test]
async fn users_change_their_own_name_and_password_but_not_their_role() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let path = format!("/api/v1/users/{}", member.id);

    let promoted = app
        .patch(&path, member, json!({ "role": "secretary" }))
        .await;
    let renamed = app
        .patch(
            &path,
            member,
            json!({ "name": "张新名", "password": "my-new-password" }),
        )
        .await;

    assert_eq!(renamed.status(), StatusCode::OK);
    assert_eq!(json_of(renamed).await["name"], "张新名");
    assert_eq!(
        app.login(&member.phone, "my-new-password").await.status(),
        StatusCode::OK
    );
    assert_eq!(promoted.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn moving_a_member_to_another_branch_ends_their_assignments() {
    let app = spawn_app().await;
    let member = &app.world.a.branches[0].members[0];
    let other_branch = app.world.a.branches[1].branch.id;

    let response = app
        .patch(
            &format!("/api/v1/users/{}", member.id),
            &app.world.a.admin,
            json!({ "branch_id": other_branch }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    // The move ended the member's sessions: they act on a new token.
    let moved = xianfeng::entities::user::Entity::find_by_id(member.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let mine = json_of(app.get("/api/v1/me/households", &moved).await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn me_names_the_user_branch_and_township() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let me = json_of(app.get("/api/v1/me", &branch.secretary).await).await;

    assert_eq!(me["id"], branch.secretary.id.to_string());
    assert_eq!(me["role"], "secretary");
    assert_eq!(me["phone"], branch.secretary.phone.as_str());
    assert_eq!(me["branch"]["id"], branch.branch.id.to_string());
    assert_eq!(me["township"]["id"], app.world.a.township.id.to_string());
    assert_eq!(me["township"]["timezone"], "Asia/Shanghai");
}

#[tokio::test]
async fn a_reissued_activation_code_replaces_the_old_one() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let response = app
        .post(
            &format!("/api/v1/users/{}/activation-code", branch.members[0].id),
            &branch.secretary,
            json!({}),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(
        json_of(response).await["activation_code"]
            .as_str()
            .unwrap()
            .len(),
        8
    );
    let by_member = app
        .post(
            &format!("/api/v1/users/{}/activation-code", branch.members[1].id),
            &branch.members[0],
            json!({}),
        )
        .await;
    assert_eq!(by_member.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn township_admins_have_no_branch_and_members_need_one() {
    let app = spawn_app().await;
    let admin = &app.world.a.admin;
    let member = &app.world.a.branches[0].members[1];
    let branch_id = app.world.a.branches[0].branch.id;

    let admin_with_branch = app
        .patch(
            &format!("/api/v1/users/{}", member.id),
            admin,
            json!({ "role": "township_admin", "branch_id": branch_id }),
        )
        .await;
    let member_without_branch = app
        .patch(
            &format!("/api/v1/users/{}", app.world.a.admin.id),
            admin,
            json!({ "role": "member" }),
        )
        .await;
    let promoted = app
        .patch(
            &format!("/api/v1/users/{}", member.id),
            admin,
            json!({ "role": "township_admin" }),
        )
        .await;

    assert_eq!(admin_with_branch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(member_without_branch).await["error"]["details"][0]["field"],
        "branch_id"
    );
    assert_eq!(promoted.status(), StatusCode::OK);
    assert!(json_of(promoted).await["branch_id"].is_null());
}
