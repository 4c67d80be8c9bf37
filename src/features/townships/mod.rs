//! `/api/v1/township`: the township's own settings, read and changed by its admins.

pub mod repo;
pub mod routes;
