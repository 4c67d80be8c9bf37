//! Idempotent submissions.
