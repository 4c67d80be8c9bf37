//! Operations endpoints: liveness, readiness, metrics.

pub mod routes;
