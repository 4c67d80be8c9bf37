//! Notifications (通知): outbox events fanned out to the people they concern,
//! written to each one's in-app inbox exactly once.

pub mod consents;
pub mod delivery;
pub mod digest;
pub mod fanout;
pub mod pipeline;
pub mod routes;
pub mod stream;
