//! The secretary's review queue across submission kinds.

pub mod routes;
