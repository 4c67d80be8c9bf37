//! What the request side shares with the notifier: a wake-up when outbox
//! events commit, so delivery starts at once instead of at the next poll, and
//! the instruments the notifier counts with.

use std::time::Duration;

use tokio::sync::Notify;

use crate::platform::http::metrics::NotificationMetrics;

/// One per server, in its state and in the notifier's loops.
pub struct Pipeline {
    wake: Notify,
    poll: Duration,
    metrics: NotificationMetrics,
}

impl Pipeline {
    /// `poll`: how often to look for events committed by other replicas.
    pub fn new(metrics: NotificationMetrics, poll: Duration) -> Self {
        Pipeline {
            wake: Notify::new(),
            poll,
            metrics,
        }
    }

    /// `events` outbox events were committed: counts them and, if any, wakes
    /// the notifier. A wake during a round is kept, and another round follows.
    pub fn committed(&self, events: u64) {
        if events == 0 {
            return;
        }
        self.metrics.written(events);
        self.wake.notify_one();
    }

    /// Waits until events are committed here, or the poll interval has
    /// passed (the way events written by other replicas are found).
    pub async fn next_round(&self) {
        tokio::select! {
            () = self.wake.notified() => {}
            () = tokio::time::sleep(self.poll) => {}
        }
    }

    pub fn metrics(&self) -> &NotificationMetrics {
        &self.metrics
    }
}
