//! The review workflow shared by every submission kind, the history of each
//! submission, and the secretary's queue across kinds.

pub mod routes;
pub mod workflow;
