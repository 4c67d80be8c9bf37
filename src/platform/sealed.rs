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
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entities::{household, user};
use crate::platform::error::ApiError;

const PREFIX: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// Seals and opens ID numbers. Cheap to clone.
#[derive(Clone)]
pub struct IdNumberCipher {
    cipher: ChaCha20Poly1305,
    /// The key being rotated out: values sealed under it still open.
    previous: Option<ChaCha20Poly1305>,
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
            previous: None,
        })
    }

    /// The cipher of `ID_NUMBER_KEY`, also opening values under
    /// `ID_NUMBER_KEY_PREVIOUS` when that is set.
    pub fn of(settings: &crate::platform::config::Settings) -> anyhow::Result<Self> {
        let current = IdNumberCipher::new(&settings.id_number_key)
            .ok_or_else(|| anyhow::anyhow!("ID_NUMBER_KEY: must be 32 bytes"))?;
        match &settings.id_number_key_previous {
            Some(previous) => current
                .with_previous(previous)
                .ok_or_else(|| anyhow::anyhow!("ID_NUMBER_KEY_PREVIOUS: must be 32 bytes")),
            None => Ok(current),
        }
    }

    /// The same cipher, also opening values sealed under `previous` (the key
    /// being rotated out); `None` for a key of another length.
    pub fn with_previous(self, previous: &[u8]) -> Option<Self> {
        let previous: [u8; 32] = previous.try_into().ok()?;
        Some(IdNumberCipher {
            previous: Some(ChaCha20Poly1305::new(&Key::from(previous))),
            ..self
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
    /// A value sealed under neither the key nor the previous one is an error
    /// (500), never shown.
    pub fn open(&self, stored: &str) -> Result<String, ApiError> {
        Ok(self.opened(stored)?.0)
    }

    /// A stored value opened, and whether it was sealed under the previous
    /// key (so that [`reseal_id_numbers`] seals it again under the current).
    fn opened(&self, stored: &str) -> Result<(String, bool), ApiError> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else {
            return Ok((stored.to_owned(), false));
        };
        let broken = || anyhow::anyhow!("a stored ID number does not open with ID_NUMBER_KEY");
        let bytes = STANDARD_NO_PAD.decode(encoded).map_err(|_| broken())?;
        let Some((nonce, sealed)) = bytes.split_first_chunk::<NONCE_BYTES>() else {
            return Err(broken().into());
        };
        let nonce = Nonce::from(*nonce);
        let (plain, under_previous) = match self.cipher.decrypt(&nonce, sealed) {
            Ok(plain) => (plain, false),
            Err(_) => {
                let previous = self.previous.as_ref().ok_or_else(broken)?;
                (
                    previous.decrypt(&nonce, sealed).map_err(|_| broken())?,
                    true,
                )
            }
        };
        Ok((
            String::from_utf8(plain).map_err(|_| broken())?,
            under_previous,
        ))
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

/// The SQL condition of an ID number stored in plaintext. Literals, as in
/// the partial indexes `users_unsealed_id_number` and
/// `households_unsealed_id_number`, so that PostgreSQL can match them.
pub const UNSEALED: &str = "id_number IS NOT NULL AND id_number NOT LIKE 'v1:%'";

/// Rows sealed per round of [`seal_stored_id_numbers`].
const SEAL_BATCH: u64 = 500;

/// Seals every ID number still stored in plaintext (rows from before sealing,
/// an import by other tools, a restored old backup). Run at start-up; a value
/// already sealed is left alone, so running it again changes nothing, and
/// finding that nothing is left is one lookup in an empty partial index.
/// Answers how many values it sealed.
pub async fn seal_stored_id_numbers(
    db: &impl ConnectionTrait,
    cipher: &IdNumberCipher,
) -> Result<u64, ApiError> {
    Pass::SealPlaintext.over_every_table(db, cipher).await
}

/// What a pass over the stored ID numbers replaces.
#[derive(Clone, Copy)]
enum Pass {
    /// Values stored in plaintext, sealed under the current key.
    SealPlaintext,
    /// Values sealed under the previous key, sealed again under the current one.
    ResealPrevious,
}

impl Pass {
    /// Runs the pass over every column that holds ID numbers; answers how
    /// many values it replaced.
    async fn over_every_table(
        self,
        db: &impl ConnectionTrait,
        cipher: &IdNumberCipher,
    ) -> Result<u64, ApiError> {
        let users = self
            .over::<user::Entity>(db, cipher, user::Column::Id, user::Column::IdNumber)
            .await?;
        let households = self
            .over::<household::Entity>(
                db,
                cipher,
                household::Column::Id,
                household::Column::IdNumber,
            )
            .await?;
        Ok(users + households)
    }

    async fn over<E: EntityTrait>(
        self,
        db: &impl ConnectionTrait,
        cipher: &IdNumberCipher,
        id: E::Column,
        id_number: E::Column,
    ) -> Result<u64, ApiError> {
        match self {
            Pass::SealPlaintext => seal_rows::<E>(db, cipher, id, id_number).await,
            Pass::ResealPrevious => reseal_rows::<E>(db, cipher, id, id_number).await,
        }
    }
}

/// Seals the plaintext ID numbers of one table, [`SEAL_BATCH`] rows a round.
async fn seal_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    cipher: &IdNumberCipher,
    id: E::Column,
    id_number: E::Column,
) -> Result<u64, ApiError> {
    let mut sealed = 0;
    loop {
        let plain: Vec<(Uuid, String)> = E::find()
            .select_only()
            .columns([id, id_number])
            .filter(Expr::cust(UNSEALED))
            .limit(SEAL_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        if plain.is_empty() {
            return Ok(sealed);
        }
        for (row, value) in plain {
            sealed += replace::<E>(db, (id, row), id_number, &value, cipher.seal(&value)?).await?;
        }
    }
}

/// Seals again, under the current key, every ID number sealed under the
/// previous one (`ID_NUMBER_KEY_PREVIOUS`), [`SEAL_BATCH`] rows a round in
/// the order of their ids; values already under the current key are left
/// alone, so running it again changes nothing. A value under neither key
/// stops it with an error. Answers how many values it sealed again.
pub async fn reseal_id_numbers(
    db: &impl ConnectionTrait,
    cipher: &IdNumberCipher,
) -> Result<u64, ApiError> {
    Pass::ResealPrevious.over_every_table(db, cipher).await
}

/// Seals again the ID numbers of one table sealed under the previous key.
async fn reseal_rows<E: EntityTrait>(
    db: &impl ConnectionTrait,
    cipher: &IdNumberCipher,
    id: E::Column,
    id_number: E::Column,
) -> Result<u64, ApiError> {
    let mut resealed = 0;
    let mut after = Uuid::nil();
    loop {
        let stored: Vec<(Uuid, String)> = E::find()
            .select_only()
            .columns([id, id_number])
            .filter(id_number.is_not_null())
            .filter(id.gt(after))
            .order_by_asc(id)
            .limit(SEAL_BATCH)
            .into_tuple()
            .all(db)
            .await?;
        let Some((last, _)) = stored.last() else {
            return Ok(resealed);
        };
        after = *last;
        for (row, value) in stored {
            let (plain, under_previous) = cipher.opened(&value)?;
            if !under_previous {
                continue;
            }
            resealed +=
                replace::<E>(db, (id, row), id_number, &value, cipher.seal(&plain)?).await?;
        }
    }
}

/// Stores `sealed` in place of `seen`, unless the row changed since it was
/// read (an edit sealed under the current key must not be overwritten with
/// the value it replaced). Answers 1 when it did, 0 when the row had moved on.
async fn replace<E: EntityTrait>(
    db: &impl ConnectionTrait,
    (id, row): (E::Column, Uuid),
    id_number: E::Column,
    seen: &str,
    sealed: String,
) -> Result<u64, ApiError> {
    let updated = E::update_many()
        .col_expr(id_number, Expr::value(sealed))
        .filter(id.eq(row))
        .filter(id_number.eq(seen))
        .exec(db)
        .await?;
    Ok(updated.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unsealed_condition_names_the_stored_prefix() {
        assert!(UNSEALED.contains(&format!("NOT LIKE '{PREFIX}%'")));
    }

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
    fn a_value_under_the_previous_key_opens_during_a_rotation_and_says_so() {
        let old = cipher(1).seal(ID).unwrap();
        let rotating = cipher(2).with_previous(&[1; 32]).unwrap();
        let new = rotating.seal(ID).unwrap();

        assert_eq!(rotating.opened(&old).unwrap(), (ID.to_owned(), true));
        assert_eq!(rotating.opened(&new).unwrap(), (ID.to_owned(), false));
        assert!(
            cipher(2).open(&old).is_err(),
            "not without the previous key"
        );
        assert!(
            cipher(1).open(&new).is_err(),
            "new values are under the new key"
        );
        let stranger = cipher(3).seal(ID).unwrap();
        assert!(rotating.open(&stranger).is_err());
        assert!(cipher(2).with_previous(&[1; 16]).is_none());
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
