//! API keys: `kros_<mode>_<public id>_<secret>`. The public id finds the row without a scan;
//! only an HMAC-SHA256 of the secret (keyed with the installation's pepper) is stored, and it is
//! compared in constant time.

use super::{Context, Tenant};
use crate::error::AppError;
use hmac::{Hmac, Mac};
use kros_domain::Actor;
use kros_domain::Mode;
use kros_storage::{self as storage, format_time, ApiKeyRecord, Timestamp};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

const PUBLIC_ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;
/// Refresh `last_used_at` at most this often, so reads do not turn into writes.
const LAST_USED_RESOLUTION: chrono::Duration = chrono::Duration::seconds(60);

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

/// What is stored of a key's secret: HMAC-SHA256 keyed with the installation's pepper, in hex.
pub fn hash_secret(pepper: &str, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(pepper.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(secret.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub async fn create(ctx: &Context, organization_id: Uuid, mode: Mode, name: &str) -> Result<NewApiKey, AppError> {
    let name = kros_domain::parse::parse_name("name", name, 100)?;
    let name = name.as_str();
    if !ctx.store.organization_exists(organization_id).await? {
        return Err(AppError::not_found("organization"));
    }
    let public_id = super::random_string(PUBLIC_ID_LEN, super::LOWER_ALNUM);
    let secret = super::random_string(SECRET_LEN, super::ALNUM);
    let prefix = format!("{}{}", mode_prefix(mode), public_id);
    let record = ApiKeyRecord {
        id: Uuid::new_v4(),
        organization_id,
        livemode: mode.is_live(),
        name: name.to_string(),
        secret_hash: hash_secret(&ctx.api_key_pepper, &secret),
        public_id,
        created_at: storage::now(),
        last_used_at: None,
        revoked_at: None,
    };
    ctx.store.insert_api_key(&record).await?;
    Ok(NewApiKey { id: record.id, key: format!("{prefix}_{secret}"), prefix })
}

/// Revokes a key named by its id or its display prefix (optionally restricted to one
/// organization). Revoking a revoked key is harmless.
pub async fn revoke(ctx: &Context, id_or_prefix: &str, organization_id: Option<Uuid>) -> Result<Uuid, AppError> {
    let raw = id_or_prefix.trim();
    let key = if let Ok(id) = Uuid::parse_str(raw) {
        ctx.store.api_key_by_id(id).await?
    } else {
        let public_id = raw.strip_prefix("kros_live_").or_else(|| raw.strip_prefix("kros_test_")).unwrap_or(raw);
        ctx.store.api_key_by_public_id(public_id.split('_').next().unwrap_or("")).await?
    };
    let key = key
        .filter(|k| organization_id.is_none_or(|org| k.organization_id == org))
        .ok_or_else(|| AppError::not_found("API key"))?;
    ctx.store.revoke_api_key(key.id, storage::now()).await?;
    Ok(key.id)
}

/// The organization's keys, newest first.
pub async fn list(ctx: &Context, organization_id: Uuid) -> Result<Vec<ApiKeySummary>, AppError> {
    let keys = ctx.store.api_keys_of(organization_id).await?;
    Ok(keys
        .into_iter()
        .map(|k| {
            let mode = Mode::from_livemode(k.livemode);
            ApiKeySummary {
                id: k.id,
                name: k.name,
                mode,
                prefix: format!("{}{}", mode_prefix(mode), k.public_id),
                created_at: format_time(k.created_at),
                last_used_at: k.last_used_at.map(format_time),
                revoked_at: k.revoked_at.map(format_time),
            }
        })
        .collect())
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
    let key = ctx.store.api_key_by_public_id(public_id).await?.ok_or_else(refused)?;
    let hashed_with =
        |pepper: &str| -> bool { hash_secret(pepper, secret).as_bytes().ct_eq(key.secret_hash.as_bytes()).into() };
    let matches = hashed_with(&ctx.api_key_pepper) || matches_legacy_pepper(ctx, key.id, secret, hashed_with).await;
    if !matches || key.revoked_at.is_some() || Mode::from_livemode(key.livemode) != mode {
        return Err(refused());
    }
    // Bookkeeping, not a reason to refuse: when the database takes no writes, reads go on.
    if let Err(err) = touch_last_used(ctx, key.id, key.last_used_at).await {
        tracing::warn!(error = %err.chain(), "could not record the API key's last use");
    }
    Ok(Tenant { organization_id: key.organization_id, mode, actor: Actor::ApiKey(key.id) })
}

/// A key made before `KROS_API_KEY_PEPPER` was set is hashed with the database's pepper: it keeps
/// working, and is moved to the configured pepper the first time it is used.
async fn matches_legacy_pepper(ctx: &Context, id: Uuid, secret: &str, hashed_with: impl Fn(&str) -> bool) -> bool {
    let Some(legacy) = ctx.legacy_api_key_pepper.as_deref() else { return false };
    if !hashed_with(legacy) {
        return false;
    }
    if let Err(err) = ctx.store.set_api_key_hash(id, &hash_secret(&ctx.api_key_pepper, secret)).await {
        tracing::warn!(error = %AppError::from(err).chain(), "could not move an API key to the configured pepper; retried at its next use");
    }
    true
}

async fn touch_last_used(ctx: &Context, id: Uuid, last_used_at: Option<Timestamp>) -> Result<(), AppError> {
    let now = storage::now();
    let cutoff = now - LAST_USED_RESOLUTION;
    if last_used_at.is_some_and(|t| t > cutoff) {
        return Ok(());
    }
    Ok(ctx.store.touch_api_key(id, now, cutoff).await?)
}
