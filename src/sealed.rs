//! ID numbers (身份证号) at rest: sealed with ChaCha20-Poly1305 under the key
//! of `ID_NUMBER_KEY`, a fresh random nonce per value. A database copy or
//! backup alone does not disclose them.
//!
//! Stored form: `v1:` + base64 of nonce (12 bytes) ‖ ciphertext ‖ tag. A value
//! without the prefix is a plaintext one written before sealing existed (or by
//! a tool outside the server); it reads as itself, and
//! [`seal_stored_id_numbers`] seals such values at start-up.

use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel,
    QueryFilter,
};

use crate::entities::{household, user};
use crate::error::ApiError;

const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// Seals and opens ID numbers. Cheap to clone.
#[derive(Clone)]
pub struct IdNumberCipher {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for IdNumberCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdNumberCipher([redacted])")
    }
}

impl IdNumberCipher {
    /// A cipher over a 32-byte key; `None` for a key of another length.
    pub fn new(key: &[u8]) -> Option<Self> {
        let key: [u8; 32] = key.try_into().ok()?;
        Some(IdNumberCipher {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        })
    }

    /// The stored form of `plain`, under a fresh nonce.
    pub fn seal(&self, plain: &str) -> Result<String, ApiError> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .map_err(|_| anyhow::anyhow!("sealing an ID number failed"))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{PREFIX}{}", STANDARD_NO_PAD.encode(bytes)))
    }

    /// The ID number of a stored value; plaintext values read as themselves.
    /// A value sealed under another key is an error (500), never shown.
    pub fn open(&self, stored: &str) -> Result<String, ApiError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok(stored.to_owned());
        };
        let broken = || anyhow::anyhow!("a stored ID number does not open with ID_NUMBER_KEY");
        let bytes = STANDARD_NO_PAD.decode(encoded).map_err(|_| broken())?;
        let Some((nonce, sealed)) = bytes.split_first_chunk::<NONCE_BYTES>() else {
            return Err(broken().into());
        };
        let plain = self
            .cipher
            .decrypt(&Nonce::from(*nonce), sealed)
            .map_err(|_| broken())?;
        Ok(String::from_utf8(plain).map_err(|_| broken())?)
    }

    /// Seals an optional ID number on its way to the database.
    pub fn seal_opt(&self, plain: Option<String>) -> Result<Option<String>, ApiError> {
        plain.map(|p| self.seal(&p)).transpose()
    }

    /// Seals a change of an ID number (`Some(None)` clears it).
    pub fn seal_change(
        &self,
        change: Option<Option<String>>,
    ) -> Result<Option<Option<String>>, ApiError> {
        change.map(|value| self.seal_opt(value)).transpose()
    }

    /// A user row with its ID number opened, for views.
    pub fn open_user(&self, mut row: user::Model) -> Result<user::Model, ApiError> {
        row.id_number = row.id_number.map(|v| self.open(&v)).transpose()?;
        Ok(row)
    }

    /// A household row with its ID number opened, for views.
    pub fn open_household(&self, mut row: household::Model) -> Result<household::Model, ApiError> {
        row.id_number = row.id_number.map(|v| self.open(&v)).transpose()?;
        Ok(row)
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

/// Seals every ID number still stored in plaintext (rows from before sealing,
/// an import by other tools, a restored old backup). Run at start-up; a value
/// already sealed is left alone, so running it again changes nothing.
/// Answers how many values it sealed.
pub async fn seal_stored_id_numbers(
    db: &impl ConnectionTrait,
    cipher: &IdNumberCipher,
) -> Result<u64, ApiError> {
    let mut sealed = 0;
    let users = user::Entity::find()
        .filter(user::Column::IdNumber.is_not_null())
        .filter(user::Column::IdNumber.not_like(format!("{PREFIX}%")))
        .all(db)
        .await?;
    for row in users {
        let Some(plain) = row.id_number.clone() else {
            continue;
        };
        let mut changed = row.into_active_model();
        changed.id_number = Set(Some(cipher.seal(&plain)?));
        changed.update(db).await?;
        sealed += 1;
    }
    let households = household::Entity::find()
        .filter(household::Column::IdNumber.is_not_null())
        .filter(household::Column::IdNumber.not_like(format!("{PREFIX}%")))
        .all(db)
        .await?;
    for row in households {
        let Some(plain) = row.id_number.clone() else {
            continue;
        };
        let mut changed = row.into_active_model();
        changed.id_number = Set(Some(cipher.seal(&plain)?));
        changed.update(db).await?;
        sealed += 1;
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "11010519491231002X";

    fn cipher(byte: u8) -> IdNumberCipher {
        IdNumberCipher::new(&[byte; 32]).unwrap()
    }

    #[test]
    fn sealed_value_opens_to_the_id_number_and_hides_it() {
        let sealed = cipher(1).seal(ID).unwrap();

        assert!(is_sealed(&sealed));
        assert!(!sealed.contains("1101"), "{sealed}");
        assert_eq!(cipher(1).open(&sealed).unwrap(), ID);
    }

    #[test]
    fn every_seal_uses_a_fresh_nonce() {
        let c = cipher(1);
        assert_ne!(c.seal(ID).unwrap(), c.seal(ID).unwrap());
    }

    #[test]
    fn another_key_or_a_changed_byte_does_not_open() {
        let sealed = cipher(1).seal(ID).unwrap();
        assert!(cipher(2).open(&sealed).is_err());

        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(cipher(1).open(&tampered).is_err());
    }

    #[test]
    fn plaintext_from_before_sealing_reads_as_itself() {
        assert_eq!(cipher(1).open(ID).unwrap(), ID);
    }

    #[test]
    fn only_32_byte_keys_make_a_cipher() {
        assert!(IdNumberCipher::new(&[0; 16]).is_none());
        assert!(IdNumberCipher::new(&[0; 32]).is_some());
    }
}
