//! Party branches (党支部) of a township.

pub mod dto;
pub mod repo;
pub mod routes;
