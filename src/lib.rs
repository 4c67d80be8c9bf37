//! xianfeng (先锋): the backend of a township party committee's 创先争优
//! campaign mini-program.
//!
//! The layers, each using only those below it: `app` assembles `features`
//! and `workers`, which stand on `core`, which stands on `platform`;
//! `domain` (plain types and rules) and `entities` (the tables) are used by all.

pub mod app;
pub mod core;
pub mod domain;
pub mod entities;
pub mod features;
pub mod platform;
pub mod workers;
