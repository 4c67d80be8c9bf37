//! Visits as CSV.
