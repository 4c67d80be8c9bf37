//! Plain types and rules of the campaign: no HTTP, no SQL.

pub mod assessment;
pub mod buckets;
pub mod campaign;
pub mod field_errors;
pub mod location;
pub mod mediation;
pub mod personal;
pub mod pledge;
pub mod review;
pub mod role;
pub mod supervision;
pub mod text;
pub mod visit;

pub use field_errors::{FieldError, FieldErrors};
pub use location::{CoordSystem, Location};
pub use pledge::{PledgeScope, PledgeStatus};
pub use review::{ReviewDecision, ReviewStatus, SubjectKind};
pub use role::{BranchKind, Role};
pub use visit::{QualityThresholds, VisitFlag, VisitKind};

/// The most photos one submission (a visit, a report, a pledge, a
/// rectification) carries.
pub const MAX_PHOTOS: usize = 9;
