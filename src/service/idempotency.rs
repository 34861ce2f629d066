//! Idempotency-Key: a retried purchase returns the first response and buys nothing.
//!
//! A key is scoped to (organization, mode) and kept 24 hours. The first request inserts the
//! key row (`ON CONFLICT DO NOTHING` decides, in the database, who is first); its answer is
//! stored in the same transaction as the purchase, so a sale and its recorded response exist
//! together or not at all. A row without a response means the first request is still running:
//! a retry then gets 409 `conflict`. If that first request died, its transaction rolled back,
//! and after [`AGES`]`.stale` another request may take the key over. Ages are judged by the
//! database's clock, the one clock every process shares.

use super::{Context, Tenant};
use crate::error::AppError;
use crate::storage::{KeyAges, WriteTx};
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
        let canonical = serde_json::to_vec(request).map_err(|e| AppError::internal(e.to_string()))?;
        Ok(Claim { key: raw_key.to_string(), fingerprint: hex::encode(Sha256::digest(canonical)) })
    }

    /// What is stored to recognise the request (SHA-256 of its canonical JSON, hex).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }
}

pub enum Begin {
    /// This request owns the key: do the work.
    Proceed,
    /// The key was used before with the same request: answer this.
    Replay { status: u16, body: String },
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
            (Some(status), Some(body)) => Ok(Begin::Replay { status: status as u16, body }),
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

/// Stores the response to replay, on its own (a refusal).
pub async fn complete(ctx: &Context, tenant: &Tenant, claim: &Claim, status: u16, body: &str) -> Result<(), AppError> {
    Ok(ctx.store.complete_idempotency_key(tenant.scope(), &claim.key, status, body).await?)
}

/// Stores the response to replay in the purchase's own transaction.
pub async fn complete_in(
    tx: &mut dyn WriteTx,
    tenant: &Tenant,
    claim: &Claim,
    status: u16,
    body: &str,
) -> Result<(), AppError> {
    Ok(tx.complete_idempotency_key(tenant.scope(), &claim.key, status, body).await?)
}

/// Frees the key after a transient failure, so the client's retry does the work.
pub async fn abandon(ctx: &Context, tenant: &Tenant, claim: &Claim) -> Result<(), AppError> {
    Ok(ctx.store.abandon_idempotency_key(tenant.scope(), &claim.key).await?)
}
