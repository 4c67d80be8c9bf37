//! Campaigns (创先争优活动) and their phases: a township admin lays out the
//! campaign's phases with their dates, which submission kinds each takes and
//! by when; everyone in the township reads them, `/me` shows the phase of
//! today, stats slice by a phase, and new submissions of a kind the current
//! phase has closed are refused. A township with no phase covering today
//! takes everything, as if campaigns did not exist.

pub mod admission;
pub mod dto;
pub mod jobs;
pub mod repo;
pub mod routes;
