//! Where uploaded bytes are kept.

/// The upload store (local `DATA_DIR` by default).
#[derive(Clone, Default)]
pub struct Storage;

impl Storage {
    pub fn from_settings(_settings: &crate::config::Settings) -> anyhow::Result<Self> {
        Ok(Storage)
    }
}
