//! What bulk orders ask of a database (see `service::orders`): an order is written in the
//! transaction that buys its numbers ([`super::WriteTx::insert_order`]) and read back as it was.

use super::{Counted, Result, Scope, Timestamp, Window};
use async_trait::async_trait;
use sqlx::types::Json;
use uuid::Uuid;

record_with_page_row! {
    #[derive(Debug, Clone, PartialEq)]
    pub struct OrderRecord, paged as OrderPageRow {
        pub id: Uuid,
        pub organization_id: Uuid,
        pub livemode: bool,
        pub total_cost_cents: i64,
        pub currency: String,
        /// The numbers as the API showed them when bought.
        pub numbers: Json<serde_json::Value>,
        pub created_at: Timestamp,
    }
}

#[async_trait]
pub trait OrderStorage: Send + Sync {
    async fn order(&self, scope: Scope, id: Uuid) -> Result<Option<OrderRecord>>;
    /// Newest first.
    async fn orders(&self, scope: Scope, window: Window) -> Result<Counted<OrderRecord>>;
}
