//! Reservations: an organization holds inventory numbers for a while (`KROS_RESERVATION_MINUTES`)
//! and nobody else can buy them meanwhile; the holder buys them with the normal purchase, which
//! consumes the hold. All or nothing: a reservation that cannot hold every number it asks for
//! holds none.
//!
//! A hold is a time on the inventory row, judged by every claim and search against the clock
//! (`storage::reservations`): it ends when its time passes, with no job needed. The housekeeping
//! ([`clean_up`]) only clears the expired holds and forgets reservations that expired a day ago.

use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::{parse_enum, CountryCode, DigitPattern, PageRequest};
use kros_domain::{HoldStatus, NumberType, Page, Reservation, ReservationStatus, ReservedNumber};
use kros_storage::{
    self as storage, format_time, InventoryFilter, ItemOutcome, ReservationRecord, ReservedNumberRecord, Timestamp,
};
use std::time::Duration;
use uuid::Uuid;

/// How long holds last, and how long ended reservations are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationSettings {
    /// `KROS_RESERVATION_MINUTES`, 15 by default.
    pub hold: Duration,
    /// An ended (expired or released) reservation can still be read this long.
    pub keep_ended: Duration,
}

impl Default for ReservationSettings {
    fn default() -> Self {
        ReservationSettings { hold: Duration::from_secs(15 * 60), keep_ended: Duration::from_secs(24 * 3600) }
    }
}

/// The most numbers one reservation holds.
pub const MAX_RESERVED: i64 = 20;

/// Which inventory numbers a reservation or an order asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// These, distinct, in this order.
    Ids(Vec<Uuid>),
    /// Any `quantity` numbers for sale that match, by E.164.
    Matching { country: CountryCode, number_type: Option<NumberType>, contains: Option<DigitPattern>, quantity: i64 },
}

/// A selection as a body sends it, before parsing.
pub struct SelectionFields<'a> {
    pub inventory_ids: Option<&'a [String]>,
    pub country: Option<&'a str>,
    pub number_type: Option<&'a str>,
    pub contains: Option<&'a str>,
    pub quantity: Option<i64>,
}

impl Selection {
    /// `inventory_ids` (1 to `max`, distinct), or `country` and `quantity` (1 to `max`) with
    /// `type` and `contains` if wanted; not both.
    pub fn parse(fields: SelectionFields<'_>, max: i64) -> Result<Self, AppError> {
        let by_filter = fields.country.is_some()
            || fields.number_type.is_some()
            || fields.contains.is_some()
            || fields.quantity.is_some();
        match fields.inventory_ids {
            Some(_) if by_filter => Err(AppError::validation(
                "inventory_ids",
                "give inventory_ids, or country and quantity (with type and contains if wanted), not both",
            )),
            Some(raw) => Self::parse_ids(raw, max),
            None if !by_filter => {
                Err(AppError::validation("inventory_ids", "give inventory_ids, or country and quantity"))
            }
            None => {
                let country = fields
                    .country
                    .ok_or_else(|| AppError::validation("country", "country is required with quantity"))?;
                let quantity = fields
                    .quantity
                    .ok_or_else(|| AppError::validation("quantity", "quantity is required with country"))?;
                if !(1..=max).contains(&quantity) {
                    return Err(AppError::validation("quantity", format!("quantity must be between 1 and {max}")));
                }
                Ok(Selection::Matching {
                    country: CountryCode::parse("country", country)?,
                    number_type: fields.number_type.map(|t| parse_enum("type", t)).transpose()?,
                    contains: fields.contains.map(DigitPattern::parse).transpose()?,
                    quantity,
                })
            }
        }
    }

    fn parse_ids(raw: &[String], max: i64) -> Result<Self, AppError> {
        if raw.is_empty() || raw.len() as i64 > max {
            return Err(AppError::validation("inventory_ids", format!("inventory_ids holds 1 to {max} ids")));
        }
        let mut ids = Vec::with_capacity(raw.len());
        for id in raw {
            let id = kros_domain::parse::parse_uuid("inventory_ids", id)?;
            if ids.contains(&id) {
                return Err(AppError::validation("inventory_ids", format!("inventory_ids names {id} twice")));
            }
            ids.push(id);
        }
        Ok(Selection::Ids(ids))
    }

