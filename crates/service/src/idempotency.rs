//! Idempotency-Key: a retried purchase returns the first answer and buys nothing.
//!
//! A key is scoped to (organization, mode) and kept 24 hours. The first request inserts the
//! key row (`ON CONFLICT DO NOTHING` decides, in the database, who is first); its answer (an
//! [`Answer`]: the number bought, or the refusal) is stored in the same transaction as the
//! purchase, so a sale and its recorded answer exist together or not at all. A row without an
//! answer means the first request is still running: a retry then gets 409 `conflict`. If that
//! first request died, its transaction rolled back, and after [`AGES`]`.stale` another request
//! may take the key over. Ages are judged by the database's clock, the one clock every process
//! shares.

use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::{ErrorBody, ErrorDetail, NumberOrder, PhoneNumber};
use kros_storage::{KeyAges, WriteTx};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const MAX_KEY_LEN: usize = 255;
/// A key is kept a day; a key whose first request left no answer for a minute is taken over.
const AGES: KeyAges = KeyAges { keep: Duration::from_secs(24 * 3600), stale: Duration::from_secs(60) };

/// A validated key and the fingerprint of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    key: String,
    fingerprint: String,
}

impl Claim {
    /// `request` is the request as the service parsed it, serialized canonically.
    pub fn new(raw_key: &str, request: &impl serde::Serialize) -> Result<Self, AppError> {
        let invalid = |m: &str| AppError::validation("Idempotency-Key", m);
        if raw_key.is_empty() || raw_key.len() > MAX_KEY_LEN {
            return Err(invalid("Idempotency-Key must be 1 to 255 characters"));
        }
        if !raw_key.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Err(invalid("Idempotency-Key must be printable ASCII without spaces"));
        }
        let canonical = serde_json::to_vec(request)
            .map_err(|e| AppError::internal_caused_by("cannot fingerprint the request", e))?;
        Ok(Claim { key: raw_key.to_string(), fingerprint: hex::encode(Sha256::digest(canonical)) })
    }

    /// What is stored to recognise the request (SHA-256 of its canonical JSON, hex).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

/// The first request's outcome, as the service decided it; each door renders it on a replay as
/// it renders a fresh one. Stored as JSON: `{"bought": {number}}` or `{"refused": {code, message,
/// field}}`, beside the HTTP status it answered (kept for people reading the table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    Bought(PhoneNumber),
    /// A bulk order's numbers (`service::orders`).
    Ordered(NumberOrder),
    Refused(ErrorDetail),
}

impl Answer {
    pub fn refused(err: &AppError) -> Self {
        Answer::Refused(err.detail())
    }

    /// The outcome of a purchase again: the number, or the same refusal (same code, status and
    /// message).
    pub fn into_result(self) -> Result<PhoneNumber, AppError> {
        match self {
            Answer::Bought(number) => Ok(number),
            Answer::Refused(detail) => Err(AppError::refusal(detail)),
            Answer::Ordered(_) => Err(mixed_up()),
        }
    }

    /// The outcome of an order again.
    pub fn into_order_result(self) -> Result<NumberOrder, AppError> {
        match self {
            Answer::Ordered(order) => Ok(order),
            Answer::Refused(detail) => Err(AppError::refusal(detail)),
            Answer::Bought(_) => Err(mixed_up()),
        }
    }

    fn status(&self) -> u16 {
        match self {
            Answer::Bought(_) | Answer::Ordered(_) => 201,
            Answer::Refused(detail) => detail.code.http_status(),
        }
    }

    fn encode(&self) -> Result<String, AppError> {
        serde_json::to_string(self).map_err(|e| AppError::internal_caused_by("cannot store the answer", e))
    }

    /// Reads a stored answer; rows written before answers were stored this way hold the HTTP
    /// response itself (a number under 201, an error body otherwise).
    fn decode(status: i32, body: &str) -> Result<Self, AppError> {
        let unreadable = |e| AppError::internal_caused_by("a stored Idempotency-Key answer is unreadable", e);
        serde_json::from_str::<Answer>(body).or_else(|_| match status {
            201 => serde_json::from_str(body).map(Answer::Bought).map_err(unreadable),
            _ => serde_json::from_str::<ErrorBody>(body).map(|b| Answer::Refused(b.error)).map_err(unreadable),
        })
    }
}

/// A key's answer of the other kind: impossible, since each route fingerprints its requests under
/// its own name (a purchase's and an order's never match).
fn mixed_up() -> AppError {
    AppError::internal("an Idempotency-Key answer of another route")
}

#[allow(clippy::large_enum_variant, reason = "one per purchase, moved once")]
pub enum Begin {
    /// This request owns the key: do the work.
    Proceed,
    /// The key was used before with the same request: answer this.
    Replay(Answer),
}

