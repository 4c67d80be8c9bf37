//! Household request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::domain::personal::{self, reveal_or_mask};
use crate::domain::text::{self, ADDRESS_MAX, NAME_MAX};
use crate::domain::{CoordSystem, FieldErrors, Location};
use crate::entities::household;
use crate::platform::http::extract::nullable;

/// Most tags on one household, and the longest tag.
pub const MAX_TAGS: usize = 20;
pub const TAG_MAX: usize = 20;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HouseholdView {
    pub id: Uuid,
    pub township_id: Uuid,
    pub branch_id: Uuid,
    /// 户主姓名
    #[schema(example = "张大山")]
    pub head_name: String,
    pub address: String,
    /// 村民小组
    #[schema(example = "第三村民小组")]
    pub group: Option<String>,
    /// Masked (`138****1234`) in lists and for those who neither manage nor are assigned.
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub location: Option<Location>,
    /// e.g. `低保户`, `独居老人`, `脱贫监测户`.
    pub tags: Vec<String>,
    /// Members responsible for the household.
    pub assignees: Vec<Assignee>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Assignee {
    pub member_id: Uuid,
    pub name: String,
    pub assigned_at: DateTime<Utc>,
}

impl HouseholdView {
    pub fn new(h: household::Model, assignees: Vec<Assignee>, reveal: bool) -> Self {
        let location = match (h.lat, h.lng) {
            (Some(lat), Some(lng)) => Some(Location {
                lat,
                lng,
                accuracy_m: None,
                coord_system: h
                    .coord_system
                    .as_deref()
                    .and_then(CoordSystem::parse)
                    .unwrap_or_default(),
            }),
            _ => None,
        };
        HouseholdView {
            id: h.id,
            township_id: h.township_id,
            branch_id: h.branch_id,
            head_name: h.head_name,
            address: h.address,
            group: h.village_group,
            phone: reveal_or_mask(h.phone, reveal),
            id_number: reveal_or_mask(h.id_number, reveal),
            location,
            tags: serde_json::from_value(h.tags).unwrap_or_default(),
            assignees,
            created_at: h.created_at,
            updated_at: h.updated_at,
        }
    }
}

/// One of my assigned households, with when it was last visited.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyHousehold {
    #[serde(flatten)]
    pub household: HouseholdView,
    /// The latest non-rejected visit; `null` when never visited.
    pub last_visited_at: Option<DateTime<Utc>>,
    /// No non-rejected visit within the township's interval (default 30 days).
    pub overdue: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({"head_name": "张大山", "address": "红旗村三组12号", "group": "第三村民小组", "phone": "13800001234", "location": {"lat": 30.2741, "lng": 120.1551, "coord_system": "gcj02"}, "tags": ["低保户"]}))]
pub struct NewHouseholdRequest {
    /// Required for township admins; secretaries' households go to their branch.
    pub branch_id: Option<Uuid>,
    #[schema(max_length = 50)]
    pub head_name: String,
    #[schema(max_length = 200)]
    pub address: String,
    #[schema(max_length = 50)]
    pub group: Option<String>,
    pub phone: Option<String>,
    pub id_number: Option<String>,
    pub location: Option<Location>,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub tags: Vec<String>,
}

/// Fields to change; absent fields stay, `null` clears an optional one.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct HouseholdPatch {
    /// Moves the household to another branch (township admins); its assignments end.
    pub branch_id: Option<Uuid>,
    pub head_name: Option<String>,
    pub address: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub group: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub id_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Location>)]
    pub location: Option<Option<Location>>,
    pub tags: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HouseholdFilter {
    pub branch_id: Option<Uuid>,
    /// 村民小组, exactly.
    pub group: Option<String>,
    /// Households carrying this tag.
    pub tag: Option<String>,
    /// Part of the head's name or the address.
    pub q: Option<String>,
    /// Households this member is assigned to.
    pub assignee_id: Option<Uuid>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AssignRequest {
    pub member_id: Uuid,
}

/// Checked household fields; `None` leaves a field unchanged.
#[derive(Debug, Default, Clone)]
pub struct HouseholdFields {
    pub head_name: Option<String>,
    pub address: Option<String>,
    pub group: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub id_number: Option<Option<String>>,
    pub location: Option<Option<Location>>,
    pub tags: Option<Vec<String>>,
}

pub fn parse_tags(tags: Vec<String>) -> Result<Vec<String>, FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut clean: Vec<String> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        if let Some(tag) = errors.take(text::required(&format!("tags[{i}]"), tag, TAG_MAX))
            && !clean.contains(&tag)
        {
            clean.push(tag);
        }
    }
    if clean.len() > MAX_TAGS {
        errors.add(
            "tags",
            "too_many",
            format!("标签最多 {MAX_TAGS} 个"),
            format!("at most {MAX_TAGS} tags"),
        );
    }
    errors.finish(|| clean)
}

fn optional_phone(value: Option<String>) -> Result<Option<String>, FieldErrors> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| personal::parse_phone("phone", &v))
        .transpose()
}

fn optional_id_number(value: Option<String>) -> Result<Option<String>, FieldErrors> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| personal::parse_id_number("id_number", &v))
        .transpose()
}

impl NewHouseholdRequest {
    pub fn parse(self) -> Result<HouseholdFields, FieldErrors> {
        let mut errors = FieldErrors::new();
        let fields = HouseholdFields {
            head_name: errors.take(text::required("head_name", &self.head_name, NAME_MAX)),
            address: errors.take(text::required("address", &self.address, ADDRESS_MAX)),
            group: Some(
                errors
                    .take(text::optional("group", self.group.as_deref(), NAME_MAX))
                    .flatten(),
            ),
            phone: Some(errors.take(optional_phone(self.phone)).flatten()),
            id_number: Some(errors.take(optional_id_number(self.id_number)).flatten()),
            location: Some(
                errors
                    .take(
                        self.location
                            .map(|l| Location::parse("location", l))
                            .transpose(),
                    )
                    .flatten(),
            ),
            tags: errors.take(parse_tags(self.tags)),
        };
        errors.finish(|| fields)
    }
}

impl HouseholdPatch {
    pub fn parse(self) -> Result<HouseholdFields, FieldErrors> {
        let mut errors = FieldErrors::new();
        let fields = HouseholdFields {
            head_name: errors
                .take(
                    self.head_name
                        .map(|v| text::required("head_name", &v, NAME_MAX))
                        .transpose(),
                )
                .flatten(),
            address: errors
                .take(
                    self.address
                        .map(|v| text::required("address", &v, ADDRESS_MAX))
                        .transpose(),
                )
                .flatten(),
            group: errors
                .take(
                    self.group
                        .map(|v| text::optional("group", v.as_deref(), NAME_MAX))
                        .transpose(),
                )
                .flatten(),
            phone: errors
                .take(self.phone.map(optional_phone).transpose())
                .flatten(),
            id_number: errors
                .take(self.id_number.map(optional_id_number).transpose())
                .flatten(),
            location: errors
                .take(
                    self.location
                        .map(|l| l.map(|l| Location::parse("location", l)).transpose())
                        .transpose(),
                )
                .flatten(),
            tags: errors.take(self.tags.map(parse_tags).transpose()).flatten(),
        };
        errors.finish(|| fields)
    }
}
