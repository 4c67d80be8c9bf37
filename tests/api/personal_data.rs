//! ID numbers sealed at rest (ChaCha20-Poly1305 under `ID_NUMBER_KEY`), shown
//! whole only to those who may see them.

use reqwest::StatusCode;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter};
use serde_json::json;
use xianfeng::entities::{household, user};
use xianfeng::platform::sealed::{
    IdNumberCipher, is_sealed, reseal_id_numbers, seal_stored_id_numbers,
};

use crate::helpers::*;

const ID: &str = "32010219800101123X";

fn cipher() -> IdNumberCipher {
    IdNumberCipher::new(&hex::decode(ID_NUMBER_KEY).unwrap()).unwrap()
}

#[tokio::test]
async fn id_numbers_written_through_the_api_are_sealed_at_rest() {
    let app = spawn_app().await;
    let branch = &app.world.a.branches[0];

    let created = app
        .post(
            "/api/v1/households",
            &branch.secretary,
            json!({ "head_name": "钱有福", "address": "4组21号", "id_number": ID }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let household_id: uuid::Uuid = json_of(created).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let member = app
        .post(
            "/api/v1/users",
            &branch.secretary,
            json!({ "name": "孙晓红", "phone": unique_phone(), "role": "member", "id_number": ID }),
        )
        .await;
    assert_eq!(member.status(), StatusCode::CREATED);
    let member_id: uuid::Uuid = json_of(member).await["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let patched = app
        .patch(
            &format!("/api/v1/households/{}", branch.households[0].id),
            &branch.secretary,
            json!({ "id_number": ID }),
        )
        .await;
    assert_eq!(patched.status(), StatusCode::OK);

    let stored = [
        household::Entity::find_by_id(household_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id_number,
        household::Entity::find_by_id(branch.households[0].id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id_number,
        user::Entity::find_by_id(member_id)
            .one(&app.db)
            .await
            .unwrap()
            .unwrap()
            .id_number,
    ];
    for value in stored {
        let value = value.unwrap();
        assert!(is_sealed(&value), "{value}");
        assert!(!value.contains("320102"), "{value}");
        assert_eq!(cipher().open(&value).unwrap(), ID);
    }
    let by_secretary = json_of(
        app.get(
            &format!("/api/v1/households/{household_id}"),
            &branch.secretary,
        )
        .await,
    )
    .await;
    let by_colleague = json_of(
        app.get(&format!("/api/v1/users/{member_id}"), &branch.members[0])
            .await,
    )
    .await;
    let listed = json_of(
        app.get("/api/v1/households?limit=100", &branch.secretary)
            .await,
    )
    .await;
    assert_eq!(by_secretary["id_number"], ID);
    assert_eq!(by_colleague["id_number"], "320***********123X");
    let in_list = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == household_id.to_string())
        .unwrap();
    assert_eq!(in_list["id_number"], "320***********123X");
}

#[tokio::test]
async fn an_old_backups_thousand_plaintext_id_numbers_are_sealed_in_rounds() {
    let app = spawn_app().await;
    let template = household::Entity::find_by_id(app.world.a.branches[0].households[0].id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let rows = (0..1_200).map(|n| {
        let mut row = template.clone().into_active_model();
        row.id = Set(uuid::Uuid::now_v7());
        row.id_number = Set(Some(format!("3201021980010{n:04}X")));
        row
    });
    household::Entity::insert_many(rows.collect::<Vec<_>>())
        .exec_without_returning(&app.db)
        .await
        .unwrap();

    let sealed = seal_stored_id_numbers(&app.db, &cipher()).await.unwrap();
    let again = seal_stored_id_numbers(&app.db, &cipher()).await.unwrap();

    assert!(sealed >= 1_200, "{sealed}");
    assert_eq!(again, 0);
    let stored: Vec<String> = household::Entity::find()
        .filter(household::Column::IdNumber.is_not_null())
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|h| h.id_number)
        .collect();
    assert!(stored.iter().all(|v| is_sealed(v)));
    let opened: std::collections::HashSet<String> =
        stored.iter().map(|v| cipher().open(v).unwrap()).collect();
    assert!((0..1_200).all(|n| opened.contains(&format!("3201021980010{n:04}X"))));
}

/// Every ID number stored in users and households, as stored, by row id.
async fn stored_id_numbers(app: &TestApp) -> Vec<(uuid::Uuid, String)> {
    let users = user::Entity::find().all(&app.db).await.unwrap();
    let households = household::Entity::find().all(&app.db).await.unwrap();
    let mut stored: Vec<(uuid::Uuid, String)> = users
        .into_iter()
        .filter_map(|u| Some((u.id, u.id_number?)))
        .chain(
            households
                .into_iter()
                .filter_map(|h| Some((h.id, h.id_number?))),
        )
        .collect();
    stored.sort();
    stored
}

#[tokio::test]
async fn a_rotated_key_takes_over_every_id_number_and_the_old_one_can_go() {
    let app = spawn_app().await;
    let new_key = [7u8; 32];
    seal_stored_id_numbers(&app.db, &cipher()).await.unwrap();
    let opened_with = |key: &IdNumberCipher, stored: &[(uuid::Uuid, String)]| {
        stored
            .iter()
            .map(|(id, v)| key.open(v).map(|plain| (*id, plain)))
            .collect::<Result<Vec<_>, _>>()
    };
    let before = stored_id_numbers(&app).await;
    let plain = opened_with(&cipher(), &before).unwrap();
    assert!(before.len() >= 2, "users and households hold ID numbers");
    let rotating = IdNumberCipher::new(&new_key)
        .unwrap()
        .with_previous(&hex::decode(ID_NUMBER_KEY).unwrap())
        .unwrap();

    let resealed = reseal_id_numbers(&app.db, &rotating).await.unwrap();
    let again = reseal_id_numbers(&app.db, &rotating).await.unwrap();

    assert_eq!(resealed, before.len() as u64);
    assert_eq!(again, 0);
    let after = stored_id_numbers(&app).await;
    let only_new = IdNumberCipher::new(&new_key).unwrap();
    assert_eq!(
        opened_with(&only_new, &after).unwrap(),
        plain,
        "the same ID numbers, in the same rows"
    );
    assert!(
        after.iter().all(|(_, v)| cipher().open(v).is_err()),
        "the old key opens none"
    );
    let stranger = IdNumberCipher::new(&[9u8; 32]).unwrap();
    assert!(
        reseal_id_numbers(&app.db, &stranger).await.is_err(),
        "a wrong key stops it"
    );
}

#[tokio::test]
async fn plaintext_id_numbers_are_sealed_by_the_start_up_step() {
    // The seeded users were written straight to the database, in plaintext,
    // as rows from before sealing would be.
    let app = spawn_app().await;
    let subject = &app.world.a.branches[0].members[1];
    let before = user::Entity::find_by_id(subject.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.id_number.as_deref(), Some("11010519491231002X"));

    let sealed = seal_stored_id_numbers(&app.db, &cipher()).await.unwrap();
    let again = seal_stored_id_numbers(&app.db, &cipher()).await.unwrap();

    assert!(sealed >= 1, "{sealed}");
    assert_eq!(again, 0);
    let after = user::Entity::find_by_id(subject.id)
        .one(&app.db)
        .await
        .unwrap()
        .unwrap();
    let stored = after.id_number.unwrap();
    assert!(is_sealed(&stored), "{stored}");
    let shown = json_of(
        app.get(
            &format!("/api/v1/users/{}", subject.id),
            &app.world.a.branches[0].secretary,
        )
        .await,
    )
    .await;
    assert_eq!(shown["id_number"], "11010519491231002X");
}
