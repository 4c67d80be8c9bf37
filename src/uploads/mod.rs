//! Photo uploads (JPEG, PNG, WebP) attached to submissions.

pub mod routes;
pub mod storage;
