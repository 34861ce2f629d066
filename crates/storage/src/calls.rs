//! What the SIP server's questions ask of a database (see `service::calls`): each is one
//! indexed read, since a call waits for it.

use super::{Result, Timestamp};
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

#[async_trait]
pub trait CallStorage: Send + Sync {
    /// The number a call to `e164` in this mode is for, unless released.
    async fn inbound_route(&self, livemode: bool, e164: &str) -> Result<Option<InboundRouteRecord>>;
    /// The number whose SIP user name this is (released ones too: their answer is "no").
    async fn sip_account(&self, sip_username: &str) -> Result<Option<SipAccountRecord>>;
}
