//! Who the caller is and what they may reach: passwords, tokens, WeChat login,
//! rate limits, and the access scope every query is built from.

pub mod access;
pub mod actor;
pub mod dto;
pub mod password;
pub mod rate_limit;
pub mod repo;
pub mod routes;
pub mod tokens;
pub mod wechat;

pub use access::{Action, Tenanted};
pub use actor::Actor;
