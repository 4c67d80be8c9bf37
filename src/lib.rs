//! xianfeng (先锋): the backend of a township party committee's 创先争优
//! campaign mini-program.

pub mod audit;
pub mod auth;
pub mod branches;
pub mod config;
pub mod db;
pub mod demo;
pub mod domain;
pub mod entities;
pub mod error;
pub mod households;
pub mod http;
pub mod idempotency;
pub mod me;
pub mod mediation;
pub mod notifications;
pub mod ops;
pub mod outbox;
pub mod pledges;
pub mod reviews;
pub mod startup;
pub mod telemetry;
pub mod townships;
pub mod uploads;
pub mod users;
pub mod visits;
