//! What any web service needs and nothing here is specific to a township:
//! settings, the database, the error envelope, HTTP conventions, telemetry,
//! tokens and passwords, rate limits, the WeChat client, upload storage,
//! sealing of ID numbers, backups.

pub mod backup;
pub mod config;
pub mod db;
pub mod error;
pub mod http;
pub mod password;
pub mod rate_limit;
pub mod sealed;
pub mod storage;
pub mod telemetry;
pub mod tokens;
pub mod wechat;
