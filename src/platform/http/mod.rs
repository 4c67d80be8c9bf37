//! HTTP conventions shared by every endpoint (SPEC §4): JSON bodies, pagination,
//! request ids, metrics, error localisation, the OpenAPI document, downloads
//! as CSV and xlsx.

pub mod conditional;
pub mod csv_export;
pub mod extract;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod pagination;
pub mod xlsx_export;
