//! The API as a mini-program and a dashboard use it, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access_matrix;
mod assessments;
mod auth;
mod conventions;
mod dashboard;
mod helpers;
mod households;
mod mediation;
mod notifications;
mod operations;
mod organisation;
mod pledges;
mod stats;
mod stats_export;
mod supervision;
mod uploads;
mod visits;
mod wechat;
