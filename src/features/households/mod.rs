//! Households (农户) and the members responsible for them (党员包户).

pub mod dto;
pub mod import;
pub mod repo;
pub mod routes;
