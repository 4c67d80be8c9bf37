//! Households, assignments (党员包户), `/me/households` and the CSV import.

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn secretary_registers_a_household_in_their_branch() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let response = app
        .post(
            "/api/v1/households",
            &branch.secretary,
            json!({
                "head_name": "张大山", "address": "红旗村三组12号", "group": "第三村民小组",
                "phone": "13800001234", "location": {"lat": 30.27, "lng": 120.15},
                "tags": ["低保户", "独居老人", "低保户"]
            }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::CREATED);
    let body = json_of(response).await;
    assert_eq!(body["branch_id"], branch.branch.id.to_string());
    assert_eq!(body["phone"], "13800001234");
    assert_eq!(body["group"], "第三村民小组");
    assert_eq!(body["location"]["coord_system"], "gcj02");
    assert_eq!(body["tags"], json!(["低保户", "独居老人"]));
}

#[tokio::test]
async fn invalid_household_fields_are_all_named() {
    let app = spawn_app().await;
    let secretary = &app.world.a.branches[0].secretary;

    let response = app
        .post(
            "/api/v1/households",
            secretary,
            json!({ "head_name": " ", "address": "党".repeat(201), "phone": "12", "id_number": "123", "location": {"lat": 95.0, "lng": 120.0} }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json_of(response).await;
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["head_name", "address", "phone", "id_number", "location.lat"]
    );
}

#[tokio::test]
async fn household_phones_are_whole_for_assignee_and_secretary_masked_for_others() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[0];
    let path = format!("/api/v1/households/{}", household.id);
    let phone = household.phone.clone().unwrap();

    let by_assignee = json_of(app.get(&path, &branch.members[0]).await).await;
    let by_other_member = json_of(app.get(&path, &branch.members[1]).await).await;
    let by_secretary = json_of(app.get(&path, &branch.secretary).await).await;
    let listed = json_of(app.get("/api/v1/households", &branch.secretary).await).await;

    assert_eq!(by_assignee["phone"], phone.as_str());
    assert_eq!(by_secretary["phone"], phone.as_str());
    assert_eq!(
        by_other_member["phone"],
        xianfeng::domain::personal::mask(&phone).as_str()
    );
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["phone"].as_str().unwrap().contains("****"))
    );
    assert_eq!(
        by_assignee["assignees"][0]["member_id"],
        branch.members[0].id.to_string()
    );
}

#[tokio::test]
async fn patch_changes_and_clears_fields() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let path = format!("/api/v1/households/{}", branch.households[1].id);

    let response = app
        .patch(
            &path,
            &branch.secretary,
            json!({ "address": "新地址", "phone": null, "tags": ["五保户"] }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::OK);
    let body = json_of(response).await;
    assert_eq!(body["address"], "新地址");
    assert!(body["phone"].is_null());
    assert_eq!(body["tags"], json!(["五保户"]));
    assert_eq!(body["head_name"], branch.households[1].head_name.as_str());
}

