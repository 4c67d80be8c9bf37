//! Runs the periodic jobs the app assembles from core and the features, each
//! in a task of its own, and wakes the notifier for the events they write.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::core::jobs::Job;
use crate::core::pipeline::Pipeline;

/// Starts every job; each runs until the process ends.
pub fn start(db: DatabaseConnection, jobs: &[Job], pipeline: Arc<Pipeline>) {
    for &job in jobs {
        let db = db.clone();
        let pipeline = pipeline.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(job.every).await;
                match (job.run)(&db, crate::platform::db::now()).await {
                    Ok(ran) if ran.handled == 0 => {}
                    Ok(ran) => {
                        pipeline.committed(ran.events as u64);
                        tracing::info!(job = job.name, handled = ran.handled, "job ran");
                    }
                    Err(err) => tracing::warn!(job = job.name, error = %err, "job failed"),
                }
            }
        });
    }
}
