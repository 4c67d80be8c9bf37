//! Access tokens (HS256 JWT), WeChat binding tokens, and opaque secrets
//! (refresh tokens, activation codes) that are stored only as hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::domain::Role;

/// Claims of an access token: enough to decide access; whether they still
/// hold is checked against the user (`core::sessions`).
#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: Uuid,
    /// Township (tenant) id.
    pub twp: Uuid,
    /// Branch id; none for township admins.
    pub br: Option<Uuid>,
    pub role: Role,
    /// The user's token version when signed; the token ends once it moves.
    pub ver: i32,
    pub typ: TokenType,
    pub iat: i64,
    pub exp: i64,
}

/// Claims of a binding token: a WeChat account waiting to be bound to a user.
#[derive(Debug, Serialize, Deserialize)]
pub struct BindingClaims {
    pub openid: String,
    pub typ: TokenType,
    pub iat: i64,
    pub exp: i64,
}

/// Keeps one kind of token from being accepted as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenType {
    Access,
    Binding,
}

/// Signing and verification keys derived from `JWT_SECRET`.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp"]);
        TokenKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    pub fn sign<C: Serialize>(&self, claims: &C) -> anyhow::Result<String> {
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &self.encoding,
        )?)
    }

    /// Verifies signature, algorithm (HS256 only, so `alg: none` fails) and expiry.
    pub fn access(&self, token: &str) -> Option<AccessClaims> {
        let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.typ == TokenType::Access).then_some(claims)
    }

    pub fn binding(&self, token: &str) -> Option<BindingClaims> {
        let claims = jsonwebtoken::decode::<BindingClaims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        (claims.typ == TokenType::Binding).then_some(claims)
    }
}

/// Seconds since the epoch, now.
pub fn now_secs() -> i64 {
    Utc::now().timestamp()
}

/// A random opaque secret: 32 bytes, base64url.
pub fn opaque_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A one-time activation code a secretary reads out: 8 characters without
/// look-alikes (no 0/O, 1/I/L).
pub fn activation_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// How secrets are stored: SHA-256, hex. They are long and random, so no salt is needed.
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Activation codes are read aloud and typed on phones: case and spaces do not count.
pub fn activation_code_hash(code: &str) -> String {
    let normalised: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    secret_hash(&normalised.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(&[7u8; 32])
    }

    fn claims(exp: i64) -> AccessClaims {
        AccessClaims {
            sub: Uuid::now_v7(),
            twp: Uuid::now_v7(),
            br: None,
            role: Role::TownshipAdmin,
            ver: 0,
            typ: TokenType::Access,
            iat: now_secs(),
            exp,
        }
    }

    #[test]
    fn signed_access_token_round_trips() {
        let token = keys().sign(&claims(now_secs() + 60)).unwrap();
        assert_eq!(keys().access(&token).unwrap().role, Role::TownshipAdmin);
    }

    #[test]
    fn expired_forged_and_unsigned_tokens_are_refused() {
        let expired = keys().sign(&claims(now_secs() - 60)).unwrap();
        assert!(keys().access(&expired).is_none());
        let forged = TokenKeys::new(&[8u8; 32])
            .sign(&claims(now_secs() + 60))
            .unwrap();
        assert!(keys().access(&forged).is_none());
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(now_secs() + 60)).unwrap());
        let alg_none = format!(
            "{}.{body}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(keys().access(&alg_none).is_none());
    }

    #[test]
    fn binding_token_is_not_an_access_token() {
        let binding = BindingClaims {
            openid: "o1".into(),
            typ: TokenType::Binding,
            iat: now_secs(),
            exp: now_secs() + 60,
        };
        let token = keys().sign(&binding).unwrap();
        assert!(keys().access(&token).is_none());
        assert_eq!(keys().binding(&token).unwrap().openid, "o1");
    }

    #[test]
    fn activation_codes_hash_case_insensitively() {
        let code = activation_code();
        assert_eq!(code.len(), 8);
        assert_eq!(
            activation_code_hash(&code),
            activation_code_hash(&format!(" {} ", code.to_lowercase()))
        );
        assert_ne!(secret_hash("abc"), secret_hash("ABC"));
    }
}
