//! Household visits (走访): check-ins by members, reviewed by their secretary.

pub mod dto;
pub mod export;
pub mod repo;
pub mod routes;
