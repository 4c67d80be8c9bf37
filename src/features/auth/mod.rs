//! Signing in and out: passwords, WeChat login and binding, refresh-token
//! rotation, and `/me`.

pub mod dto;
pub mod repo;
pub mod routes;
