//! Rectifications (整改): what the township finds wanting — in a spot check
//! or otherwise — assigned to a branch to put right by a deadline. The
//! branch's secretary reports what was done, with evidence; the township
//! closes it or sends it back. Those still owed past their deadline are
//! flagged once per deadline.

pub mod dto;
pub mod jobs;
pub mod repo;
pub mod routes;
