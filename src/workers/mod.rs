//! Work done beside the requests: moving outbox events to Redis, delivering
//! them to inboxes and WeChat, and the fan-out from an event to its recipients.

pub mod delivery;
pub mod fanout;
pub mod stream;