    /// The search filter of a `Matching` selection, as `tenant` sees the inventory.
    pub(super) fn filter(&self, tenant: &Tenant) -> Option<(InventoryFilter, i64)> {
        match self {
            Selection::Ids(_) => None,
            Selection::Matching { country, number_type, contains, quantity } => Some((
                InventoryFilter {
                    livemode: tenant.livemode(),
                    viewer: tenant.organization_id,
                    country: country.as_str().to_string(),
                    number_type: *number_type,
                    contains: contains.as_ref().map(|d| d.as_str().to_string()),
                },
                *quantity,
            )),
        }
    }
}

/// Too few numbers match a `Matching` selection.
pub(super) fn too_few(found: usize, wanted: i64, what_was_not_done: &str) -> AppError {
    AppError::NumberUnavailable(format!(
        "only {found} of the {wanted} numbers asked for are for sale and not reserved; {what_was_not_done}"
    ))
}

/// The inventory numbers named by an `Ids` selection (read in one query), in the order named,
/// each checked to exist in the tenant's mode and to be open to the tenant (for sale, not held by
/// someone else) as the request starts.
pub(super) async fn named_numbers(
    ctx: &Context,
    tenant: &Tenant,
    ids: &[Uuid],
    what_was_not_done: &str,
) -> Result<Vec<storage::InventoryRecord>, AppError> {
    let now = storage::now();
    let mut found = ctx.store.inventory_by_ids(tenant.livemode(), ids).await?;
    let mut named = Vec::with_capacity(ids.len());
    for id in ids {
        let at = found
            .iter()
            .position(|item| item.id == *id)
            .ok_or_else(|| AppError::NotFound(format!("inventory number {id} not found; {what_was_not_done}")))?;
        let item = found.swap_remove(at);
        if !item.open_to(tenant.organization_id, now) {
            return Err(unavailable(&item, tenant, what_was_not_done));
        }
        named.push(item);
    }
    Ok(named)
}

/// Why `item` cannot be had now: sold, or held by another organization.
pub(super) fn unavailable(item: &storage::InventoryRecord, tenant: &Tenant, what_was_not_done: &str) -> AppError {
    let why = if item.available && item.held_by_other_than(tenant.organization_id, storage::now()) {
        "is reserved by another customer"
    } else {
        "has already been sold"
    };
    AppError::NumberUnavailable(format!("{} {why}; {what_was_not_done}", item.e164))
}

const NOTHING_HELD: &str = "nothing was reserved";

/// Holds the selected numbers for the tenant, all of them or none.
pub async fn create(ctx: &Context, tenant: &Tenant, selection: &Selection) -> Result<Reservation, AppError> {
    let named = match selection {
        Selection::Ids(ids) => named_numbers(ctx, tenant, ids, NOTHING_HELD).await?,
        Selection::Matching { .. } => Vec::new(),
    };
    let mut tx = ctx.store.begin_write().await?;
    let reservation = tx.insert_reservation(tenant.scope(), Uuid::new_v4(), ctx.reservations.hold).await?;
    let ids: Vec<Uuid> = match selection.filter(tenant) {
        None => named.iter().map(|n| n.id).collect(),
        Some((filter, quantity)) => {
            let found = tx.unheld_inventory_for_update(&filter, quantity).await?;
            if (found.len() as i64) < quantity {
                tx.rollback().await?;
                return Err(too_few(found.len(), quantity, NOTHING_HELD));
            }
            found.iter().map(|n| n.id).collect()
        }
    };
    if let Some(refused) = tx.hold_inventory(&reservation, &ids).await? {
        tx.rollback().await?;
        // Taken meanwhile: say by whom, as it is now.
        return Err(match ctx.store.inventory_by_id(tenant.livemode(), refused).await? {
            Some(item) => unavailable(&item, tenant, NOTHING_HELD),
            None => AppError::NotFound(format!("inventory number {refused} not found; {NOTHING_HELD}")),
        });
    }
    tx.commit().await?;
    get(ctx, tenant, reservation.id).await
}

