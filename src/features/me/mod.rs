//! The signed-in user's own view: who they are and their assigned households.

pub mod routes;
