//! Spot checks (督导检查): the township draws a reproducible sample of each
//! branch's approved visits and mediation reports, verifies each item (e.g.
//! by phoning the household), and reads per-branch verification figures.

pub mod dto;
pub mod repo;
pub mod routes;
