//! Periodic jobs. A feature declares its own in its `jobs.rs`; the app hands
//! the list to the scheduler (`workers::scheduler`), which runs each on its
//! interval on every replica — so a job claims its rows with a conditional
//! update and two replicas running it at once do the work once.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;

use crate::platform::error::ApiError;

/// What one run did: rows it handled, and the outbox events among its
/// writes (the notifier is woken for them).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Ran {
    pub handled: usize,
    pub events: usize,
}

impl Ran {
    /// A run whose every handled row wrote one outbox event.
    pub fn notified(handled: usize) -> Self {
        Ran {
            handled,
            events: handled,
        }
    }
}

pub type RunFuture<'a> = Pin<Box<dyn Future<Output = Result<Ran, ApiError>> + Send + 'a>>;

/// One periodic job.
#[derive(Clone, Copy)]
pub struct Job {
    /// What the logs call it.
    pub name: &'static str,
    /// The wait before each run (the first too, so a short-lived server
    /// does no periodic work and starts quickly).
    pub every: Duration,
    pub run: for<'a> fn(&'a DatabaseConnection, DateTime<Utc>) -> RunFuture<'a>,
}
