//! Bulk orders: up to 100 numbers bought in one transaction, all of them or none, at most once
//! per Idempotency-Key. A number sold (or reserved by someone else) meanwhile fails the whole
//! order with 409 naming it, and nothing is bought. Each number bought is a
//! `phone_number.purchased` event, and the order itself a `number_order.completed` one.

use super::reservations::{named_numbers, too_few, unavailable, Selection, SelectionFields};
use super::{audit, endpoints, idempotency, phone_numbers, Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::PageRequest;
use kros_domain::{CreateOrderBody, NumberOrder, OrderStatus, Page, PhoneNumber};
use kros_storage::{self as storage, format_time, InventoryRecord, OrderRecord};
use sqlx::types::Json;
use uuid::Uuid;

/// The most numbers one order buys.
pub const MAX_ORDERED: i64 = 100;

const NOTHING_BOUGHT: &str = "nothing was bought";

/// A parsed order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRequest {
    pub selection: Selection,
    pub endpoint_id: Option<Uuid>,
    /// The total the buyer saw (setup plus the first month of every number).
    pub seen_total_cost_cents: Option<i64>,
}

impl OrderRequest {
    pub fn parse(body: &CreateOrderBody) -> Result<Self, AppError> {
        let fields = SelectionFields {
            inventory_ids: body.inventory_ids.as_deref(),
            country: body.country.as_deref(),
            number_type: body.number_type.as_deref(),
            contains: body.contains.as_deref(),
            quantity: body.quantity,
        };
        Ok(OrderRequest {
            selection: Selection::parse(fields, MAX_ORDERED)?,
            endpoint_id: body
                .endpoint_id
                .as_deref()
                .map(|id| kros_domain::parse::parse_uuid("endpointId", id))
                .transpose()?,
            seen_total_cost_cents: body.total_cost_cents.map(parse_total).transpose()?,
        })
    }
}

/// The most an order can cost: every number at the highest prices.
pub const MAX_TOTAL_CENTS: i64 = MAX_ORDERED * 2 * kros_domain::parse::MAX_PRICE_CENTS;

fn parse_total(cents: i64) -> Result<i64, AppError> {
    if !(0..=MAX_TOTAL_CENTS).contains(&cents) {
        return Err(AppError::validation(
            "totalCostCents",
            format!("totalCostCents must be between 0 and {MAX_TOTAL_CENTS}"),
        ));
    }
    Ok(cents)
}

/// Places the order, at most once per Idempotency-Key (as a purchase is).
pub async fn place_once(
    ctx: &Context,
    tenant: &Tenant,
    request: &OrderRequest,
    key: Option<&idempotency::Claim>,
) -> Result<idempotency::Outcome<NumberOrder>, AppError> {
    idempotency::once(ctx, tenant, key, idempotency::Answer::into_order_result, |key| place(ctx, tenant, request, key))
        .await
}

/// Buys every selected number in one transaction, or none.
async fn place(
    ctx: &Context,
    tenant: &Tenant,
    request: &OrderRequest,
    key: Option<&idempotency::Claim>,
) -> Result<NumberOrder, AppError> {
    if let Some(endpoint_id) = request.endpoint_id {
        endpoints::ensure_exists(ctx, tenant, endpoint_id).await?;
    }
    let named = match &request.selection {
        Selection::Ids(ids) => named_numbers(ctx, tenant, ids, NOTHING_BOUGHT).await?,
        Selection::Matching { .. } => Vec::new(),
    };
    let mut tx = ctx.store.begin_write().await?;
    let items = match request.selection.filter(tenant) {
        None => named,
        Some((filter, quantity)) => {
            // The rows come back from the statement that locks them: nothing inside this
            // transaction reads through the pool (concurrent orders would wait on each other
            // for a connection).
            let items = tx.unheld_inventory_for_update(&filter, quantity).await?;
            if (items.len() as i64) < quantity {
                tx.rollback().await?;
                return Err(too_few(items.len(), quantity, NOTHING_BOUGHT));
            }
            items
        }
    };
    let (total_cost_cents, currency) = match priced(&items, request.seen_total_cost_cents) {
        Ok(priced) => priced,
        Err(refusal) => {
            tx.rollback().await?;
            return Err(refusal);
        }
    };

    // Claimed in id order, whatever the order asked: two orders of overlapping numbers lock
    // them in the same order and never deadlock.
    let mut in_lock_order: Vec<&InventoryRecord> = items.iter().collect();
    in_lock_order.sort_by_key(|item| item.id);
    for item in in_lock_order {
        if !tx.claim_inventory(tenant.scope(), item).await? {
            tx.rollback().await?;
            return Err(why_the_claim_failed(ctx, tenant, item).await);
        }
    }
    let mut numbers: Vec<PhoneNumber> = Vec::with_capacity(items.len());
    for item in &items {
        numbers.push(phone_numbers::record_sale(ctx, tenant, tx.as_mut(), request.endpoint_id, item).await?);
    }
    let created_at = storage::now();
    let order = NumberOrder {
        id: Uuid::new_v4(),
        status: OrderStatus::Completed,
        numbers,
        total_cost_cents,
        currency,
        created_at: format_time(created_at),
        livemode: tenant.livemode(),
    };
    tx.insert_order(&to_record(&order, tenant, created_at)?).await?;
    audit::record_order(tx.as_mut(), tenant, &order).await?;
    if let Some(key) = key {
        idempotency::complete_in(tx.as_mut(), tenant, key, &idempotency::Answer::Ordered(order.clone())).await?;
    }
    tx.commit().await?;
    Ok(order)
}

