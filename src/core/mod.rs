//! What every feature shares: the state handlers reach, the caller and the
//! access scope every query starts from, idempotent submissions, the outbox,
//! the audit log, the review workflow, retention, township settings.

pub mod access;
pub mod actor;
pub mod audit;
pub mod change_versions;
pub mod commit;
pub mod consents;
pub mod directory;
pub mod events;
pub mod idempotency;
pub mod jobs;
pub mod outbox;
pub mod pipeline;
pub mod retention;
pub mod review;
pub mod sessions;
pub mod state;
pub mod townships;

pub use access::{Action, Tenanted};
pub use actor::Actor;
