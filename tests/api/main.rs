//! The API as a mini-program and a dashboard use it, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access_matrix;
mod assessments;
mod audit;
mod auth;
mod campaigns;
mod contract;
mod conventions;
mod dashboard;
mod data_safety;
mod helpers;
mod households;
mod mediation;
mod notifications;
mod operations;
mod organisation;
mod personal_data;
mod pledges;
mod security;
mod stats;
mod stats_export;
mod supervision;
mod uploads;
mod visits;
mod wechat;