#[tokio::test]
async fn filters_by_tag_group_and_name() {
    let app = spawn_app().await;
    let secretary = &app.world.a.branches[0].secretary;
    app.post("/api/v1/households", secretary, json!({ "head_name": "独居的王奶奶", "address": "二组", "group": "第二村民小组", "tags": ["独居老人"] })).await;

    let by_tag = json_of(app.get("/api/v1/households?tag=独居老人", secretary).await).await;
    let by_group = json_of(
        app.get("/api/v1/households?group=第二村民小组", secretary)
            .await,
    )
    .await;
    let by_name = json_of(app.get("/api/v1/households?q=王奶奶", secretary).await).await;
    let by_assignee = json_of(
        app.get(
            &format!(
                "/api/v1/households?assignee_id={}",
                app.world.a.branches[0].members[0].id
            ),
            secretary,
        )
        .await,
    )
    .await;

    for list in [&by_tag, &by_group, &by_name] {
        assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
        assert_eq!(list["items"][0]["head_name"], "独居的王奶奶");
    }
    assert_eq!(by_assignee["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn assigning_is_idempotent_and_unassigning_ends_it() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let household = &branch.households[1];
    let member = &branch.members[1];
    let path = format!("/api/v1/households/{}/assignees", household.id);

    let first = app
        .post(&path, &branch.secretary, json!({ "member_id": member.id }))
        .await;
    let again = app
        .post(&path, &branch.secretary, json!({ "member_id": member.id }))
        .await;

    assert_eq!(first.status(), StatusCode::CREATED);
    assert_eq!(again.status(), StatusCode::OK);
    let mine = json_of(app.get("/api/v1/me/households", member).await).await;
    assert_eq!(mine["items"][0]["id"], household.id.to_string());
    assert_eq!(mine["items"][0]["overdue"], true);
    assert!(mine["items"][0]["last_visited_at"].is_null());

    let removed = app
        .delete(&format!("{path}/{}", member.id), &branch.secretary)
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let mine = json_of(app.get("/api/v1/me/households", member).await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 0);
    assert_eq!(
        app.delete(&format!("{path}/{}", member.id), &branch.secretary)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_member_of_another_branch_cannot_be_assigned() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let outsider = &app.world.a.branches[1].members[0];

    let response = app
        .post(
            &format!("/api/v1/households/{}/assignees", branch.households[1].id),
            &app.world.a.admin,
            json!({ "member_id": outsider.id }),
        )
        .await;

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(response).await["error"]["details"][0]["field"],
        "member_id"
    );
}

async fn import(
    app: &TestApp,
    as_user: &xianfeng::entities::user::Model,
    query: &str,
    body: Vec<u8>,
) -> reqwest::Response {
    app.request(
        reqwest::Method::POST,
        &format!("/api/v1/households/import{query}"),
        Some(as_user),
    )
    .header("content-type", "text/csv")
    .body(body)
    .send()
    .await
    .unwrap()
}

async fn households_in(app: &TestApp, branch_id: uuid::Uuid) -> u64 {
    xianfeng::entities::household::Entity::find()
        .filter(xianfeng::entities::household::Column::BranchId.eq(branch_id))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn imports_a_gbk_spreadsheet_and_skips_rows_already_registered() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let csv = "户主姓名,地址,村民小组,联系电话,标签\n王富贵,红旗村一组1号,第一村民小组,13800002222,低保户、残疾人家庭\n李秀兰,红旗村一组2号,第一村民小组,,\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);

    let first = import(&app, &branch.secretary, "", gbk.to_vec()).await;
    let second = import(&app, &branch.secretary, "", gbk.to_vec()).await;

    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        json_of(first).await,
        json!({ "imported": 2, "skipped": 0, "errors": [] })
    );
    assert_eq!(json_of(second).await["skipped"], 2);
    assert_eq!(households_in(&app, branch.branch.id).await, 4);
    let found = json_of(
        app.get("/api/v1/households?q=王富贵", &branch.secretary)
            .await,
    )
    .await;
    assert_eq!(found["items"][0]["tags"], json!(["低保户", "残疾人家庭"]));
}

#[tokio::test]
async fn a_bad_row_imports_nothing_unless_partial() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];
    let csv = "\u{feff}户主姓名,地址,联系电话\n好人,一组,13800003333\n坏行,二组,电话号码\n"
        .as_bytes()
        .to_vec();

    let strict = import(&app, &branch.secretary, "", csv.clone()).await;
    assert_eq!(strict.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        json_of(strict).await["error"]["details"][0]["field"],
        "rows[3].phone"
    );
    assert_eq!(households_in(&app, branch.branch.id).await, 2);

    let partial = json_of(import(&app, &branch.secretary, "?partial=true", csv).await).await;
    assert_eq!(partial["imported"], 1);
    assert_eq!(partial["errors"][0]["row"], 3);
    assert_eq!(households_in(&app, branch.branch.id).await, 3);
}

#[tokio::test]
async fn admin_imports_into_branches_named_in_the_file_as_multipart() {
    let app = spawn_app().await;
    let [first, second] = [&app.world.a.branches[0], &app.world.a.branches[1]];
    let csv = format!(
        "户主姓名,地址,支部\n甲,一组,{}\n乙,二组,{}\n",
        first.branch.name, second.branch.name
    );
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("农户.csv"),
    );

    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/households/import",
            Some(&app.world.a.admin),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(json_of(response).await["imported"], 2);
    assert_eq!(households_in(&app, first.branch.id).await, 3);
    assert_eq!(households_in(&app, second.branch.id).await, 3);
}

#[tokio::test]
async fn members_cannot_import() {
    let app = spawn_app().await;
    let response = import(
        &app,
        &app.world.a.branches[0].members[0],
        "",
        b"head_name,address\nx,y\n".to_vec(),
    )
    .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_partial_import_report_speaks_english_on_request() {
    let app = spawn_app().await;
    let secretary = &app.world.a.branches[0].secretary;

    let response = app
        .request(
            reqwest::Method::POST,
            "/api/v1/households/import?partial=true",
            Some(secretary),
        )
        .header("content-type", "text/csv")
        .header("accept-language", "en")
        .body("户主姓名,地址,联系电话\n坏行,二组,电话号码\n")
        .send()
        .await
        .unwrap();

    let report = json_of(response).await;
    assert_eq!(report["imported"], 0);
    assert_eq!(report["errors"][0]["field"], "phone");
    assert_eq!(report["errors"][0]["message"], "not a valid phone number");
}
