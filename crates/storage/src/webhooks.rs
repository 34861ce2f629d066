//! What events and webhooks ask of a database: the event log (the audit log read as events),
//! the webhook endpoints, and the outbox of deliveries with their attempts.
//!
//! A delivery is one event for one endpoint. It is written in the transaction of the change
//! ([`super::WriteTx::enqueue_deliveries`]), claimed by one worker at a time for a lease
//! ([`WebhookStorage::claim_due_delivery`]), and finished with the attempt's outcome
//! ([`WebhookStorage::finish_attempt`]). A worker that dies mid-attempt leaves the claim to
//! expire, and another worker (or the restarted one) takes the delivery again.

use super::{AuditAction, Counted, Result, Scope, Timestamp, Window};
use async_trait::async_trait;
use kros_domain::EventType;
use sqlx::types::Json;
use std::time::Duration;
use uuid::Uuid;

record_with_page_row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct WebhookEndpointRecord, paged as WebhookEndpointPageRow {
        pub id: Uuid,
        pub organization_id: Uuid,
        pub livemode: bool,
        pub url: String,
        pub description: String,
        /// None: every event type (those added later too).
        pub event_types: Option<Json<Vec<EventType>>>,
        pub enabled: bool,
        pub disabled_reason: Option<String>,
        /// Sealed (see `service::secrets`).
        pub secret: String,
        pub previous_secret: Option<String>,
        pub previous_secret_expires_at: Option<Timestamp>,
        pub failing_since: Option<Timestamp>,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
    }
}

/// A change to an endpoint's settings: only the fields given are written, so a change never
/// undoes another one made meanwhile (by another request, or by the delivery worker disabling it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookEndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    /// `Some(None)`: every event type.
    pub event_types: Option<Option<Json<Vec<EventType>>>>,
    /// Enabling a disabled endpoint also clears why it was disabled and its failing streak.
    pub enabled: Option<bool>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "webhook_delivery_state", rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    /// Every attempt of the schedule failed.
    Failed,
}

/// A delivery a worker has claimed, until `locked_until`.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedDelivery {
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    /// Attempts made before this one.
    pub attempts: i32,
    /// The claim's end, which also identifies it: finishing a claim that another worker has
    /// since taken over records the attempt but leaves the delivery to that worker.
    pub locked_until: Timestamp,
}

/// One attempt to deliver an event to an endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    pub attempted_at: Timestamp,
    pub succeeded: bool,
    pub response_status: Option<i32>,
    pub latency_ms: i64,
    /// The start of the receiver's answer.
    pub response_body: Option<String>,
    /// Why no answer came (timeout, connection refused, a private address).
    pub error: Option<String>,
}

/// An attempt, with what its event was, for the deliveries list.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptWithEvent {
    pub attempt: AttemptRecord,
    pub action: AuditAction,
}

/// A row of a page of [`AttemptWithEvent`]s, with the total its filter matches.
#[derive(Debug)]
pub struct AttemptPageRow {
    pub id: Uuid,
    pub event_id: Uuid,
    pub endpoint_id: Uuid,
    pub attempted_at: Timestamp,
    pub succeeded: bool,
    pub response_status: Option<i32>,
    pub latency_ms: i64,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub action: AuditAction,
    pub total: i64,
}

impl From<AttemptPageRow> for super::WithTotal<AttemptWithEvent> {
    fn from(r: AttemptPageRow) -> Self {
        let attempt = AttemptRecord {
            id: r.id,
            event_id: r.event_id,
            endpoint_id: r.endpoint_id,
            attempted_at: r.attempted_at,
            succeeded: r.succeeded,
            response_status: r.response_status,
            latency_ms: r.latency_ms,
            response_body: r.response_body,
            error: r.error,
        };
        super::WithTotal { row: AttemptWithEvent { attempt, action: r.action }, total: r.total }
    }
}

/// What happens to a delivery after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    Delivered,
    RetryIn(Duration),
    /// The last attempt of the schedule failed.
    GiveUp,
}

