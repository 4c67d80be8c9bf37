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

/// The header a submission carries so that its retries are answered once
/// (`core::idempotency` keeps the answers; the OpenAPI document describes it).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
