//! Photo uploads (JPEG, PNG, WebP) attached to submissions: typed from their
//! bytes, bounded in size and pixels, kept without metadata, stored once per
//! content, counted against a member's daily quota.

pub mod dto;
pub mod image;
pub mod receive;
pub mod repo;
pub mod routes;
