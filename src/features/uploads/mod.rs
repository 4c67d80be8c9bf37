//! Photo uploads (JPEG, PNG, WebP) attached to submissions: typed from their
//! bytes, stripped of location data, stored once per content.

pub mod dto;
pub mod image;
pub mod receive;
pub mod repo;
pub mod routes;