/// An endpoint failing continuously for `after` is disabled, with `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisableRule {
    pub after: Duration,
    pub reason: String,
}

/// `GET /v1/events` filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EventFilter {
    pub action: Option<AuditAction>,
    pub phone_number_id: Option<Uuid>,
}

#[async_trait]
pub trait WebhookStorage: Send + Sync {
    // Events (the audit log)
    /// The scope's events, newest first.
    async fn events(&self, scope: Scope, filter: EventFilter, window: Window) -> Result<Counted<super::AuditRecord>>;
    async fn event(&self, scope: Scope, id: Uuid) -> Result<Option<super::AuditRecord>>;

    // Endpoints
    /// Newest first.
    async fn webhook_endpoints(&self, scope: Scope, window: Window) -> Result<Counted<WebhookEndpointRecord>>;
    async fn webhook_endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<WebhookEndpointRecord>>;
    /// Writes the given changes to the scope's endpoint (and `updated_at`), in one statement;
    /// the endpoint as it now is, or None if the scope has no such endpoint.
    async fn change_webhook_endpoint(
        &self,
        scope: Scope,
        id: Uuid,
        changes: &WebhookEndpointChanges,
        at: Timestamp,
    ) -> Result<Option<WebhookEndpointRecord>>;
    /// Makes `secret` (sealed) the endpoint's signing secret, and the one it had the previous
    /// secret until `previous_expires_at`, in one statement: of two rotations at once, the later
    /// keeps the earlier's secret as its previous one.
    async fn rotate_webhook_secret(
        &self,
        scope: Scope,
        id: Uuid,
        secret: &str,
        previous_expires_at: Timestamp,
        at: Timestamp,
    ) -> Result<Option<WebhookEndpointRecord>>;
    /// Replaces the endpoint's sealed secrets with the same secrets sealed again, if they are
    /// still those of `seen` (a rotation meanwhile wins). True if replaced.
    async fn reseal_webhook_secrets(
        &self,
        seen: &WebhookEndpointRecord,
        secret: &str,
        previous_secret: Option<&str>,
    ) -> Result<bool>;
    /// True if the scope had it.
    async fn delete_webhook_endpoint(&self, scope: Scope, id: Uuid) -> Result<bool>;
    /// Every endpoint (of any scope) with a secret that does not start with `prefix`: sealed under
    /// a key rotated out, to be sealed again.
    async fn webhook_endpoints_with_secrets_without_prefix(&self, prefix: &str) -> Result<Vec<WebhookEndpointRecord>>;
    /// The endpoint's attempts, newest first.
    async fn webhook_attempts(
        &self,
        scope: Scope,
        endpoint_id: Uuid,
        window: Window,
    ) -> Result<Counted<AttemptWithEvent>>;
    /// Schedules the scope's event again, now, for one endpoint of the scope, or for every
    /// enabled endpoint subscribed to `event_type`; returns the endpoints it was scheduled for.
    async fn redeliver(
        &self,
        scope: Scope,
        event_id: Uuid,
        event_type: &str,
        endpoint_id: Option<Uuid>,
    ) -> Result<Vec<Uuid>>;

    // The delivery worker
    /// Takes the next due delivery of an enabled endpoint for `lease`, if any.
    async fn claim_due_delivery(&self, lease: Duration) -> Result<Option<ClaimedDelivery>>;
    /// The event and endpoint of a claimed delivery (across scopes: the worker serves them all).
    async fn delivery_parts(
        &self,
        claim: &ClaimedDelivery,
    ) -> Result<Option<(super::AuditRecord, WebhookEndpointRecord)>>;
    /// Records the attempt and moves the delivery on (if the claim is still this one); on
    /// failure the endpoint's failing streak starts or goes on, and disables it past `disable`.
    async fn finish_attempt(
        &self,
        claim: &ClaimedDelivery,
        attempt: &AttemptRecord,
        next: AfterAttempt,
        disable: &DisableRule,
    ) -> Result<()>;
}
