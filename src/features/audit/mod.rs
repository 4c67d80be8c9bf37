//! `/api/v1/audit`: the audit log, for township admins.

pub mod routes;
