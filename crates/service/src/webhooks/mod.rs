//! Webhook endpoints: where an organization's events are sent, signed as Standard Webhooks
//! (standardwebhooks.com) so receivers verify them with the official libraries. Per
//! organization and mode: a test-mode endpoint receives test events only.
//!
//! [`url_guard`] keeps endpoints off private networks (SSRF), [`delivery`] is the worker that
//! sends the outbox's deliveries, with retries.

pub mod delivery;
pub mod url_guard;

use super::{Context, Tenant};
use crate::error::AppError;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use kros_domain::parse::parse_uuid;
use kros_domain::parse::{not_null, parse_name, PageRequest};
use kros_domain::{
    CreateWebhookEndpointBody, DeliveryAttempt, EventType, Page, RedeliverBody, Redelivery, Subscription,
    UpdateWebhookEndpointBody, WebhookEndpoint, WebhookEndpointWithSecret,
};
use kros_storage::{self as storage, WebhookEndpointChanges, WebhookEndpointRecord};
use sqlx::types::Json;
use std::time::Duration;
use uuid::Uuid;

/// How webhooks behave (flags or environment, see `cli`).
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// `KROS_WEBHOOK_ALLOW_PRIVATE_URLS`: http and private addresses allowed (development, tests).
    pub allow_private_urls: bool,
    /// How long a receiver has to answer an attempt.
    pub timeout: Duration,
    /// The wait before each retry; one attempt more than its length in all.
    pub retry_schedule: Vec<Duration>,
    /// An endpoint whose every attempt failed for this long is disabled.
    pub disable_after: Duration,
    /// How often each process looks for due deliveries.
    pub poll_interval: Duration,
    /// Attempts one process makes at once.
    pub concurrency: usize,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(60 * m);
        WebhookSettings {
            allow_private_urls: false,
            timeout: Duration::from_secs(10),
            // Standard Webhooks' reference schedule: 8 attempts over about 27 hours.
            retry_schedule: vec![
                Duration::from_secs(5),
                minutes(5),
                minutes(30),
                minutes(120),
                minutes(300),
                minutes(600),
                minutes(600),
            ],
            disable_after: Duration::from_secs(5 * 24 * 3600),
            poll_interval: Duration::from_secs(1),
            concurrency: 8,
        }
    }
}

/// Endpoints per organization and mode.
pub const MAX_ENDPOINTS: i64 = 20;
/// After a rotation, the old secret signs beside the new one this long.
pub const ROTATION_OVERLAP: Duration = Duration::from_secs(24 * 3600);
const DESCRIPTION_MAX_CHARS: usize = 200;

fn to_endpoint(row: WebhookEndpointRecord) -> WebhookEndpoint {
    let events = match row.event_types {
        None => Subscription::Everything,
        Some(Json(types)) => Subscription::Only(types),
    };
    WebhookEndpoint {
        id: row.id,
        url: row.url,
        description: row.description,
        events,
        enabled: row.enabled,
        disabled_reason: row.disabled_reason,
        livemode: row.livemode,
        created_at: storage::format_time(row.created_at),
        updated_at: storage::format_time(row.updated_at),
    }
}

/// A fresh Standard Webhooks secret: `whsec_` and 32 random bytes in base64.
fn new_secret() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", BASE64.encode(bytes))
}

/// `events`: `*` for all, else the named types (see [`Subscription`]).
fn parse_events(raw: &[String]) -> Result<Subscription, AppError> {
    Subscription::try_from(raw.to_vec()).map_err(|message| AppError::validation("events", message))
}

/// As the database keeps it: no list for everything.
fn stored(subscription: Subscription) -> Option<Json<Vec<EventType>>> {
    match subscription {
        Subscription::Everything => None,
        Subscription::Only(types) => Some(Json(types)),
    }
}

fn parse_description(raw: &str) -> Result<String, AppError> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    Ok(parse_name("description", raw, DESCRIPTION_MAX_CHARS)?)
}

