//! Notifications (通知): outbox events fanned out to the people they concern,
//! written to each one's in-app inbox exactly once.

pub mod consents;
pub mod digest;
pub mod jobs;
pub mod routes;
