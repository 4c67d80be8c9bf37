//! sea-orm entities: the shape of the tables, no logic.

pub mod activation_code;
pub mod assignment;
pub mod audit_log;
pub mod branch;
pub mod digest_run;
pub mod household;
pub mod idempotency_key;
pub mod mediation_follow_up;
pub mod mediation_report;
pub mod notification;
pub mod outbox_event;
pub mod pledge;
pub mod pledge_comment;
pub mod pledge_progress;
pub mod pledge_rating;
pub mod refresh_token;
pub mod stats_delta;
pub mod stats_total;
pub mod submission_event;
pub mod township;
pub mod upload;
pub mod upload_attachment;
pub mod user;
pub mod visit;
pub mod wechat_consent;
