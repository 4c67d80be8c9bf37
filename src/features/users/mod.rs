//! Users: members (党员), branch secretaries (支部书记) and township admins.

pub mod admin;
pub mod dto;
pub mod repo;
pub mod routes;
