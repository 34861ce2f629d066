//! Phone numbers: list, search, purchase, get, update, release, delete.

use super::{audit, endpoints, idempotency, inventory, uuid_column, Context, Tenant};
use crate::db::{self, is_unique_violation, Tx};
use crate::domain::parse::{parse_enum, CountryCode, DigitPattern, E164, PageRequest};
use crate::domain::{
    ListNumbersQuery, NumberStatus, NumberType, Page, PhoneNumber, PhoneNumberDetails, PurchaseBody,
    SipCredentials, UpdateBody,
};
use crate::error::AppError;
use sqlx::{FromRow, Row};
use uuid::Uuid;

/// The columns of [`NumberRow`], in one place for every query.
const COLUMNS: &str = "id, organization_id, inventory_id, livemode, e164, country, number_type, status, \
    endpoint_id, allow_inbound, allow_outbound, sip_username, sip_password, setup_cost_cents, \
    monthly_cost_cents, currency, created_at, updated_at, released_at";

#[derive(Debug, Clone, sqlx::FromRow)]
struct NumberRow {
    id: String,
    organization_id: String,
    inventory_id: String,
    livemode: i64,
    e164: String,
    country: String,
    number_type: String,
    status: String,
    endpoint_id: Option<String>,
    allow_inbound: i64,
    allow_outbound: i64,
    sip_username: String,
    sip_password: String,
    setup_cost_cents: i64,
    monthly_cost_cents: i64,
    currency: String,
    created_at: String,
    updated_at: String,
    released_at: Option<String>,
}

impl NumberRow {
    fn to_number(&self, sip_domain: &str) -> Result<PhoneNumber, AppError> {
        let stored = |what: &str, e: String| AppError::internal(format!("stored {what} is invalid: {e}"));
        Ok(PhoneNumber {
            id: uuid_column(&self.id)?,
            e164: self.e164.clone(),
            country: self.country.clone(),
            number_type: self.number_type.parse().map_err(|e| stored("type", e))?,
            status: self.status.parse().map_err(|e| stored("status", e))?,
            endpoint_id: self.endpoint_id.as_deref().map(uuid_column).transpose()?,
            allow_inbound: self.allow_inbound != 0,
            allow_outbound: self.allow_outbound != 0,
            sip_uri: format!("sip:{}@{}", self.e164, sip_domain),
            organization_id: uuid_column(&self.organization_id)?,
            livemode: self.livemode != 0,
            setup_cost_cents: self.setup_cost_cents,
            monthly_cost_cents: self.monthly_cost_cents,
            currency: self.currency.clone(),
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            released_at: self.released_at.clone(),
        })
    }

