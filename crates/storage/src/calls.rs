//! What the SIP server's questions ask of a database (see `service::calls`): each is one
//! indexed read, since a call waits for it.

use super::{Result, Scope, Timestamp};
use async_trait::async_trait;
use kros_domain::NumberStatus;
use sqlx::types::Json;
use uuid::Uuid;

/// An owned number (not released) as an inbound call needs it, with its endpoint's targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundRouteRecord {
    pub number_id: Uuid,
    pub organization_id: Uuid,
    pub e164: String,
    pub livemode: bool,
    pub status: NumberStatus,
    pub allow_inbound: bool,
    pub sip_username: String,
    /// None when the number has no endpoint.
    pub targets: Option<Json<Vec<String>>>,
    pub failover_timeout_secs: Option<i64>,
}

/// A number's SIP account: who may register or call as it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipAccountRecord {
    pub number_id: Uuid,
    pub organization_id: Uuid,
    pub e164: String,
    pub livemode: bool,
    pub status: NumberStatus,
    pub allow_outbound: bool,
    pub sip_username: String,
    /// Sealed (see `service::secrets`).
    pub sip_password: String,
    pub released_at: Option<Timestamp>,
}

/// One routing decision of a call to a number, as its page lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallDecisionRecord {
    pub id: Uuid,
    pub number_id: Uuid,
    pub organization_id: Uuid,
    pub livemode: bool,
    pub decided_at: Timestamp,
    /// The caller as the carrier gave it (the From URI's user, or the URI).
    pub caller: String,
    /// `route`, `registered` or `reject`.
    pub decision: String,
    /// The targets, or the refusal's code and reason.
    pub detail: String,
}

#[async_trait]
pub trait CallStorage: Send + Sync {
    /// The number a call to `e164` in this mode is for, unless released.
    async fn inbound_route(&self, livemode: bool, e164: &str) -> Result<Option<InboundRouteRecord>>;
    /// The number whose SIP user name this is (released ones too: their answer is "no").
    async fn sip_account(&self, sip_username: &str) -> Result<Option<SipAccountRecord>>;
    /// Writes a batch of decisions in one transaction.
    async fn insert_call_decisions(&self, decisions: &[CallDecisionRecord]) -> Result<()>;
    /// The scope's number's latest decisions, newest first.
    async fn call_decisions(&self, scope: Scope, number_id: Uuid, limit: i64) -> Result<Vec<CallDecisionRecord>>;
    /// Forgets the decisions made before `at`; how many.
    async fn forget_call_decisions_before(&self, at: Timestamp) -> Result<u64>;
}