fn endpoint_not_found() -> AppError {
    AppError::not_found("webhook endpoint")
}

/// Adds an endpoint; the answer holds its signing secret, shown this once.
pub async fn create(
    ctx: &Context,
    tenant: &Tenant,
    body: &CreateWebhookEndpointBody,
) -> Result<WebhookEndpointWithSecret, AppError> {
    let url = url_guard::check(&body.url, &ctx.webhooks).await?;
    let event_types = match &body.events {
        Some(raw) => stored(parse_events(raw)?),
        None => None,
    };
    let description = parse_description(body.description.as_deref().unwrap_or(""))?;
    let secret = new_secret();
    let now = storage::now();
    let row = WebhookEndpointRecord {
        id: Uuid::new_v4(),
        organization_id: tenant.organization_id,
        livemode: tenant.livemode(),
        url: url.to_string(),
        description,
        event_types,
        enabled: true,
        disabled_reason: None,
        secret: ctx.secret_cipher.seal(&secret)?,
        previous_secret: None,
        previous_secret_expires_at: None,
        failing_since: None,
        created_at: now,
        updated_at: now,
    };
    // Counted and inserted in one transaction that no other insert of the scope can interleave.
    let mut tx = ctx.store.begin_write().await?;
    if tx.count_webhook_endpoints_locked(tenant.scope()).await? >= MAX_ENDPOINTS {
        tx.rollback().await?;
        return Err(AppError::Conflict(format!(
            "an organization has at most {MAX_ENDPOINTS} webhook endpoints in each mode; delete one first"
        )));
    }
    tx.insert_webhook_endpoint(&row).await?;
    tx.commit().await?;
    Ok(WebhookEndpointWithSecret { endpoint: to_endpoint(row), secret })
}

/// Seals every signing secret still under an encryption key that has been rotated out (see
/// `KROS_SIP_ENCRYPTION_OLD_KEYS`), like the SIP passwords. Run at start; a database that takes
/// no writes now is left for the next start.
pub async fn seal_stored_secrets(ctx: &Context) {
    let resealed = async {
        let cipher = &ctx.secret_cipher;
        let mut count = 0;
        for row in ctx.store.webhook_endpoints_with_secrets_without_prefix(&cipher.current_prefix()).await? {
            let secret = cipher.seal(&cipher.open(&row.secret)?)?;
            let previous =
                row.previous_secret.as_deref().map(|p| cipher.open(p).and_then(|p| cipher.seal(&p))).transpose()?;
            // A rotation meanwhile sealed its secrets with the current key already.
            if ctx.store.reseal_webhook_secrets(&row, &secret, previous.as_deref()).await? {
                count += 1;
            }
        }
        Ok::<_, AppError>(count)
    };
    match resealed.await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "webhook signing secrets encrypted with the current key"),
        Err(err) => {
            tracing::warn!(error = %err.chain(), "webhook secrets could not all be encrypted now; retried at the next start")
        }
    }
}

/// The tenant's endpoints, newest first.
pub async fn list(ctx: &Context, tenant: &Tenant, page: PageRequest) -> Result<Page<WebhookEndpoint>, AppError> {
    let found = ctx.store.webhook_endpoints(tenant.scope(), page.into()).await?;
    let data = found.rows.into_iter().map(to_endpoint).collect();
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
}

