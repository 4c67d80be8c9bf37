//! Branch request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::text::{self, NAME_MAX};
use crate::domain::{BranchKind, FieldErrors};
use crate::entities::branch;

#[derive(Debug, Serialize, ToSchema)]
pub struct BranchView {
    pub id: Uuid,
    pub township_id: Uuid,
    #[schema(example = "红旗村党支部")]
    pub name: String,
    pub kind: BranchKind,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<branch::Model> for BranchView {
    fn from(b: branch::Model) -> Self {
        BranchView {
            id: b.id,
            township_id: b.township_id,
            name: b.name,
            kind: BranchKind::parse(&b.kind).unwrap_or(BranchKind::Other),
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"name": "红旗村党支部", "kind": "village"}))]
pub struct NewBranchRequest {
    #[schema(max_length = 50)]
    pub name: String,
    pub kind: BranchKind,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct BranchPatch {
    #[schema(max_length = 50)]
    pub name: Option<String>,
    pub kind: Option<BranchKind>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BranchFilter {
    pub kind: Option<BranchKind>,
}

/// The checked fields of a branch change.
pub struct BranchFields {
    pub name: Option<String>,
    pub kind: Option<BranchKind>,
}

impl NewBranchRequest {
    pub fn parse(self) -> Result<(String, BranchKind), FieldErrors> {
        Ok((text::required("name", &self.name, NAME_MAX)?, self.kind))
    }
}

impl BranchPatch {
    pub fn parse(self) -> Result<BranchFields, FieldErrors> {
        let name = match self.name {
            Some(name) => Some(text::required("name", &name, NAME_MAX)?),
            None => None,
        };
        Ok(BranchFields {
            name,
            kind: self.kind,
        })
    }
}
