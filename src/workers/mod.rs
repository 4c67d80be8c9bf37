//! Work done beside the requests: moving outbox events to Redis, delivering
//! them to inboxes and WeChat, the fan-out from an event to its recipients,
//! and the scheduler of the periodic jobs.

pub mod delivery;
pub mod fanout;
pub mod scheduler;
pub mod stream;
