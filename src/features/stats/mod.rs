//! Statistics for the township dashboard and the secretary's phone.

pub mod dto;
pub mod export;
pub mod repo;
pub mod rollup;
pub mod routes;