/// The order's total and currency: one currency per order, and the total the buyer saw if given.
fn priced(items: &[InventoryRecord], seen_total: Option<i64>) -> Result<(i64, String), AppError> {
    let currency = items.first().map(|i| i.currency.clone()).unwrap_or_default();
    if let Some(other) = items.iter().find(|i| i.currency != currency) {
        return Err(AppError::validation(
            "inventory_ids",
            format!("an order is paid in one currency: {} is priced in {}, not {currency}", other.e164, other.currency),
        ));
    }
    // In i128: no stored prices, however large, overflow the sum.
    let total: i128 = items.iter().map(|i| i128::from(i.setup_cost_cents) + i128::from(i.monthly_cost_cents)).sum();
    if seen_total.is_some_and(|seen| i128::from(seen) != total) {
        return Err(AppError::PriceChanged(format!(
            "these numbers now cost {total} cents {currency} in all (setup plus the first month); {NOTHING_BOUGHT}"
        )));
    }
    let total = i64::try_from(total)
        .map_err(|_| AppError::validation("inventory_ids", "the order's total is too large; order fewer numbers"))?;
    Ok((total, currency))
}

/// A number could not be claimed: sold or reserved by someone else meanwhile, or its price moved.
async fn why_the_claim_failed(ctx: &Context, tenant: &Tenant, item: &InventoryRecord) -> AppError {
    match ctx.store.inventory_by_id(tenant.livemode(), item.id).await {
        Ok(Some(now)) if now.open_to(tenant.organization_id, storage::now()) => {
            AppError::PriceChanged(format!("the price of {} changed; {NOTHING_BOUGHT}", now.e164))
        }
        Ok(Some(now)) => unavailable(&now, tenant, NOTHING_BOUGHT),
        Ok(None) => phone_numbers::number_unavailable(&item.e164),
        Err(e) => e.into(),
    }
}

fn to_record(order: &NumberOrder, tenant: &Tenant, created_at: storage::Timestamp) -> Result<OrderRecord, AppError> {
    Ok(OrderRecord {
        id: order.id,
        organization_id: tenant.organization_id,
        livemode: order.livemode,
        total_cost_cents: order.total_cost_cents,
        currency: order.currency.clone(),
        numbers: Json(
            serde_json::to_value(&order.numbers)
                .map_err(|e| AppError::internal_caused_by("cannot store the order", e))?,
        ),
        created_at,
    })
}

fn to_order(record: OrderRecord) -> Result<NumberOrder, AppError> {
    let numbers = serde_json::from_value(record.numbers.0)
        .map_err(|e| AppError::internal_caused_by("a stored order is unreadable", e))?;
    Ok(NumberOrder {
        id: record.id,
        status: OrderStatus::Completed,
        numbers,
        total_cost_cents: record.total_cost_cents,
        currency: record.currency,
        created_at: format_time(record.created_at),
        livemode: record.livemode,
    })
}

/// One of the tenant's orders (another organization's or mode's: not found).
pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<NumberOrder, AppError> {
    to_order(ctx.store.order(tenant.scope(), id).await?.ok_or_else(|| AppError::not_found("number order"))?)
}

/// The tenant's orders, newest first.
pub async fn list(ctx: &Context, tenant: &Tenant, page: PageRequest) -> Result<Page<NumberOrder>, AppError> {
    let found = ctx.store.orders(tenant.scope(), page.into()).await?;
    let data = found.rows.into_iter().map(to_order).collect::<Result<_, _>>()?;
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
}
