//! API keys: `kros_<mode>_<public id>_<secret>`. The public id finds the row without a scan;
//! only an HMAC-SHA256 of the secret (keyed with the installation's pepper) is stored, and it is
//! compared in constant time.

use super::{uuid_column, Context, Tenant, Actor};
use crate::db::{self, Db};
use crate::domain::Mode;
use crate::error::AppError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use sqlx::Row;
use subtle::ConstantTimeEq;
use uuid::Uuid;

const PUBLIC_ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
/// Refresh `last_used_at` at most this often, so reads do not turn into writes.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// A key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ApiKeySummary {
    pub id: Uuid,
    pub name: String,
    pub mode: Mode,
    /// `kros_test_abc123def456`: enough to recognise the key, useless to use it.
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A key just created: the only time its full text exists.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub id: Uuid,
    pub key: String,
    pub prefix: String,
}

fn mode_prefix(mode: Mode) -> &'static str {
    match mode {
        Mode::Live => "kros_live_",
        Mode::Test => "kros_test_",
    }
}

/// Does this credential look like an API key (rather than a JWT)?
pub fn is_api_key(credential: &str) -> bool {
    credential.starts_with("kros_live_") || credential.starts_with("kros_test_")
}

fn hash_secret(pepper: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(pepper.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub async fn create(ctx: &Context, organization_id: Uuid, mode: Mode, name: &str) -> Result<NewApiKey, AppError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::validation("name", "a key name must be 1 to 100 characters"));
    }
    if !super::organizations::organization_exists(&ctx.db, organization_id).await? {
        return Err(AppError::not_found("organization"));
    }
    let public_id = super::random_string(PUBLIC_ID_LEN, super::LOWER_ALNUM);
    let secret = super::random_string(SECRET_LEN, super::ALNUM);
    let prefix = format!("{}{}", mode_prefix(mode), public_id);
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO api_keys (id, organization_id, livemode, name, public_id, secret_hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.to_string())
    .bind(organization_id.to_string())
    .bind(db::flag(mode.is_live()))
    .bind(name)
    .bind(&public_id)
    .bind(hash_secret(&ctx.api_key_pepper, &secret))
    .bind(db::now())
    .execute(&ctx.db)
    .await?;
    Ok(NewApiKey { id, key: format!("{prefix}_{secret}"), prefix })
}

/// Revokes a key named by its id or its display prefix (optionally restricted to one
/// organization). Revoking a revoked key is harmless.
pub async fn revoke(db: &Db, id_or_prefix: &str, organization_id: Option<Uuid>) -> Result<Uuid, AppError> {
    let raw = id_or_prefix.trim();
    let row = if let Ok(id) = Uuid::parse_str(raw) {
        sqlx::query("SELECT id, organization_id FROM api_keys WHERE id = $1").bind(id.to_string()).fetch_optional(db).await?
    } else {
        let public_id = raw.strip_prefix("kros_live_").or_else(|| raw.strip_prefix("kros_test_")).unwrap_or(raw);
        let public_id = public_id.split('_').next().unwrap_or("");
        sqlx::query("SELECT id, organization_id FROM api_keys WHERE public_id = $1").bind(public_id).fetch_optional(db).await?
    };
    let row = row.ok_or_else(|| AppError::not_found("API key"))?;
    let id = uuid_column(&row.try_get::<String, _>("id")?)?;
    if let Some(org) = organization_id {
        if uuid_column(&row.try_get::<String, _>("organization_id")?)? != org {
            return Err(AppError::not_found("API key"));
        }
    }
    sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(db::now())
        .bind(id.to_string())
        .execute(db)
        .await?;
    Ok(id)
}

/// The organization's keys, newest first.
pub async fn list(db: &Db, organization_id: Uuid) -> Result<Vec<ApiKeySummary>, AppError> {
    let rows = sqlx::query(
        "SELECT id, name, livemode, public_id, created_at, last_used_at, revoked_at FROM api_keys \
         WHERE organization_id = $1 ORDER BY created_at DESC, id DESC",
    )
    .bind(organization_id.to_string())
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let mode = Mode::from_livemode(r.try_get::<i64, _>("livemode")? != 0);
            Ok(ApiKeySummary {
                id: uuid_column(&r.try_get::<String, _>("id")?)?,
                name: r.try_get("name")?,
                mode,
                prefix: format!("{}{}", mode_prefix(mode), r.try_get::<String, _>("public_id")?),
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
                revoked_at: r.try_get("revoked_at")?,
            })
        })
        .collect()
}

/// Turns an API key into a tenant, or 401 for anything malformed, unknown or revoked.
pub async fn authenticate(ctx: &Context, credential: &str) -> Result<Tenant, AppError> {
    let refused = || AppError::Unauthorized("invalid API key".into());
    let (mode, rest) = if let Some(rest) = credential.strip_prefix("kros_live_") {
        (Mode::Live, rest)
    } else if let Some(rest) = credential.strip_prefix("kros_test_") {
        (Mode::Test, rest)
    } else {
        return Err(refused());
    };
    let (public_id, secret) = rest.split_once('_').ok_or_else(refused)?;
    let well_formed = public_id.len() == PUBLIC_ID_LEN
        && secret.len() == SECRET_LEN
        && public_id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    if !well_formed {
        return Err(refused());
    }
    let row = sqlx::query(
        "SELECT id, organization_id, livemode, secret_hash, last_used_at, revoked_at FROM api_keys WHERE public_id = $1",
    )
    .bind(public_id)
    .fetch_optional(&ctx.db)
    .await?
    .ok_or_else(refused)?;
    let stored_hash: String = row.try_get("secret_hash")?;
    let matches: bool = hash_secret(&ctx.api_key_pepper, secret).as_bytes().ct_eq(stored_hash.as_bytes()).into();
    let revoked: Option<String> = row.try_get("revoked_at")?;
    if !matches || revoked.is_some() || Mode::from_livemode(row.try_get::<i64, _>("livemode")? != 0) != mode {
        return Err(refused());
    }
    let id = uuid_column(&row.try_get::<String, _>("id")?)?;
    touch_last_used(&ctx.db, id, row.try_get("last_used_at")?).await?;
    Ok(Tenant { organization_id: uuid_column(&row.try_get::<String, _>("organization_id")?)?, mode, actor: Actor::ApiKey(id) })
}

async fn touch_last_used(db: &Db, id: Uuid, last_used_at: Option<String>) -> Result<(), AppError> {
    let now = chrono::Utc::now();
    let cutoff = db::format_time(now - chrono::Duration::seconds(LAST_USED_RESOLUTION_SECS));
    if last_used_at.as_deref().is_some_and(|t| t > cutoff.as_str()) {
        return Ok(());
    }
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(db::format_time(now))
        .bind(id.to_string())
        .bind(&cutoff)
        .execute(db)
        .await?;
    Ok(())
}
