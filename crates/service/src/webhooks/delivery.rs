//! The delivery worker: every `serve` process runs one. It claims due deliveries from the
//! outbox (each for a lease, so no two workers send the same attempt at once), sends each event
//! signed as Standard Webhooks, and records the attempt: delivered on a 2xx, else retried on
//! the schedule with jitter, until the schedule ends. A process killed mid-attempt leaves the
//! lease to expire and the delivery due: delivery is at least once, and receivers de-duplicate by
//! `webhook-id`. Delivery never runs inside an API request, so it never slows one.

use super::url_guard::{self, PublicAddressesOnly};
use super::WebhookSettings;
use crate::error::AppError;
use crate::events::to_event;
use crate::Context;
use kros_storage::{self as storage, AfterAttempt, AttemptRecord, ClaimedDelivery, DisableRule, WebhookEndpointRecord};
use rand::Rng;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How much of a receiver's answer an attempt keeps.
const RESPONSE_BODY_BYTES: usize = 1024;
/// A claim outlives the longest attempt (connecting, then answering, each within the timeout)
/// by this much.
const LEASE_MARGIN: Duration = Duration::from_secs(5);

pub struct Worker {
    ctx: Context,
    settings: Arc<WebhookSettings>,
    client: reqwest::Client,
    /// When an endpoint failing every attempt is disabled, and the reason it is given.
    disable: DisableRule,
}

/// Starts this process's worker; it runs until the process ends.
pub fn spawn(ctx: Context) -> Result<tokio::task::JoinHandle<()>, AppError> {
    let worker = Worker::new(ctx)?;
    Ok(tokio::spawn(async move { worker.run().await }))
}

impl Worker {
    pub fn new(ctx: Context) -> Result<Worker, AppError> {
        let settings = ctx.webhooks.clone();
        let mut client = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A redirect could lead anywhere, a private address included: 3xx is a failure.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Kros-Numbers-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_urls {
            client = client.dns_resolver(Arc::new(PublicAddressesOnly));
        }
        let client = client.build().map_err(|e| AppError::internal_caused_by("cannot build the webhook client", e))?;
        let disable = DisableRule {
            after: settings.disable_after,
            reason: format!(
                "disabled automatically: every delivery attempt failed for {}",
                humantime::format_duration(settings.disable_after)
            ),
        };
        Ok(Worker { ctx, settings, client, disable })
    }

    async fn run(self) {
        loop {
            let claimed = self.attempt_due_deliveries().await;
            // A full batch suggests more are due: look again at once.
            if claimed < self.settings.concurrency {
                tokio::time::sleep(self.settings.poll_interval).await;
            }
        }
    }