async fn find(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<WebhookEndpointRecord, AppError> {
    ctx.store.webhook_endpoint(tenant.scope(), id).await?.ok_or_else(endpoint_not_found)
}

pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<WebhookEndpoint, AppError> {
    Ok(to_endpoint(find(ctx, tenant, id).await?))
}

/// Changes an endpoint. Enabling it clears the reason it was disabled, and its waiting
/// deliveries go out.
pub async fn update(
    ctx: &Context,
    tenant: &Tenant,
    id: Uuid,
    body: &UpdateWebhookEndpointBody,
) -> Result<WebhookEndpoint, AppError> {
    let url = match not_null("url", "an https URL", &body.url)? {
        Some(raw) => Some(url_guard::check(raw, &ctx.webhooks).await?),
        None => None,
    };
    let events = not_null("events", "a list of event types, or [\"*\"]", &body.events)?
        .map(|raw| parse_events(raw))
        .transpose()?;
    let description = not_null("description", "text (empty for none)", &body.description)?
        .map(|d| parse_description(d))
        .transpose()?;
    let changes = WebhookEndpointChanges {
        url: url.map(|u| u.to_string()),
        description,
        event_types: events.map(stored),
        enabled: not_null("enabled", "true or false", &body.enabled)?.copied(),
    };
    // Only what the body names is written, in one statement.
    let row = ctx.store.change_webhook_endpoint(tenant.scope(), id, &changes, storage::now()).await?;
    Ok(to_endpoint(row.ok_or_else(endpoint_not_found)?))
}

/// Removes an endpoint with its pending deliveries and its attempts.
pub async fn delete(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    if ctx.store.delete_webhook_endpoint(tenant.scope(), id).await? {
        Ok(())
    } else {
        Err(endpoint_not_found())
    }
}

/// A new signing secret, shown this once; the old one keeps signing beside it for
/// [`ROTATION_OVERLAP`] (deliveries carry both signatures), so receivers can switch at leisure.
pub async fn rotate_secret(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<WebhookEndpointWithSecret, AppError> {
    let secret = new_secret();
    let now = storage::now();
    let previous_expires_at = now + chrono::Duration::from_std(ROTATION_OVERLAP).unwrap_or_default();
    let sealed = ctx.secret_cipher.seal(&secret)?;
    let row = ctx.store.rotate_webhook_secret(tenant.scope(), id, &sealed, previous_expires_at, now).await?;
    Ok(WebhookEndpointWithSecret { endpoint: to_endpoint(row.ok_or_else(endpoint_not_found)?), secret })
}

/// The endpoint's delivery attempts, newest first.
pub async fn attempts(
    ctx: &Context,
    tenant: &Tenant,
    endpoint_id: Uuid,
    page: PageRequest,
) -> Result<Page<DeliveryAttempt>, AppError> {
    find(ctx, tenant, endpoint_id).await?;
    let found = ctx.store.webhook_attempts(tenant.scope(), endpoint_id, page.into()).await?;
    let data = found
        .rows
        .into_iter()
        .map(|row| DeliveryAttempt {
            id: row.attempt.id,
            event_id: row.attempt.event_id,
            event_type: super::events::event_type(row.action),
            attempted_at: storage::format_time(row.attempt.attempted_at),
            succeeded: row.attempt.succeeded,
            response_status: row.attempt.response_status,
            latency_ms: row.attempt.latency_ms,
            response_body: row.attempt.response_body,
            error: row.attempt.error,
        })
        .collect();
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
}

/// Sends an event again, now: to one endpoint, or to every enabled endpoint subscribed to it.
pub async fn redeliver(
    ctx: &Context,
    tenant: &Tenant,
    event_id: Uuid,
    body: &RedeliverBody,
) -> Result<Redelivery, AppError> {
    let event = ctx.store.event(tenant.scope(), event_id).await?.ok_or_else(|| AppError::not_found("event"))?;
    let endpoint_id = match body.webhook_endpoint_id.as_deref() {
        Some(raw) => {
            let id = parse_uuid("webhookEndpointId", raw)?;
            // Like the event itself: what another organization has is not found.
            if ctx.store.webhook_endpoint(tenant.scope(), id).await?.is_none() {
                let message = "webhookEndpointId: no such webhook endpoint in this organization and mode";
                return Err(AppError::NotFound(message.into()));
            }
            Some(id)
        }
        None => None,
    };
    let event_type = super::events::event_type(event.action);
    let endpoint_ids = ctx.store.redeliver(tenant.scope(), event_id, event_type.as_str(), endpoint_id).await?;
    Ok(Redelivery { event_id, endpoint_ids })
}
