//! One folder per capability: its routes, request and response types, queries.

pub mod assessments;
pub mod audit;
pub mod auth;
pub mod branches;
pub mod campaigns;
pub mod dashboard;
pub mod households;
pub mod me;
pub mod mediation;
pub mod notifications;
pub mod ops;
pub mod pledges;
pub mod rectifications;
pub mod reviews;
pub mod spot_checks;
pub mod stats;
pub mod townships;
pub mod uploads;
pub mod users;
pub mod visits;
