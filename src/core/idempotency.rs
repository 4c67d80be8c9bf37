//! Idempotent submissions (SPEC §4). A phone on a bad network resends a
//! submission with the same `Idempotency-Key` until it hears an answer; the
//! first answer is stored with the change, in its transaction, and replayed.
//!
//! Two ways, one guarantee. Most submissions [`claim`] the key first thing in
//! their transaction (`ON CONFLICT DO NOTHING`); a check-in, which must be
//! cheap, writes the key with its answer in the same single step as the
//! visit ([`Once`]). Either way the unique index on (user, key) makes
//! concurrent requests with one key wait for the first to commit and then
//! find its answer: exactly one submission is created, enforced by the
//! database rather than a check-then-insert race. Keys are kept for
//! [`KEY_TTL`].

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use chrono::Duration;
use sea_orm::sea_query::{Expr, OnConflict, SelectStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
};
use serde::Serialize;
use uuid::Uuid;

use crate::core::Actor;
use crate::domain::FieldErrors;
use crate::entities::idempotency_key;
use crate::platform::db::Batch;
use crate::platform::error::ApiError;

/// How long an answer is kept for replay.
pub const KEY_TTL: Duration = Duration::hours(24);

pub use crate::platform::http::IDEMPOTENCY_KEY as HEADER;

/// The `Idempotency-Key` of a request, if it sent one.
#[derive(Debug, Clone)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// A UUID (SPEC §4: the mini-program sends one it keeps until it hears an
    /// answer), kept in its lower-case hyphenated form so that the spellings
    /// of one UUID are one key; anything else is 422 naming the header.
    pub fn from_request(req: &HttpRequest) -> Result<Option<Self>, ApiError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(None);
        };
        let key = value
            .to_str()
            .ok()
            .and_then(|key| Uuid::try_parse(key.trim()).ok())
            .ok_or_else(|| {
                FieldErrors::single(
                    HEADER,
                    "invalid_uuid",
                    "Idempotency-Key 应为 UUID，如 0192f1c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f",
                    "Idempotency-Key must be a UUID, e.g. 0192f1c4-5a6b-7c8d-9e0f-1a2b3c4d5e6f",
                )
            })?;
        Ok(Some(IdempotencyKey(key.hyphenated().to_string())))
    }
}

/// What a submission holds after claiming its key.
pub enum Claim {
    /// Go ahead; record the answer with [`Claim::complete`] before committing.
    Fresh(Option<Uuid>),
    /// This key has been answered: send the answer again.
    Replay(HttpResponse),
}

