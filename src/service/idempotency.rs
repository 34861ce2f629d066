//! Idempotency-Key: a retried purchase returns the first response and buys nothing.
//!
//! A key is scoped to (organization, mode) and kept 24 hours. The first request inserts the
//! key row (`ON CONFLICT DO NOTHING` decides, in the database, who is first); its answer is
//! stored in the same transaction as the purchase, so a sale and its recorded response exist
//! together or not at all. A row without a response means the first request is still running:
//! a retry then gets 409 `conflict`. If that first request died, its transaction rolled back,
//! and after [`STALE_AFTER_SECS`] another request may take the key over.

use super::{Context, Tenant};
use crate::db;
use crate::error::AppError;
use sha2::{Digest, Sha256};
use sqlx::Row;

pub const MAX_KEY_LEN: usize = 255;
const KEEP_HOURS: i64 = 24;
const STALE_AFTER_SECS: i64 = 60;

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
}

pub enum Begin {
    /// This request owns the key: do the work.
    Proceed,
    /// The key was used before with the same request: answer this.
    Replay { status: u16, body: String },
}

pub async fn begin(ctx: &Context, tenant: &Tenant, claim: &Claim) -> Result<Begin, AppError> {
    let org = tenant.organization_id.to_string();
    // Two rounds at most: the second follows the removal of an expired row.
    for _ in 0..2 {
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (organization_id, livemode, idempotency_key, request_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (organization_id, livemode, idempotency_key) DO NOTHING",
        )
        .bind(&org)
        .bind(db::flag(tenant.livemode()))
        .bind(&claim.key)
        .bind(&claim.fingerprint)
        .bind(db::now())
        .execute(&ctx.db)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(Begin::Proceed);
        }
        let Some(row) = sqlx::query(
            "SELECT request_hash, response_status, response_body, created_at FROM idempotency_keys \
             WHERE organization_id = $1 AND livemode = $2 AND idempotency_key = $3",
        )
        .bind(&org)
        .bind(db::flag(tenant.livemode()))
        .bind(&claim.key)
        .fetch_optional(&ctx.db)
        .await?
        else {
            continue; // removed meanwhile: try to insert again
        };
        let created_at: String = row.try_get("created_at")?;
        let age = chrono::Utc::now().signed_duration_since(
            chrono::DateTime::parse_from_rfc3339(&created_at).map_err(|e| AppError::internal(e.to_string()))?,
        );
        if age.num_hours() >= KEEP_HOURS {
            remove_if_unchanged(ctx, tenant, claim, &created_at).await?;
            continue;
        }
        if row.try_get::<String, _>("request_hash")? != claim.fingerprint {
            return Err(AppError::IdempotencyKeyReused);
        }
        let status: Option<i64> = row.try_get("response_status")?;
        let body: Option<String> = row.try_get("response_body")?;
        return match (status, body) {
            (Some(status), Some(body)) => Ok(Begin::Replay { status: status as u16, body }),
            _ if age.num_seconds() >= STALE_AFTER_SECS => {
                remove_if_unchanged(ctx, tenant, claim, &created_at).await?;
                continue;
            }
            _ => Err(AppError::Conflict(
                "a request with this Idempotency-Key is still in progress; retry later".into(),
            )),
        };
    }
    Err(AppError::Conflict("this Idempotency-Key is busy; retry later".into()))
}

async fn remove_if_unchanged(ctx: &Context, tenant: &Tenant, claim: &Claim, created_at: &str) -> Result<(), AppError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE organization_id = $1 AND livemode = $2 AND idempotency_key = $3 \
         AND created_at = $4",
    )
    .bind(tenant.organization_id.to_string())
    .bind(db::flag(tenant.livemode()))
    .bind(&claim.key)
    .bind(created_at)
    .execute(&ctx.db)
    .await?;
    Ok(())
}

/// Stores the response to replay; in the purchase's transaction when the purchase succeeded.
pub async fn complete<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    tenant: &Tenant,
    claim: &Claim,
    status: u16,
    body: &str,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2 \
         WHERE organization_id = $3 AND livemode = $4 AND idempotency_key = $5",
    )
    .bind(status as i64)
    .bind(body)
    .bind(tenant.organization_id.to_string())
    .bind(db::flag(tenant.livemode()))
    .bind(&claim.key)
    .execute(executor)
    .await?;
    Ok(())
}

/// Frees the key after a transient failure, so the client's retry does the work.
pub async fn abandon(ctx: &Context, tenant: &Tenant, claim: &Claim) -> Result<(), AppError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE organization_id = $1 AND livemode = $2 AND idempotency_key = $3 \
         AND response_status IS NULL",
    )
    .bind(tenant.organization_id.to_string())
    .bind(db::flag(tenant.livemode()))
    .bind(&claim.key)
    .execute(&ctx.db)
    .await?;
    Ok(())
}