pub async fn begin(ctx: &Context, tenant: &Tenant, claim: &Claim) -> Result<Begin, AppError> {
    let scope = tenant.scope();
    // Two rounds at most: the second follows the removal of an expired row.
    for _ in 0..2 {
        if ctx.store.claim_idempotency_key(scope, &claim.key, &claim.fingerprint).await? {
            return Ok(Begin::Proceed);
        }
        let Some(record) = ctx.store.idempotency_key(scope, &claim.key, AGES).await? else {
            continue; // removed meanwhile: try to insert again
        };
        if record.expired {
            ctx.store.remove_expired_idempotency_key(scope, &claim.key, AGES).await?;
            continue;
        }
        if record.request_hash != claim.fingerprint {
            return Err(AppError::IdempotencyKeyReused);
        }
        return match (record.response_status, record.response_body) {
            (Some(status), Some(body)) => Ok(Begin::Replay(Answer::decode(status, &body)?)),
            _ if record.stale => {
                ctx.store.remove_expired_idempotency_key(scope, &claim.key, AGES).await?;
                continue;
            }
            _ => {
                Err(AppError::Conflict("a request with this Idempotency-Key is still in progress; retry later".into()))
            }
        };
    }
    Err(AppError::Conflict("this Idempotency-Key is busy; retry later".into()))
}

/// The outcome of work done at most once per Idempotency-Key.
#[derive(Debug)]
pub enum Outcome<T> {
    /// Done now.
    Done(T),
    /// The first answer to this key, again: what it did, or the refusal it got.
    Replayed(Result<T, AppError>),
}

impl<T> Outcome<T> {
    /// What was done now or by the first request, or the first request's refusal.
    pub fn into_result(self) -> Result<T, AppError> {
        match self {
            Outcome::Done(done) => Ok(done),
            Outcome::Replayed(answer) => answer,
        }
    }
}

/// Does `work` at most once per key: the same key with the same request replays the first
/// answer (read back by `replayed`); with another request it is refused. `work` stores its
/// success in its own transaction (`complete_in`); a refusal is stored here, and a transient
/// failure frees the key so that the client's retry does the work.
pub async fn once<'k, T, Work>(
    ctx: &Context,
    tenant: &Tenant,
    key: Option<&'k Claim>,
    replayed: fn(Answer) -> Result<T, AppError>,
    work: impl FnOnce(Option<&'k Claim>) -> Work,
) -> Result<Outcome<T>, AppError>
where
    Work: std::future::Future<Output = Result<T, AppError>>,
{
    let Some(key) = key else {
        return work(None).await.map(Outcome::Done);
    };
    match begin(ctx, tenant, key).await? {
        Begin::Replay(answer) => Ok(Outcome::Replayed(replayed(answer))),
        Begin::Proceed => match work(Some(key)).await {
            Ok(done) => Ok(Outcome::Done(done)),
            Err(err) => {
                if err.is_server_fault() {
                    abandon(ctx, tenant, key).await?;
                } else {
                    complete(ctx, tenant, key, &Answer::refused(&err)).await?;
                }
                Err(err)
            }
        },
    }
}

/// Stores the answer to replay, on its own (a refusal).
pub async fn complete(ctx: &Context, tenant: &Tenant, claim: &Claim, answer: &Answer) -> Result<(), AppError> {
    let body = answer.encode()?;
    Ok(ctx.store.complete_idempotency_key(tenant.scope(), &claim.key, answer.status(), &body).await?)
}

/// Stores the answer to replay in the purchase's own transaction.
pub async fn complete_in(
    tx: &mut dyn WriteTx,
    tenant: &Tenant,
    claim: &Claim,
    answer: &Answer,
) -> Result<(), AppError> {
    let body = answer.encode()?;
    Ok(tx.complete_idempotency_key(tenant.scope(), &claim.key, answer.status(), &body).await?)
}

/// Frees the key after a transient failure, so the client's retry does the work.
pub async fn abandon(ctx: &Context, tenant: &Tenant, claim: &Claim) -> Result<(), AppError> {
    Ok(ctx.store.abandon_idempotency_key(tenant.scope(), &claim.key).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number() -> PhoneNumber {
        serde_json::from_value(serde_json::json!({
            "id": "6f1b3c1e-8a8f-4c1e-9c55-0d6c3f0f7a11", "e164": "+14155550101", "country": "US",
            "type": "local", "status": "active", "endpoint_id": null, "allow_inbound": true,
            "allow_outbound": false, "sip_uri": "sip:+14155550101@sip.test", "livemode": true,
            "organization_id": "0b9d6a52-3f5e-4d0c-8f6a-2c1d9e8b7a60", "setup_cost_cents": 100,
            "monthly_cost_cents": 115, "currency": "USD", "created_at": "2026-12-01T19:00:00Z",
            "updated_at": "2026-12-01T19:00:00Z", "released_at": null
        }))
        .unwrap()
    }

    #[test]
    fn an_answer_reads_back_as_it_was_stored() {
        let refused = Answer::refused(&AppError::NumberUnavailable("+14155550101 has already been sold".into()));
        for answer in [Answer::Bought(number()), refused] {
            let stored = answer.encode().unwrap();
            assert_eq!(Answer::decode(i32::from(answer.status()), &stored).unwrap(), answer);
        }
    }

    #[test]
    fn rows_stored_as_http_responses_still_replay() {
        let bought = serde_json::to_string(&number()).unwrap();
        assert_eq!(Answer::decode(201, &bought).unwrap(), Answer::Bought(number()));
        let error_body = r#"{"error":{"code":"price_changed","message":"the price moved"},"request_id":"req-1"}"#;
        let replayed = Answer::decode(409, error_body).unwrap().into_result().unwrap_err();
        assert_eq!(
            (replayed.code(), replayed.to_string().as_str()),
            (kros_domain::ErrorCode::PriceChanged, "the price moved")
        );
        assert!(Answer::decode(201, "not json").is_err());
    }
}
