//! The secretary's queue across submission kinds, and bulk decisions.

pub mod routes;
