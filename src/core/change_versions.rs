//! Townships' change versions as this replica last read them, so a dashboard's
//! `If-None-Match` is usually answered without asking the database.
//!
//! A write this replica commits forgets every version at once, so its own
//! answers are never stale. A write committed by another replica shows here
//! within [`VERSION_TTL`], well inside the answers' `max-age`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::platform::error::ApiError;

/// How long a replica may answer 304 on a version another replica has moved.
pub const VERSION_TTL: Duration = Duration::from_millis(500);

#[derive(Default)]
pub struct ChangeVersions {
    entries: Mutex<HashMap<Uuid, (Instant, Option<Uuid>)>>,
    /// Moves on every [`forget_all`](Self::forget_all), so a read that raced
    /// a write is not kept.
    generation: AtomicU64,
}

impl ChangeVersions {
    /// The township's change version: its newest audit row.
    pub async fn get(
        &self,
        db: &impl ConnectionTrait,
        township_id: Uuid,
    ) -> Result<Option<Uuid>, ApiError> {
        if let Some((read_at, version)) = self.lock().get(&township_id)
            && read_at.elapsed() < VERSION_TTL
        {
            return Ok(*version);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let read_at = Instant::now();
        let version = crate::core::audit::latest_change(db, township_id).await?;
        let mut entries = self.lock();
        // Checked under the lock `forget_all` clears with: a write committed
        // while the database was read may not be in `version`.
        if self.generation.load(Ordering::Acquire) == generation {
            entries.insert(township_id, (read_at, version));
        }
        Ok(version)
    }

    /// After this replica committed a write: no answer may rest on an
    /// earlier read.
    pub fn forget_all(&self) {
        let mut entries = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, (Instant, Option<Uuid>)>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
