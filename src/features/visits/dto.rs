//! Visit request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

pub use crate::core::review::{ReviewRequest, ReviewView};
pub use crate::domain::MAX_PHOTOS;
use crate::domain::text::{self, SUMMARY_MAX};
use crate::domain::visit::client_time;
use crate::domain::{CoordSystem, FieldErrors, Location, ReviewStatus, VisitFlag, VisitKind};
use crate::entities::visit;

/// Most photos on one visit (what WeChat's picker allows at once).
/// Most listed needs, and the longest one.
pub const MAX_NEEDS: usize = 20;
pub const NEED_MAX: usize = 100;

/// A visit as SPEC §5 shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitView {
    pub id: Uuid,
    pub household_id: Uuid,
    pub member_id: Uuid,
    pub branch_id: Uuid,
    pub kind: VisitKind,
    /// The phone's time of the visit.
    pub visited_at: DateTime<Utc>,
    /// When the server received it.
    pub received_at: DateTime<Utc>,
    pub location: Location,
    /// Metres from the household's registered location (`null` if it has none).
    pub distance_m: Option<f64>,
    pub summary: String,
    pub needs: Vec<String>,
    pub follow_up: bool,
    pub photo_ids: Vec<Uuid>,
    pub status: ReviewStatus,
    /// The latest decision; `null` while pending.
    pub review: Option<ReviewView>,
    /// Quality flags for the reviewer; they never block a submission.
    pub flags: Vec<VisitFlag>,
    /// Bumped by every change.
    pub version: i32,
    /// When it last entered the review queue.
    pub submitted_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<visit::Model> for VisitView {
    fn from(v: visit::Model) -> Self {
        let status = ReviewStatus::parse(&v.status).unwrap_or(ReviewStatus::Pending);
        let review = ReviewView::of(
            status,
            v.reviewer_id,
            v.review_decision.as_deref(),
            v.review_comment.clone(),
            v.reviewed_at,
        );
        VisitView {
            id: v.id,
            household_id: v.household_id,
            member_id: v.member_id,
            branch_id: v.branch_id,
            kind: VisitKind::parse(&v.kind).unwrap_or(VisitKind::Other),
            visited_at: v.visited_at,
            received_at: v.received_at,
            location: Location {
                lat: v.lat,
                lng: v.lng,
                accuracy_m: v.accuracy_m,
                coord_system: CoordSystem::parse(&v.coord_system).unwrap_or_default(),
            },
            distance_m: v.distance_m.map(|d| (d * 10.0).round() / 10.0),
            summary: v.summary,
            needs: serde_json::from_value(v.needs).unwrap_or_default(),
            follow_up: v.follow_up,
            photo_ids: serde_json::from_value(v.photo_ids).unwrap_or_default(),
            status,
            review,
            flags: serde_json::from_value(v.flags).unwrap_or_default(),
            version: v.version,
            submitted_at: v.submitted_at,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[schema(example = json!({
    "household_id": "01938f5e-0000-7000-8000-000000000001",
    "kind": "assistance",
    "visited_at": "2026-11-28T09:30:00+08:00",
    "location": {"lat": 30.2741, "lng": 120.1551, "accuracy_m": 12.0, "coord_system": "gcj02"},
    "summary": "了解冬季取暖情况，帮助联系村里送煤",
    "needs": ["取暖用煤"],
    "follow_up": true,
    "photo_ids": []
}))]
pub struct NewVisitRequest {
    pub household_id: Uuid,
    pub kind: VisitKind,
    /// The phone's time: at most 30 days ago, at most 10 minutes ahead.
    pub visited_at: DateTime<Utc>,
    pub location: Location,
    #[schema(max_length = 2000)]
    pub summary: String,
    #[serde(default)]
    #[schema(max_items = 20)]
    pub needs: Vec<String>,
    #[serde(default)]
    pub follow_up: bool,
    /// Uploads made by the submitting member (`POST /api/v1/uploads`).
    #[serde(default)]
    #[schema(max_items = 9)]
    pub photo_ids: Vec<Uuid>,
}

/// Changes to a returned visit; absent fields stay. Editing sends it back to `pending`.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct VisitPatch {
    pub household_id: Option<Uuid>,
    pub kind: Option<VisitKind>,
    pub visited_at: Option<DateTime<Utc>>,
    pub location: Option<Location>,
    #[schema(max_length = 2000)]
    pub summary: Option<String>,
    pub needs: Option<Vec<String>>,
    pub follow_up: Option<bool>,
    pub photo_ids: Option<Vec<Uuid>>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitFilter {
    pub member_id: Option<Uuid>,
    pub household_id: Option<Uuid>,
    pub branch_id: Option<Uuid>,
    pub status: Option<ReviewStatus>,
    pub kind: Option<VisitKind>,
    /// Visits with `visited_at` at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Visits with `visited_at` before this time.
    pub to: Option<DateTime<Utc>>,
    /// Visits carrying this quality flag.
    pub flag: Option<VisitFlag>,
}

/// The checked content of a visit (new, or after an edit).
#[derive(Debug, Clone)]
pub struct VisitContent {
    pub household_id: Uuid,
    pub kind: VisitKind,
    pub visited_at: DateTime<Utc>,
    pub location: Location,
    pub summary: String,
    pub needs: Vec<String>,
    pub follow_up: bool,
    pub photo_ids: Vec<Uuid>,
}

fn parse_needs(needs: Vec<String>) -> Result<Vec<String>, FieldErrors> {
    let mut errors = FieldErrors::new();
    if needs.len() > MAX_NEEDS {
        errors.add(
            "needs",
            "too_many",
            format!("needs 最多 {MAX_NEEDS} 项"),
            format!("at most {MAX_NEEDS} needs"),
        );
    }
    let parsed: Vec<String> = needs
        .iter()
        .enumerate()
        .filter_map(|(i, need)| errors.take(text::required(&format!("needs[{i}]"), need, NEED_MAX)))
        .collect();
    errors.finish(|| parsed)
}

fn parse_photo_ids(ids: Vec<Uuid>) -> Result<Vec<Uuid>, FieldErrors> {
    if ids.len() > MAX_PHOTOS {
        return Err(FieldErrors::single(
            "photo_ids",
            "too_many",
            format!("照片最多 {MAX_PHOTOS} 张"),
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    let mut unique = Vec::with_capacity(ids.len());
    for id in ids {
        if !unique.contains(&id) {
            unique.push(id);
        }
    }
    Ok(unique)
}

impl NewVisitRequest {
    pub fn parse(self, now: DateTime<Utc>) -> Result<VisitContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let visited_at = errors.take(client_time("visited_at", self.visited_at, now));
        let location = errors.take(Location::parse("location", self.location));
        let summary = errors.take(text::required("summary", &self.summary, SUMMARY_MAX));
        let needs = errors.take(parse_needs(self.needs));
        let photo_ids = errors.take(parse_photo_ids(self.photo_ids));
        match (visited_at, location, summary, needs, photo_ids) {
            (Some(visited_at), Some(location), Some(summary), Some(needs), Some(photo_ids))
                if errors.is_empty() =>
            {
                Ok(VisitContent {
                    household_id: self.household_id,
                    kind: self.kind,
                    visited_at,
                    location,
                    summary,
                    needs,
                    follow_up: self.follow_up,
                    photo_ids,
                })
            }
            _ => Err(errors),
        }
    }
}

impl VisitPatch {
    /// The content after applying this patch to `current`. A changed
    /// `visited_at` must again fall in the client-time window.
    pub fn apply(
        self,
        current: VisitContent,
        now: DateTime<Utc>,
    ) -> Result<VisitContent, FieldErrors> {
        let mut errors = FieldErrors::new();
        let visited_at = match self.visited_at {
            Some(at) if at != current.visited_at => errors.take(client_time("visited_at", at, now)),
            _ => Some(current.visited_at),
        };
        let location = match self.location {
            Some(location) => errors.take(Location::parse("location", location)),
            None => Some(current.location),
        };
        let summary = match self.summary {
            Some(summary) => errors.take(text::required("summary", &summary, SUMMARY_MAX)),
            None => Some(current.summary),
        };
        let needs = match self.needs {
            Some(needs) => errors.take(parse_needs(needs)),
            None => Some(current.needs),
        };
        let photo_ids = match self.photo_ids {
            Some(ids) => errors.take(parse_photo_ids(ids)),
            None => Some(current.photo_ids),
        };
        match (visited_at, location, summary, needs, photo_ids) {
            (Some(visited_at), Some(location), Some(summary), Some(needs), Some(photo_ids))
                if errors.is_empty() =>
            {
                Ok(VisitContent {
                    household_id: self.household_id.unwrap_or(current.household_id),
                    kind: self.kind.unwrap_or(current.kind),
                    visited_at,
                    location,
                    summary,
                    needs,
                    follow_up: self.follow_up.unwrap_or(current.follow_up),
                    photo_ids,
                })
            }
            _ => Err(errors),
        }
    }
}

impl From<&VisitView> for VisitContent {
    fn from(v: &VisitView) -> Self {
        VisitContent {
            household_id: v.household_id,
            kind: v.kind,
            visited_at: v.visited_at,
            location: v.location,
            summary: v.summary.clone(),
            needs: v.needs.clone(),
            follow_up: v.follow_up,
            photo_ids: v.photo_ids.clone(),
        }
    }
}
