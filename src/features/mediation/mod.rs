//! Dispute-mediation reports (矛盾纠纷排查化解): filed by members, reviewed
//! by their secretary, escalated to the township when grave, followed up
//! until settled.

pub mod dto;
pub mod export;
pub mod jobs;
pub mod repo;
pub mod routes;
