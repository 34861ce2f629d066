//! What call-routing endpoints ask of a database (see `service::endpoints`).

use super::{Counted, Result, Scope, Timestamp, Window};
use async_trait::async_trait;
use sqlx::types::Json;
use uuid::Uuid;

record_with_page_row! {
    #[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
    pub struct EndpointRecord, paged as EndpointPageRow {
        pub id: Uuid,
        pub livemode: bool,
        pub name: String,
        /// SIP URIs, in the order calls try them (already checked).
        pub targets: Json<Vec<String>>,
        pub failover_timeout_secs: i64,
        pub created_at: Timestamp,
        pub updated_at: Timestamp,
    }
}

/// A change of an endpoint: the fields given, each already checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointChanges {
    pub name: Option<String>,
    pub targets: Option<Json<Vec<String>>>,
    pub failover_timeout_secs: Option<i64>,
}

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointDeletion {
    Deleted,
    /// No such endpoint in the scope.
    NotFound,
    /// Numbers (not released) route to it: it stays.
    InUse {
        numbers: i64,
    },
}

#[async_trait]
pub trait EndpointStorage: Send + Sync {
    async fn insert_endpoint(&self, scope: Scope, endpoint: &EndpointRecord) -> Result<()>;
    async fn endpoint(&self, scope: Scope, id: Uuid) -> Result<Option<EndpointRecord>>;
    /// Newest first; those whose name holds `name_part` (case-insensitively) if given.
    async fn endpoints(&self, scope: Scope, name_part: Option<&str>, window: Window)
        -> Result<Counted<EndpointRecord>>;
    /// Those of `ids` that are the scope's (in no particular order).
    async fn endpoints_by_ids(&self, scope: Scope, ids: &[Uuid]) -> Result<Vec<EndpointRecord>>;
    async fn endpoint_exists(&self, scope: Scope, id: Uuid) -> Result<bool>;
    /// Writes the given fields in one statement (a change made meanwhile to another field
    /// stays); none if the scope has no such endpoint.
    async fn change_endpoint(
        &self,
        scope: Scope,
        id: Uuid,
        changes: &EndpointChanges,
        at: Timestamp,
    ) -> Result<Option<EndpointRecord>>;
    /// Deletes the endpoint unless a number that is not released routes to it; no number can
    /// be attached to it meanwhile (the check and the delete are one transaction that holds the
    /// endpoint's row).
    async fn delete_endpoint(&self, scope: Scope, id: Uuid) -> Result<EndpointDeletion>;
}
