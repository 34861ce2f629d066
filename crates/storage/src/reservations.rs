//! What reservations ask of a database (see `service::reservations`).
//!
//! A hold lives on the inventory row (`held_by`, `held_until`, `hold_id`): the purchase's claim
//! ([`super::WriteTx::claim_inventory`]) judges it in the same conditional UPDATE as the sale,
//! so no hold can be bypassed and none lost, whatever the concurrency. The reservation row says
//! when the holds end; its items say which numbers it asked for and what became of each.

use super::{Counted, InventoryRecord, Result, Scope, Timestamp, Window};
use async_trait::async_trait;
use std::time::Duration;
use uuid::Uuid;

record_with_page_row! {
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct ReservationRecord, paged as ReservationPageRow {
        pub id: Uuid,
        pub organization_id: Uuid,
        pub livemode: bool,
        pub created_at: Timestamp,
        pub expires_at: Timestamp,
    }
}

/// What became of a reserved number, once something did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "reservation_item_outcome", rename_all = "snake_case")]
pub enum ItemOutcome {
    /// The holder bought it under this hold.
    Purchased,
    /// A newer reservation of the same organization took the hold over.
    Moved,
}

/// One number of a reservation, as the inventory has it now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReservedNumberRecord {
    pub reservation_id: Uuid,
    pub outcome: Option<ItemOutcome>,
    pub number: InventoryRecord,
}

/// A [`ReservedNumberRecord`] as one row of the join reads it.
#[derive(Debug, sqlx::FromRow)]
pub struct ReservedNumberRow {
    pub reservation_id: Uuid,
    pub outcome: Option<ItemOutcome>,
    pub id: Uuid,
    pub livemode: bool,
    pub e164: String,
    pub country: String,
    pub number_type: kros_domain::NumberType,
    pub setup_cost_cents: i64,
    pub monthly_cost_cents: i64,
    pub currency: String,
    pub available: bool,
    pub created_at: Timestamp,
    pub held_by: Option<Uuid>,
    pub held_until: Option<Timestamp>,
}

impl From<ReservedNumberRow> for ReservedNumberRecord {
    fn from(r: ReservedNumberRow) -> Self {
        ReservedNumberRecord {
            reservation_id: r.reservation_id,
            outcome: r.outcome,
            number: InventoryRecord {
                id: r.id,
                livemode: r.livemode,
                e164: r.e164,
                country: r.country,
                number_type: r.number_type,
                setup_cost_cents: r.setup_cost_cents,
                monthly_cost_cents: r.monthly_cost_cents,
                currency: r.currency,
                available: r.available,
                created_at: r.created_at,
                held_by: r.held_by,
                held_until: r.held_until,
            },
        }
    }
}

/// The reads and the housekeeping of reservations; the writes are in [`super::WriteTx`].
#[async_trait]
pub trait ReservationStorage: Send + Sync {
    async fn reservation(&self, scope: Scope, id: Uuid) -> Result<Option<ReservationRecord>>;
    /// Newest first.
    async fn reservations(&self, scope: Scope, window: Window) -> Result<Counted<ReservationRecord>>;
    /// The numbers of these reservations, each reservation's in the order it asked for them.
    async fn reserved_numbers(&self, reservation_ids: &[Uuid]) -> Result<Vec<ReservedNumberRecord>>;
    /// Clears the holds that have expired, and forgets the reservations that expired longer than
    /// `keep` ago. Returns how many of each.
    async fn clean_up_reservations(&self, keep: Duration) -> Result<(u64, u64)>;
}