fn not_found() -> AppError {
    AppError::not_found("reservation")
}

/// One of the tenant's reservations (another organization's or mode's: not found).
pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<Reservation, AppError> {
    let record = ctx.store.reservation(tenant.scope(), id).await?.ok_or_else(not_found)?;
    let numbers = ctx.store.reserved_numbers(&[id]).await?;
    Ok(to_reservation(&record, &numbers, storage::now()))
}

/// The tenant's reservations, newest first.
pub async fn list(ctx: &Context, tenant: &Tenant, page: PageRequest) -> Result<Page<Reservation>, AppError> {
    let found = ctx.store.reservations(tenant.scope(), page.into()).await?;
    let ids: Vec<Uuid> = found.rows.iter().map(|r| r.id).collect();
    let numbers = ctx.store.reserved_numbers(&ids).await?;
    let now = storage::now();
    let data = found
        .rows
        .iter()
        .map(|r| {
            let own: Vec<ReservedNumberRecord> = numbers.iter().filter(|n| n.reservation_id == r.id).cloned().collect();
            to_reservation(r, &own, now)
        })
        .collect();
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
}

/// Releases the holds early and removes the reservation: its numbers not bought are for sale to
/// anyone again.
pub async fn release(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    let mut tx = ctx.store.begin_write().await?;
    if !tx.delete_reservation(tenant.scope(), id).await? {
        return Err(not_found());
    }
    tx.commit().await?;
    Ok(())
}

/// Clears the expired holds and forgets the reservations that ended `keep_ended` ago.
pub async fn clean_up(ctx: &Context) -> Result<(u64, u64), AppError> {
    Ok(ctx.store.clean_up_reservations(ctx.reservations.keep_ended).await?)
}

/// Runs [`clean_up`] every minute, beside the requests (each `serve` process does; they agree).
pub fn spawn_housekeeping(ctx: Context) {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            match clean_up(&ctx).await {
                Ok((0, 0)) => {}
                Ok((holds, reservations)) => tracing::debug!(holds, reservations, "expired holds cleared"),
                Err(err) => tracing::warn!(error = %err.chain(), "expired holds could not be cleared now"),
            }
        }
    });
}

fn to_reservation(record: &ReservationRecord, numbers: &[ReservedNumberRecord], now: Timestamp) -> Reservation {
    let ended = record.expires_at <= now;
    let numbers: Vec<ReservedNumber> = numbers
        .iter()
        .map(|n| ReservedNumber {
            number: super::inventory::to_inventory_number(n.number.clone()),
            hold: match n.outcome {
                Some(ItemOutcome::Purchased) => HoldStatus::Purchased,
                Some(ItemOutcome::Moved) => HoldStatus::Lapsed,
                None if ended => HoldStatus::Lapsed,
                None => HoldStatus::Held,
            },
        })
        .collect();
    let status = if !numbers.is_empty() && numbers.iter().all(|n| n.hold == HoldStatus::Purchased) {
        ReservationStatus::Completed
    } else if ended {
        ReservationStatus::Expired
    } else {
        ReservationStatus::Active
    };
    Reservation {
        id: record.id,
        status,
        numbers,
        expires_at: format_time(record.expires_at),
        created_at: format_time(record.created_at),
        livemode: record.livemode,
    }
}

/// Whole seconds until the reservation's holds end (0 once they have).
pub fn seconds_left(reservation: &Reservation) -> u64 {
    chrono::DateTime::parse_from_rfc3339(&reservation.expires_at)
        .map(|end| end.signed_duration_since(chrono::Utc::now()).num_seconds().max(0) as u64)
        .unwrap_or(0)
}
