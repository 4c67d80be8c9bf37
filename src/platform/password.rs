//! argon2id password hashes, computed off the async executor.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Hashes `password` with argon2id and a fresh salt (PHC string).
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _slot = slots().acquire().await?;
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

/// argon2 takes ~19 MiB and a core for ~10 ms: run at most one per core, so a
/// burst of logins queues instead of multiplying memory and blocking threads.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS
        .get_or_init(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())))
}

fn hash_now(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))
}

/// Checks `password` against `stored`. Without a stored hash it still spends
/// the same time, so unknown phones cannot be told from wrong passwords.
pub async fn verify(password: String, stored: Option<String>) -> anyhow::Result<bool> {
    let _slot = slots().acquire().await?;
    tokio::task::spawn_blocking(move || {
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.to_owned());
        let parsed = PasswordHash::new(&stored).map_err(|e| anyhow::anyhow!("stored hash: {e}"))?;
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && stored != DUMMY_HASH)
    })
    .await?
}

/// An argon2id hash with default parameters of a password nobody has.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4V0/3Ue1t2QyXwQ2wYQ0nQhC3cT0Vb3gEC4CFm6VjAg";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_the_right_password_only() {
        let stored = hash("正确的密码123".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(
            verify("正确的密码123".into(), Some(stored.clone()))
                .await
                .unwrap()
        );
        assert!(!verify("wrong-password".into(), Some(stored)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        assert!(!verify("anything".into(), None).await.unwrap());
    }
}
