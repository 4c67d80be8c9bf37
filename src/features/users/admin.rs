//! `xianfeng create-admin`: the first township admin, from the command line.

use sea_orm::DatabaseConnection;

use super::dto::NewUserRequest;
use super::repo;
use crate::domain::Role;
use crate::entities::user;
use crate::features::townships::repo as townships;
use crate::platform::error::ApiError;
use crate::platform::password;

/// Creates the township if needed, then a township admin with `password`.
pub async fn create(
    db: &DatabaseConnection,
    township: &str,
    phone: &str,
    password: &str,
    name: &str,
) -> anyhow::Result<user::Model> {
    let new = NewUserRequest {
        name: name.to_owned(),
        phone: phone.to_owned(),
        role: Role::TownshipAdmin,
        branch_id: None,
        password: Some(password.to_owned()),
        id_number: None,
    }
    .parse()
    .map_err(|errors| {
        let fields: Vec<String> = errors
            .into_vec()
            .into_iter()
            .map(|e| format!("{}: {}", e.field, e.en))
            .collect();
        anyhow::anyhow!("invalid admin: {}", fields.join("; "))
    })?;
    let township_name = township.trim();
    if township_name.is_empty() {
        anyhow::bail!("--township must not be empty");
    }
    let hash = password::hash(password.to_owned()).await?;
    let txn = crate::platform::db::begin_write(db).await?;
    let township = match townships::by_name(&txn, township_name).await? {
        Some(existing) => existing,
        None => townships::create(&txn, township_name).await?,
    };
    let admin = repo::create(&txn, township.id, new, Some(hash))
        .await
        .map_err(|err| match err {
            ApiError::Conflict { .. } => anyhow::anyhow!("phone {phone} is already in use"),
            other => anyhow::anyhow!("{other}"),
        })?;
    txn.commit().await?;
    Ok(admin)
}
