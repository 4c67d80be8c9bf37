//! Counting failed sign-in attempts (SPEC §4: 10 failures for one phone within
//! 15 minutes → 429). In Redis when configured, so every replica sees the same
//! count; in process otherwise.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::AsyncCommands;
use redis::aio::ConnectionManager;

use crate::platform::error::ApiError;

/// Where failure counts live.
pub enum RateLimiter {
    InProcess(Mutex<HashMap<String, Window>>),
    Redis {
        connection: ConnectionManager,
        prefix: String,
    },
}

/// A fixed window of failures for one key.
pub struct Window {
    failures: u32,
    ends: Instant,
}

impl RateLimiter {
    pub fn in_process() -> Self {
        RateLimiter::InProcess(Mutex::new(HashMap::new()))
    }

    pub fn redis(connection: ConnectionManager, prefix: &str) -> Self {
        RateLimiter::Redis {
            connection,
            prefix: format!("{prefix}:ratelimit:"),
        }
    }

    /// 429 with the time left when `key` already has `max` failures in its window.
    pub async fn check(&self, key: &str, max: u32) -> Result<(), ApiError> {
        let (failures, left) = self.current(key).await;
        if failures >= max {
            return Err(ApiError::RateLimited {
                retry_after_secs: left.as_secs().max(1),
            });
        }
        Ok(())
    }

    /// Counts one failure for `key`; the window starts at the first.
    pub async fn record_failure(&self, key: &str, window: Duration) {
        match self {
            RateLimiter::InProcess(windows) => {
                let now = Instant::now();
                let mut windows = windows
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                if windows.len() > 100_000 {
                    windows.retain(|_, w| w.ends > now);
                }
                let entry = windows.entry(key.to_owned()).or_insert(Window {
                    failures: 0,
                    ends: now + window,
                });
                if entry.ends <= now {
                    *entry = Window {
                        failures: 0,
                        ends: now + window,
                    };
                }
                entry.failures += 1;
            }
            RateLimiter::Redis { connection, prefix } => {
                let key = format!("{prefix}{key}");
                let mut conn = connection.clone();
                let result: redis::RedisResult<()> = redis::pipe()
                    .atomic()
                    .incr(&key, 1)
                    .ignore()
                    .cmd("EXPIRE")
                    .arg(&key)
                    .arg(window.as_secs().max(1))
                    .arg("NX")
                    .ignore()
                    .query_async(&mut conn)
                    .await;
                if let Err(err) = result {
                    tracing::warn!(error = %err, "rate limiter: Redis unreachable, failure not counted");
                }
            }
        }
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn reset(&self, key: &str) {
        match self {
            RateLimiter::InProcess(windows) => {
                windows
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .remove(key);
            }
            RateLimiter::Redis { connection, prefix } => {
                let mut conn = connection.clone();
                let result: redis::RedisResult<()> = conn.del(format!("{prefix}{key}")).await;
                if let Err(err) = result {
                    tracing::warn!(error = %err, "rate limiter: Redis unreachable, count not reset");
                }
            }
        }
    }

    async fn current(&self, key: &str) -> (u32, Duration) {
        match self {
            RateLimiter::InProcess(windows) => {
                let now = Instant::now();
                let windows = windows
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                match windows.get(key) {
                    Some(w) if w.ends > now => (w.failures, w.ends - now),
                    _ => (0, Duration::ZERO),
                }
            }
            RateLimiter::Redis { connection, prefix } => {
                let key = format!("{prefix}{key}");
                let mut conn = connection.clone();
                let result: redis::RedisResult<(Option<u32>, i64)> = redis::pipe()
                    .get(&key)
                    .ttl(&key)
                    .query_async(&mut conn)
                    .await;
                match result {
                    Ok((failures, ttl)) => (
                        failures.unwrap_or(0),
                        Duration::from_secs(ttl.max(1) as u64),
                    ),
                    Err(err) => {
                        // Failing open: a Redis outage must not lock every member out.
                        tracing::warn!(error = %err, "rate limiter: Redis unreachable, not limiting");
                        (0, Duration::ZERO)
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn limits_after_max_failures_and_resets_on_success() {
        let limiter = RateLimiter::in_process();
        let window = Duration::from_secs(900);
        for _ in 0..3 {
            limiter.check("login:138", 3).await.unwrap();
            limiter.record_failure("login:138", window).await;
        }
        match limiter.check("login:138", 3).await {
            Err(ApiError::RateLimited { retry_after_secs }) => assert!(retry_after_secs > 890),
            other => panic!("expected 429, got {other:?}"),
        }
        limiter.check("login:139", 3).await.unwrap();
        limiter.reset("login:138").await;
        limiter.check("login:138", 3).await.unwrap();
    }

    #[tokio::test]
    async fn window_expiry_forgets_failures() {
        let limiter = RateLimiter::in_process();
        limiter.record_failure("k", Duration::from_millis(20)).await;
        assert!(limiter.check("k", 1).await.is_err());
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert!(limiter.check("k", 1).await.is_ok());
    }
}