/// Claims `key` for this request inside `txn`, or finds its earlier answer.
/// Without a key every request is fresh.
pub async fn claim(
    txn: &DatabaseTransaction,
    actor: &Actor,
    key: Option<&IdempotencyKey>,
    fingerprint: &str,
) -> Result<Claim, ApiError> {
    let Some(IdempotencyKey(key)) = key else {
        return Ok(Claim::Fresh(None));
    };
    let now = crate::platform::db::now();
    let id = Uuid::now_v7();
    // ON CONFLICT DO NOTHING rather than catching the violation: the
    // transaction stays usable on PostgreSQL, with no savepoint round trips.
    let inserted = idempotency_key::Entity::insert(idempotency_key::ActiveModel {
        id: Set(id),
        township_id: Set(actor.township_id),
        user_id: Set(actor.user_id),
        key: Set(key.clone()),
        request_hash: Set(fingerprint.to_owned()),
        response_status: Set(None),
        response_body: Set(None),
        created_at: Set(now),
        expires_at: Set(now + KEY_TTL),
    })
    .on_conflict(
        OnConflict::columns([
            idempotency_key::Column::UserId,
            idempotency_key::Column::Key,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 1 {
        return Ok(Claim::Fresh(Some(id)));
    }
    let earlier = taken(txn, actor, key).await?.ok_or_else(|| {
        ApiError::Internal(anyhow::anyhow!("idempotency key vanished after a conflict"))
    })?;
    if earlier.expires_at <= now {
        // An expired key is free again: take it over.
        let mut renewed: idempotency_key::ActiveModel = earlier.into();
        renewed.request_hash = Set(fingerprint.to_owned());
        renewed.response_status = Set(None);
        renewed.response_body = Set(None);
        renewed.created_at = Set(now);
        renewed.expires_at = Set(now + KEY_TTL);
        let renewed = renewed.update(txn).await?;
        return Ok(Claim::Fresh(Some(renewed.id)));
    }
    replay(earlier, fingerprint).map(Claim::Replay)
}

/// The row of a key this user has taken, if any.
async fn taken(
    db: &impl ConnectionTrait,
    actor: &Actor,
    key: &str,
) -> Result<Option<idempotency_key::Model>, ApiError> {
    Ok(idempotency_key::Entity::find()
        .filter(idempotency_key::Column::UserId.eq(actor.user_id))
        .filter(idempotency_key::Column::Key.eq(key))
        .one(db)
        .await?)
}

/// The earlier answer under a live key, for a request with `fingerprint`:
/// 409 if it was another request.
fn replay(earlier: idempotency_key::Model, fingerprint: &str) -> Result<HttpResponse, ApiError> {
    if earlier.request_hash != fingerprint {
        return Err(ApiError::IdempotencyKeyReused);
    }
    match (earlier.response_status, earlier.response_body) {
        (Some(status), Some(body)) => {
            let status = u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK);
            Ok(HttpResponse::build(status)
                .content_type("application/json")
                .insert_header(("Idempotent-Replayed", "true"))
                .body(body))
        }
        _ => Err(ApiError::Internal(anyhow::anyhow!(
            "idempotency key {} committed without an answer",
            earlier.id
        ))),
    }
}

/// A submission that checks first and then writes in one step
/// ([`Batch::commit`]), rather than in a transaction that claims its key
/// before anything else: the check-in, whose round trips count most. The
/// key's row goes into the batch with its answer, so a key taken by a
/// concurrent request meanwhile fails the whole step on its unique index,
/// and nothing is written twice.
///
/// ```text
/// loop: check, asking once.probe() alongside
///       once.after_checks(db, ..) -> go ahead, or an answer to send again
///       build the batch; once.answer(&mut batch, ..)
///       batch.commit(db)   -> answer, or once.after_failure(err)? and loop
/// ```
pub struct Once<'a> {
    actor: &'a Actor,
    key: Option<&'a IdempotencyKey>,
    fingerprint: &'a str,
}

/// What [`Once::after_checks`] decides.
pub enum Go<T> {
    /// Write the submission checked.
    Ahead(T),
    /// Send this earlier answer again.
    Answer(HttpResponse),
}

impl<'a> Once<'a> {
    /// Attempts a submission makes before giving up on a key that keeps
    /// failing its write (one is the rule; a second follows a concurrent retry).
    pub const ATTEMPTS: usize = 3;

    pub fn new(actor: &'a Actor, key: Option<&'a IdempotencyKey>, fingerprint: &'a str) -> Self {
        Once {
            actor,
            key,
            fingerprint,
        }
    }

    /// A query that finds this request's key taken, for the submission to
    /// ask with its own reads (no round trip of its own); when it finds a
    /// row, or the submission is refused, [`Once::after_checks`] says what
    /// to answer.
    pub fn probe(&self) -> Option<SelectStatement> {
        let IdempotencyKey(key) = self.key?;
        Some(
            idempotency_key::Entity::find()
                .select_only()
                .expr(Expr::val(1))
                .filter(idempotency_key::Column::UserId.eq(self.actor.user_id))
                .filter(idempotency_key::Column::Key.eq(key.as_str()))
                .into_query(),
        )
    }

    /// Whether a submission whose checks came to `checked` goes ahead. A
    /// retry is answered as the first request was, whatever the checks find
    /// now: if the probe found the key taken (`key_taken`), or the checks
    /// refused, the earlier answer is looked for first. A failure of the
    /// server's own (the database unreachable) is no refusal, and is
    /// answered at once.
    pub async fn after_checks<T>(
        &self,
        db: &DatabaseConnection,
        checked: Result<T, ApiError>,
        key_taken: bool,
    ) -> Result<Go<T>, ApiError> {
        match checked {
            Ok(checked) if !key_taken => Ok(Go::Ahead(checked)),
            Err(failure) if failure.status_code().is_server_error() => Err(failure),
            checked => match self.earlier(db).await? {
                Some(earlier) => Ok(Go::Answer(earlier)),
                None => checked.map(Go::Ahead),
            },
        }
    }

    /// The earlier answer under this key; 409 if the key answered another
    /// request. A key past its expiry is deleted, and the submission goes
    /// ahead.
    async fn earlier(&self, db: &DatabaseConnection) -> Result<Option<HttpResponse>, ApiError> {
        let Some(IdempotencyKey(key)) = self.key else {
            return Ok(None);
        };
        let Some(earlier) = taken(db, self.actor, key).await? else {
            return Ok(None);
        };
        let now = crate::platform::db::now();
        if earlier.expires_at <= now {
            // Unless renewed meanwhile by a transactional claim.
            idempotency_key::Entity::delete_many()
                .filter(idempotency_key::Column::Id.eq(earlier.id))
                .filter(idempotency_key::Column::ExpiresAt.lte(now))
                .exec(db)
                .await?;
            return Ok(None);
        }
        replay(earlier, self.fingerprint).map(Some)
    }

    /// Adds the key's row, answer included, to `batch`; builds the response.
    pub fn answer<T: Serialize>(
        &self,
        batch: &mut Batch,
        status: StatusCode,
        body: &T,
    ) -> Result<HttpResponse, ApiError> {
        let json = serde_json::to_string(body).map_err(anyhow::Error::from)?;
        if let Some(IdempotencyKey(key)) = self.key {
            let now = crate::platform::db::now();
            batch.insert(idempotency_key::ActiveModel {
                id: Set(Uuid::now_v7()),
                township_id: Set(self.actor.township_id),
                user_id: Set(self.actor.user_id),
                key: Set(key.clone()),
                request_hash: Set(self.fingerprint.to_owned()),
                response_status: Set(Some(i32::from(status.as_u16()))),
                response_body: Set(Some(json.clone())),
                created_at: Set(now),
                expires_at: Set(now + KEY_TTL),
            });
        }
        Ok(first_answer(status, json))
    }

    /// After the batch failed to commit with `err`: `Ok` if the key was
    /// taken meanwhile, and the next attempt's [`Once::after_checks`]
    /// answers it; any other failure is the caller's.
    pub fn after_failure(&self, err: DbErr) -> Result<(), ApiError> {
        if self.key.is_some() && crate::platform::error::is_unique_violation(&err) {
            return Ok(());
        }
        Err(err.into())
    }
}

impl Claim {
    /// Stores the answer with the change and builds the response.
    pub async fn complete<T: Serialize>(
        self,
        txn: &DatabaseTransaction,
        status: StatusCode,
        body: &T,
    ) -> Result<HttpResponse, ApiError> {
        let mut batch = Batch::default();
        let answer = self.answer(&mut batch, status, body)?;
        batch.write(txn).await?;
        Ok(answer)
    }

    /// [`Claim::complete`], storing the answer as a row of `batch`, which
    /// the caller writes before committing.
    pub fn answer<T: Serialize>(
        self,
        batch: &mut Batch,
        status: StatusCode,
        body: &T,
    ) -> Result<HttpResponse, ApiError> {
        let json = serde_json::to_string(body).map_err(anyhow::Error::from)?;
        if let Claim::Fresh(Some(id)) = self {
            batch.update(
                idempotency_key::Entity::update_many()
                    .col_expr(
                        idempotency_key::Column::ResponseStatus,
                        Expr::value(i32::from(status.as_u16())),
                    )
                    .col_expr(
                        idempotency_key::Column::ResponseBody,
                        Expr::value(json.clone()),
                    )
                    .filter(idempotency_key::Column::Id.eq(id))
                    .into_query(),
            );
        }
        Ok(first_answer(status, json))
    }
}

/// A submission's answer as first sent (a replay adds `Idempotent-Replayed`).
fn first_answer(status: StatusCode, json: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("application/json")
        .body(json)
}

/// Deletes spent keys every ten minutes.
pub const SWEEP: crate::core::jobs::Job = crate::core::jobs::Job {
    name: "expired idempotency keys",
    every: std::time::Duration::from_secs(600),
    run: |db, _| {
        Box::pin(async move {
            let swept = sweep_expired(db).await?;
            Ok(crate::core::jobs::Ran {
                handled: swept as usize,
                events: 0,
            })
        })
    },
};

/// Deletes keys past their expiry; answers how many.
pub async fn sweep_expired(db: &sea_orm::DatabaseConnection) -> Result<u64, ApiError> {
    let swept = idempotency_key::Entity::delete_many()
        .filter(idempotency_key::Column::ExpiresAt.lt(crate::platform::db::now()))
        .exec(db)
        .await?;
    Ok(swept.rows_affected)
}