    fn to_details(&self, sip_domain: &str) -> Result<PhoneNumberDetails, AppError> {
        Ok(PhoneNumberDetails {
            number: self.to_number(sip_domain)?,
            sip_credentials: SipCredentials {
                username: self.sip_username.clone(),
                password: self.sip_password.clone(),
                domain: sip_domain.to_string(),
            },
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Listing and searching

/// A parsed `GET /phone-numbers` query.
#[derive(Debug, Clone, PartialEq)]
pub enum ListRequest {
    Assigned { country: Option<CountryCode>, number_type: Option<NumberType>, page: PageRequest },
    Available {
        country: CountryCode,
        number_type: Option<NumberType>,
        contains: Option<DigitPattern>,
        page: PageRequest,
    },
}

impl ListRequest {
    pub fn parse(query: &ListNumbersQuery) -> Result<Self, AppError> {
        let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
        let number_type = query.number_type.as_deref().map(|t| parse_enum::<NumberType>("type", t)).transpose()?;
        let country = query.country.as_deref().map(|c| CountryCode::parse("country", c)).transpose()?;
        match query.action.as_deref().unwrap_or("assigned") {
            "assigned" => {
                if query.contains.is_some() {
                    return Err(AppError::validation("contains", "contains applies only to action=available"));
                }
                Ok(ListRequest::Assigned { country, number_type, page })
            }
            "available" => {
                let country = country.ok_or_else(|| {
                    AppError::validation("country", "country is required when action=available")
                })?;
                let contains = query.contains.as_deref().map(DigitPattern::parse).transpose()?;
                Ok(ListRequest::Available { country, number_type, contains, page })
            }
            _ => Err(AppError::validation("action", "action must be one of assigned or available")),
        }
    }
}

/// The organization's numbers in this mode (not released), newest first.
pub async fn list_assigned(
    ctx: &Context,
    tenant: &Tenant,
    country: Option<CountryCode>,
    number_type: Option<NumberType>,
    page: PageRequest,
) -> Result<Page<PhoneNumber>, AppError> {
    let filter = "organization_id = $1 AND livemode = $2 AND released_at IS NULL \
        AND ($3 IS NULL OR country = $3) AND ($4 IS NULL OR number_type = $4)";
    let org = tenant.organization_id.to_string();
    let country = country.map(|c| c.as_str().to_string());
    let number_type = number_type.map(|t| t.as_str().to_string());
    // One statement for the page and its total (an uncorrelated subquery, computed once): each
    // statement is a round trip to the database, which is most of a list's cost.
    let page_rows = sqlx::query(&format!(
        "SELECT {COLUMNS}, (SELECT COUNT(*) FROM phone_numbers WHERE {filter}) AS total \
         FROM phone_numbers WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6"
    ))
    .bind(&org)
    .bind(db::flag(tenant.livemode()))
    .bind(&country)
    .bind(&number_type)
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(&ctx.db)
    .await?;
    let total: i64 = match page_rows.first() {
        Some(row) => row.try_get("total")?,
        None if page.offset == 0 => 0,
        // Past the end: the total still counts what the earlier pages hold.
        None => sqlx::query(&format!("SELECT COUNT(*) AS n FROM phone_numbers WHERE {filter}"))
            .bind(&org)
            .bind(db::flag(tenant.livemode()))
            .bind(&country)
            .bind(&number_type)
            .fetch_one(&ctx.db)
            .await?
            .try_get("n")?,
    };
    let rows = page_rows.iter().map(NumberRow::from_row).collect::<Result<Vec<_>, _>>()?;
    let data = rows.iter().map(|r| r.to_number(&ctx.sip_domain)).collect::<Result<_, _>>()?;
    Ok(Page { data, total, limit: page.limit, offset: page.offset })
}

// ---------------------------------------------------------------------------------------------
// Purchase

/// Which inventory number to buy.
#[derive(Debug, Clone, PartialEq)]
pub enum PurchaseTarget {
    /// The API flow.
    InventoryId(Uuid),
    /// The dashboard flow.
    Number { e164: E164, country: CountryCode, number_type: NumberType },
    /// Both given: they must name the same inventory number.
    Both { inventory_id: Uuid, e164: E164, country: CountryCode, number_type: NumberType },
}

/// A parsed purchase request.
#[derive(Debug, Clone, PartialEq)]
pub struct Purchase {
    pub target: PurchaseTarget,
    pub endpoint_id: Option<Uuid>,
    pub seen_setup_cost_cents: Option<i64>,
    pub seen_monthly_cost_cents: Option<i64>,
    pub seen_total_cost_cents: Option<i64>,
}

pub(crate) fn parse_uuid(field: &str, raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::validation(field, format!("{field} must be a UUID")))
}

impl Purchase {
    pub fn parse(body: &PurchaseBody) -> Result<Self, AppError> {
        let inventory_id = body.inventory_id.as_deref().map(|id| parse_uuid("inventory_id", id)).transpose()?;
        let any_number_field = body.e164.is_some() || body.country.is_some() || body.number_type.is_some();
        let number = if any_number_field {
            let missing = |f: &str| AppError::validation(f, format!("{f} is required with e164, country and type"));
            let country = CountryCode::parse("country", body.country.as_deref().ok_or_else(|| missing("country"))?)?;
            let e164 = E164::parse("e164", body.e164.as_deref().ok_or_else(|| missing("e164"))?, country)?;
            let number_type = parse_enum("type", body.number_type.as_deref().ok_or_else(|| missing("type"))?)?;
            Some((e164, country, number_type))
        } else {
            None
        };
        let target = match (inventory_id, number) {
            (Some(id), None) => PurchaseTarget::InventoryId(id),
            (None, Some((e164, country, number_type))) => PurchaseTarget::Number { e164, country, number_type },
            (Some(inventory_id), Some((e164, country, number_type))) => {
                PurchaseTarget::Both { inventory_id, e164, country, number_type }
            }
            (None, None) => {
                return Err(AppError::validation(
                    "inventory_id",
                    "give inventory_id, or e164 with country and type",
                ))
            }
        };
        let cents = |field: &str, v: Option<i64>| -> Result<Option<i64>, AppError> {
            match v {
                Some(c) if c < 0 => Err(AppError::validation(field, format!("{field} must not be negative"))),
                other => Ok(other),
            }
        };
        Ok(Purchase {
            target,
            endpoint_id: body.endpoint_id.as_deref().map(|id| parse_uuid("endpointId", id)).transpose()?,
            seen_setup_cost_cents: cents("setupCostCents", body.setup_cost_cents)?,
            seen_monthly_cost_cents: cents("monthlyCostCents", body.monthly_cost_cents)?,
            seen_total_cost_cents: cents("totalCostCents", body.total_cost_cents)?,
        })
    }

    /// Refuses the purchase if the buyer saw another price than the inventory's.
    fn check_price(&self, item: &inventory::InventoryRow) -> Result<(), AppError> {
        let total = item.setup_cost_cents + item.monthly_cost_cents;
        let differs = self.seen_setup_cost_cents.is_some_and(|c| c != item.setup_cost_cents)
            || self.seen_monthly_cost_cents.is_some_and(|c| c != item.monthly_cost_cents)
            || self.seen_total_cost_cents.is_some_and(|c| c != total);
        if differs {
            return Err(AppError::PriceChanged(format!(
                "the price of {} is now {} setup + {} monthly ({} total) cents {}; nothing was bought",
                item.e164, item.setup_cost_cents, item.monthly_cost_cents, total, item.currency
            )));
        }
        Ok(())
    }
}

/// The outcome of a purchase under an Idempotency-Key.
#[derive(Debug)]
pub enum PurchaseOutcome {
    Bought(PhoneNumber),
    /// The first response to this key, replayed as it was.
    Replayed { status: u16, body: String },
}

/// Buys a number, at most once per Idempotency-Key. `request_fingerprint` identifies the
/// request body, so the same key with another body is refused.
pub async fn purchase_once(
    ctx: &Context,
    tenant: &Tenant,
    purchase: &Purchase,
    key: Option<&idempotency::Claim>,
) -> Result<PurchaseOutcome, AppError> {
    let Some(key) = key else {
        return purchase_number(ctx, tenant, purchase, None).await.map(PurchaseOutcome::Bought);
    };
    match idempotency::begin(ctx, tenant, key).await? {
        idempotency::Begin::Replay { status, body } => Ok(PurchaseOutcome::Replayed { status, body }),
        idempotency::Begin::Proceed => match purchase_number(ctx, tenant, purchase, Some(key)).await {
            Ok(number) => Ok(PurchaseOutcome::Bought(number)),
            Err(err) => {
                // A refusal is the answer to this key; a transient failure lets the client retry.
                if err.status().is_server_error() {
                    idempotency::abandon(ctx, tenant, key).await?;
                } else {
                    let body = serde_json::to_string(&err.body(crate::error::current_request_id()))
                        .map_err(|e| AppError::internal(e.to_string()))?;
                    idempotency::complete(&ctx.db, tenant, key, err.status().as_u16(), &body).await?;
                }
                Err(err)
            }
        },
    }
}

/// Buys one inventory number for the tenant. Atomic: the inventory row is claimed with a
/// conditional update, so whatever the concurrency and the number of processes, one buyer wins;
/// the partial unique index on `phone_numbers` backs this up in the database.
async fn purchase_number(
    ctx: &Context,
    tenant: &Tenant,
    purchase: &Purchase,
    key: Option<&idempotency::Claim>,
) -> Result<PhoneNumber, AppError> {
    let item = resolve_inventory(ctx, tenant, &purchase.target).await?;
    // A sold number cannot be bought at any price: say so before comparing prices.
    if item.available == 0 {
        return Err(number_unavailable(&item.e164));
    }
    purchase.check_price(&item)?;
    if let Some(endpoint_id) = purchase.endpoint_id {
        endpoints::ensure_exists(&ctx.db, tenant, endpoint_id).await?;
    }

    let mut tx = ctx.begin_write().await?;
    let claimed = sqlx::query(
        "UPDATE inventory_numbers SET available = 0 \
         WHERE id = $1 AND available = 1 AND setup_cost_cents = $2 AND monthly_cost_cents = $3",
    )
    .bind(&item.id)
    .bind(item.setup_cost_cents)
    .bind(item.monthly_cost_cents)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        tx.rollback().await?;
        // Lost the race, or the price moved since it was read: say which.
        let now = inventory::find_by_id(&ctx.db, tenant.livemode(), &item.id).await?;
        return match now {
            Some(now) if now.available != 0 => {
                purchase.check_price(&now)?;
                Err(AppError::PriceChanged(format!("the price of {} changed; nothing was bought", now.e164)))
            }
            _ => Err(number_unavailable(&item.e164)),
        };
    }

    let now = db::now();
    let row = NumberRow {
        id: Uuid::new_v4().to_string(),
        organization_id: tenant.organization_id.to_string(),
        inventory_id: item.id.clone(),
        livemode: db::flag(tenant.livemode()),
        e164: item.e164.clone(),
        country: item.country.clone(),
        number_type: item.number_type.clone(),
        status: NumberStatus::Active.as_str().to_string(),
        endpoint_id: purchase.endpoint_id.map(|id| id.to_string()),
        allow_inbound: db::flag(true),
        allow_outbound: db::flag(false),
        sip_username: format!("kros{}", super::random_string(12, super::LOWER_ALNUM)),
        sip_password: super::random_string(24, super::ALNUM),
        setup_cost_cents: item.setup_cost_cents,
        monthly_cost_cents: item.monthly_cost_cents,
        currency: item.currency.clone(),
        created_at: now.clone(),
        updated_at: now,
        released_at: None,
    };
    insert(&mut tx, &row).await.map_err(|e| {
        if is_unique_violation(&e) { number_unavailable(&item.e164) } else { e.into() }
    })?;
    let number = row.to_number(&ctx.sip_domain)?;
    audit::record(&mut tx, tenant, number.id, audit::Action::Purchase, None, Some(&number)).await?;
    if let Some(key) = key {
        let body = serde_json::to_string(&number).map_err(|e| AppError::internal(e.to_string()))?;
        idempotency::complete(&mut **tx, tenant, key, 201, &body).await?;
    }
    tx.commit().await?;
    Ok(number)
}

fn number_unavailable(e164: &str) -> AppError {
    AppError::NumberUnavailable(format!("{e164} has already been sold"))
}

async fn resolve_inventory(
    ctx: &Context,
    tenant: &Tenant,
    target: &PurchaseTarget,
) -> Result<inventory::InventoryRow, AppError> {
    let livemode = tenant.livemode();
    let (by_id, by_number) = match target {
        PurchaseTarget::InventoryId(id) => (Some(*id), None),
        PurchaseTarget::Number { e164, country, number_type } => (None, Some((e164, country, number_type))),
        PurchaseTarget::Both { inventory_id, e164, country, number_type } => {
            (Some(*inventory_id), Some((e164, country, number_type)))
        }
    };
    let item = match (by_id, by_number) {
        (Some(id), _) => inventory::find_by_id(&ctx.db, livemode, &id.to_string())
            .await?
            .ok_or_else(|| AppError::not_found("inventory number"))?,
        (None, Some((e164, _, _))) => inventory::find_by_e164(&ctx.db, livemode, e164.as_str())
            .await?
            .ok_or_else(|| AppError::NotFound(format!("{e164} is not in the inventory")))?,
        (None, None) => unreachable!("a purchase target names an inventory id or a number"),
    };
    if let Some((e164, country, number_type)) = by_number {
        if item.e164 != e164.as_str() {
            return Err(AppError::validation("e164", "inventory_id and e164 name different numbers"));
        }
        if item.country != country.as_str() {
            return Err(AppError::validation("country", format!("{} is a number of {}", item.e164, item.country)));
        }
        if item.number_type != number_type.as_str() {
            return Err(AppError::validation("type", format!("{} is a {} number", item.e164, item.number_type)));
        }
    }
    Ok(item)
}

async fn insert(tx: &mut Tx, row: &NumberRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO phone_numbers ({COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
    ))
    .bind(&row.id)
    .bind(&row.organization_id)
    .bind(&row.inventory_id)
    .bind(row.livemode)
    .bind(&row.e164)
    .bind(&row.country)
    .bind(&row.number_type)
    .bind(&row.status)
    .bind(&row.endpoint_id)
    .bind(row.allow_inbound)
    .bind(row.allow_outbound)
    .bind(&row.sip_username)
    .bind(&row.sip_password)
    .bind(row.setup_cost_cents)
    .bind(row.monthly_cost_cents)
    .bind(&row.currency)
    .bind(&row.created_at)
    .bind(&row.updated_at)
    .bind(&row.released_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One number

/// Finds the tenant's number. Another organization's number, or another mode's, is "not found"
/// exactly like an id that never existed.
async fn find<'e, E: sqlx::Executor<'e, Database = sqlx::Any>>(
    executor: E,
    tenant: &Tenant,
    id: Uuid,
    lock: &str,
) -> Result<NumberRow, AppError> {
    sqlx::query_as::<_, NumberRow>(&format!(
        "SELECT {COLUMNS} FROM phone_numbers WHERE id = $1 AND organization_id = $2 AND livemode = $3 {lock}"
    ))
    .bind(id.to_string())
    .bind(tenant.organization_id.to_string())
    .bind(db::flag(tenant.livemode()))
    .fetch_optional(executor)
    .await?
    .ok_or_else(|| AppError::not_found("phone number"))
}

/// The number with its SIP credentials.
pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<PhoneNumberDetails, AppError> {
    find(&ctx.db, tenant, id, "").await?.to_details(&ctx.sip_domain)
}

/// A parsed `PATCH` body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberChanges {
    /// `Some(None)` detaches the endpoint.
    pub endpoint_id: Option<Option<Uuid>>,
    pub allow_inbound: Option<bool>,
    pub allow_outbound: Option<bool>,
    pub status: Option<NumberStatus>,
}

impl NumberChanges {
    pub fn parse(body: &UpdateBody) -> Result<Self, AppError> {
        fn not_null<T: Clone>(field: &str, what: &str, v: &Option<Option<T>>) -> Result<Option<T>, AppError> {
            match v {
                Some(None) => Err(AppError::validation(field, format!("{field} must be {what}, not null"))),
                Some(Some(v)) => Ok(Some(v.clone())),
                None => Ok(None),
            }
        }
        let endpoint_id = match &body.endpoint_id {
            Some(Some(id)) => Some(Some(parse_uuid("endpointId", id)?)),
            Some(None) => Some(None),
            None => None,
        };
        let status = not_null("status", "active or inactive", &body.status)?
            .map(|s| parse_enum::<NumberStatus>("status", &s))
            .transpose()?;
        Ok(NumberChanges {
            endpoint_id,
            allow_inbound: not_null("allowInbound", "true or false", &body.allow_inbound)?,
            allow_outbound: not_null("allowOutbound", "true or false", &body.allow_outbound)?,
            status,
        })
    }

    fn is_empty(&self) -> bool {
        *self == NumberChanges::default()
    }
}

/// Changes a number's settings. A released number cannot change (409 `conflict`).
pub async fn update(ctx: &Context, tenant: &Tenant, id: Uuid, changes: &NumberChanges) -> Result<PhoneNumber, AppError> {
    if let Some(Some(endpoint_id)) = changes.endpoint_id {
        endpoints::ensure_exists(&ctx.db, tenant, endpoint_id).await?;
    }
    let mut tx = ctx.begin_write().await?;
    let before = find(&mut **tx, tenant, id, ctx.for_update()).await?;
    if before.released_at.is_some() {
        return Err(AppError::Conflict("this number has been released and can no longer be changed".into()));
    }
    if changes.is_empty() {
        return before.to_number(&ctx.sip_domain);
    }
    let mut after = before.clone();
    if let Some(endpoint_id) = changes.endpoint_id {
        after.endpoint_id = endpoint_id.map(|e| e.to_string());
    }
    if let Some(v) = changes.allow_inbound {
        after.allow_inbound = db::flag(v);
    }
    if let Some(v) = changes.allow_outbound {
        after.allow_outbound = db::flag(v);
    }
    if let Some(v) = changes.status {
        after.status = v.as_str().to_string();
    }
    after.updated_at = db::now();
    sqlx::query(
        "UPDATE phone_numbers SET endpoint_id = $1, allow_inbound = $2, allow_outbound = $3, status = $4, \
         updated_at = $5 WHERE id = $6",
    )
    .bind(&after.endpoint_id)
    .bind(after.allow_inbound)
    .bind(after.allow_outbound)
    .bind(&after.status)
    .bind(&after.updated_at)
    .bind(&after.id)
    .execute(&mut **tx)
    .await?;
    let (before, after) = (before.to_number(&ctx.sip_domain)?, after.to_number(&ctx.sip_domain)?);
    audit::record(&mut tx, tenant, id, audit::Action::Update, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Soft release: the record stays, inactive with `released_at`; the inventory number is for sale
/// again. Releasing a released number answers the same record and changes nothing.
pub async fn release(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<PhoneNumber, AppError> {
    let mut tx = ctx.begin_write().await?;
    let before = find(&mut **tx, tenant, id, ctx.for_update()).await?;
    if before.released_at.is_some() {
        return before.to_number(&ctx.sip_domain);
    }
    let now = db::now();
    let mut after = before.clone();
    after.status = NumberStatus::Inactive.as_str().to_string();
    after.released_at = Some(now.clone());
    after.updated_at = now;
    sqlx::query("UPDATE phone_numbers SET status = $1, released_at = $2, updated_at = $3 WHERE id = $4")
        .bind(&after.status)
        .bind(&after.released_at)
        .bind(&after.updated_at)
        .bind(&after.id)
        .execute(&mut **tx)
        .await?;
    inventory::make_available(&mut tx, &before.inventory_id).await?;
    let (before, after) = (before.to_number(&ctx.sip_domain)?, after.to_number(&ctx.sip_domain)?);
    audit::record(&mut tx, tenant, id, audit::Action::Release, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    Ok(after)
}

/// Hard delete: the record is gone; the audit log keeps its history. If the number was still
/// owned, its inventory number is for sale again.
pub async fn delete(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    let mut tx = ctx.begin_write().await?;
    let before = find(&mut **tx, tenant, id, ctx.for_update()).await?;
    sqlx::query("DELETE FROM phone_numbers WHERE id = $1").bind(&before.id).execute(&mut **tx).await?;
    // A released number's inventory row may already belong to a new buyer: leave it alone.
    if before.released_at.is_none() {
        inventory::make_available(&mut tx, &before.inventory_id).await?;
    }
    let before = before.to_number(&ctx.sip_domain)?;
    audit::record(&mut tx, tenant, id, audit::Action::Delete, Some(&before), None).await?;
    tx.commit().await?;
    Ok(())
}