    /// Claims up to `concurrency` due deliveries and attempts them at once; returns how many.
    async fn attempt_due_deliveries(&self) -> usize {
        let lease = self.settings.timeout.saturating_mul(2).saturating_add(LEASE_MARGIN);
        let mut claims = Vec::new();
        while claims.len() < self.settings.concurrency {
            match self.ctx.store.claim_due_delivery(lease).await {
                Ok(Some(claim)) => claims.push(claim),
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "webhooks: cannot claim deliveries now");
                    break;
                }
            }
        }
        let count = claims.len();
        futures::future::join_all(claims.into_iter().map(|claim| self.attempt(claim))).await;
        count
    }

    async fn attempt(&self, claim: ClaimedDelivery) {
        let parts = match self.ctx.store.delivery_parts(&claim).await {
            Ok(Some(parts)) => parts,
            // The endpoint was deleted meanwhile (its deliveries with it).
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "webhooks: cannot read a claimed delivery; it will be retried");
                return;
            }
        };
        let (event, endpoint) = parts;
        let attempt = self.send(&claim, to_event(event), &endpoint).await;
        let next = self.after(&claim, &attempt);
        if let Err(e) = self.ctx.store.finish_attempt(&claim, &attempt, next, &self.disable).await {
            // The claim expires and the delivery is attempted again: at least once.
            tracing::warn!(error = %e, "webhooks: cannot record an attempt; it will be repeated");
        }
    }

    /// One POST of the event, signed with the endpoint's secrets.
    async fn send(
        &self,
        claim: &ClaimedDelivery,
        event: kros_domain::Event,
        endpoint: &WebhookEndpointRecord,
    ) -> AttemptRecord {
        let started = Instant::now();
        let attempted_at = storage::now();
        let outcome = self.post(&event, endpoint).await;
        let latency_ms = started.elapsed().as_millis().min(i64::MAX as u128) as i64;
        let (succeeded, response_status, response_body, error) = match outcome {
            Ok((status, body)) => ((200..300).contains(&status), Some(i32::from(status)), Some(body), None),
            Err(why) => (false, None, None, Some(why)),
        };
        AttemptRecord {
            id: Uuid::new_v4(),
            event_id: claim.event_id,
            endpoint_id: claim.endpoint_id,
            attempted_at,
            succeeded,
            response_status,
            latency_ms,
            response_body,
            error,
        }
    }

    /// The receiver's status and the start of its answer, or why there was none.
    async fn post(
        &self,
        event: &kros_domain::Event,
        endpoint: &WebhookEndpointRecord,
    ) -> Result<(u16, String), String> {
        let url = url_guard::parse(&endpoint.url, self.settings.allow_private_urls).map_err(|e| e.to_string())?;
        if !self.settings.allow_private_urls {
            url_guard::literal_host_is_public(&url)?;
        }
        let body = serde_json::to_string(event).map_err(|e| e.to_string())?;
        let id = event.id.to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signature = self.signature(endpoint, &id, timestamp, &body)?;
        let response = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await
            .map_err(describe_send_error)?;
        let status = response.status().as_u16();
        Ok((status, start_of_body(response).await))
    }

    /// `v1,<signature>` with the current secret, and with the previous one while a rotation's
    /// overlap lasts (space-separated, as the specification allows).
    fn signature(
        &self,
        endpoint: &WebhookEndpointRecord,
        id: &str,
        timestamp: i64,
        body: &str,
    ) -> Result<String, String> {
        let cipher = &self.ctx.secret_cipher;
        let mut secrets = vec![cipher.open(&endpoint.secret).map_err(|e| e.to_string())?];
        let overlapping = endpoint.previous_secret_expires_at.is_some_and(|until| until > storage::now());
        if let (Some(previous), true) = (&endpoint.previous_secret, overlapping) {
            secrets.push(cipher.open(previous).map_err(|e| e.to_string())?);
        }
        let signatures = secrets
            .iter()
            .map(|secret| {
                let signer = standardwebhooks::Webhook::new(secret).map_err(|e| e.to_string())?;
                signer.sign(id, timestamp, body.as_bytes()).map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(signatures.join(" "))
    }

    /// Delivered, retried after the schedule's next wait (with ±10% jitter), or given up.
    fn after(&self, claim: &ClaimedDelivery, attempt: &AttemptRecord) -> AfterAttempt {
        if attempt.succeeded {
            return AfterAttempt::Delivered;
        }
        match self.settings.retry_schedule.get(usize::try_from(claim.attempts).unwrap_or(usize::MAX)) {
            Some(wait) => AfterAttempt::RetryIn(wait.mul_f64(rand::thread_rng().gen_range(0.9..=1.1))),
            None => AfterAttempt::GiveUp,
        }
    }
}

fn describe_send_error(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    // The chain says why (refused, reset, a non-public address).
    let mut why = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        why = format!("{why}: {cause}");
        source = cause.source();
    }
    format!("{kind}: {why}")
}

/// Up to [`RESPONSE_BODY_BYTES`] of the answer, as text.
async fn start_of_body(mut response: reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < RESPONSE_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            _ => break,
        }
    }
    kept.truncate(RESPONSE_BODY_BYTES);
    String::from_utf8_lossy(&kept).into_owned()
}
