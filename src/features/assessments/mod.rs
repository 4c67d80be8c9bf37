//! The year-end assessment (考核) of branches and members: a scheme per
//! township and year, ballot rounds (党员代表测评, 五个模范 ratings), the
//! township committee's rating, computations frozen as versioned snapshots
//! that explain every score, appeals, and the commendations (评选表彰) made
//! from a snapshot.

pub mod commendations;
pub mod dto;
pub mod repo;
pub mod routes;
