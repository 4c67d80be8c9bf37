//! The API as a mini-program and a dashboard use it, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access_matrix;
mod assessments;
mod audit;
mod auth;
mod campaigns;
mod configuration_docs;
mod contract;
mod conventions;
mod dashboard;
mod data_safety;
mod helpers;
mod households;
mod input_hygiene;
mod mediation;
mod notifications;
mod operations;
mod organisation;
mod personal_data;
mod pledges;
mod security;
mod sessions;
mod stats;
mod stats_export;
mod supervision;
mod uploads;
mod visits;
mod wechat;
