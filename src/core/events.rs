//! Names of the outbox events that a feature writes and the fan-out reads by
//! name, kept in one place so that the two cannot drift apart.

/// A digest of overdue assigned households, to each member who has some.
pub const OVERDUE_HOUSEHOLDS: &str = "digest.overdue_households";
/// A digest of submissions waiting over a day, to the branch's secretaries.
pub const STALE_REVIEWS: &str = "digest.stale_reviews";
