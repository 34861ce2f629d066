//! Phone numbers: list, search, purchase, get, update, release, delete.

use super::calls::sip_servers::Notice;
use super::inventory::{parse_country, parse_number_type, AvailableQuery};
use super::{audit, endpoints, idempotency, Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::{
    not_null, parse_enum, parse_friendly_name, parse_tag, parse_tags, parse_uuid, CountryCode, NumberQuery,
    PageRequest, E164,
};
use kros_domain::{
    ListAction, ListNumbersQuery, NumberStatus, NumberType, Page, PhoneNumber, PhoneNumberDetails, PurchaseBody,
    SipCredentials, UpdateBody,
};
use kros_storage::{
    self as storage, format_time, AssignedFilter, InventoryRecord, NumberRecord, NumberSearch, StorageError, WriteTx,
};
use uuid::Uuid;

/// The number as the API shows it.
pub(super) fn to_number(row: &NumberRecord, sip_domain: &str) -> PhoneNumber {
    PhoneNumber {
        id: row.id,
        e164: row.e164.clone(),
        country: row.country.clone(),
        number_type: row.number_type,
        status: row.status,
        endpoint_id: row.endpoint_id,
        allow_inbound: row.allow_inbound,
        allow_outbound: row.allow_outbound,
        sip_uri: format!("sip:{}@{}", row.e164, sip_domain),
        organization_id: row.organization_id,
        livemode: row.livemode,
        setup_cost_cents: row.setup_cost_cents,
        monthly_cost_cents: row.monthly_cost_cents,
        currency: row.currency.clone(),
        created_at: format_time(row.created_at),
        updated_at: format_time(row.updated_at),
        released_at: row.released_at.map(format_time),
        friendly_name: row.friendly_name.clone(),
        tags: row.tags.0.clone(),
        deletion_locked: row.deletion_locked,
    }
}

fn to_details(row: &NumberRecord, ctx: &Context) -> Result<PhoneNumberDetails, AppError> {
    let password = match row.released_at {
        None => Some(ctx.secret_cipher.open(&row.sip_password)?),
        Some(_) => None,
    };
    Ok(PhoneNumberDetails {
        number: to_number(row, &ctx.sip_domain),
        sip_credentials: SipCredentials {
            username: row.sip_username.clone(),
            password,
            domain: ctx.sip_domain.clone(),
        },
    })
}

/// A new SIP password, sealed for storage.
fn new_sip_password(ctx: &Context) -> Result<String, AppError> {
    ctx.secret_cipher.seal(&super::random_string(24, super::ALNUM))
}

/// Seals every SIP password still in clear text (stored before encryption) or under a key that
/// has been rotated out. Run at start; a database that takes no writes now is left for the next.
pub async fn seal_stored_sip_passwords(ctx: &Context) {
    let resealed = async {
        let mut count = 0;
        for (id, stored) in ctx.store.sip_passwords_without_prefix(&ctx.secret_cipher.current_prefix()).await? {
            let sealed = ctx.secret_cipher.seal(&ctx.secret_cipher.open(&stored)?)?;
            if ctx.store.reseal_sip_password(id, &stored, &sealed).await? {
                count += 1;
            }
        }
        Ok::<_, AppError>(count)
    };
    match resealed.await {
        Ok(0) => {}
        Ok(count) => tracing::info!(count, "SIP passwords encrypted with the current key"),
        Err(err) => {
            tracing::warn!(error = %err.chain(), "SIP passwords could not all be encrypted now; retried at the next start")
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Listing and searching

/// `action=assigned`: the organization's numbers, of one country and type, carrying one tag,
/// matching a query, if given.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AssignedQuery {
    pub country: Option<CountryCode>,
    pub number_type: Option<NumberType>,
    pub tag: Option<String>,
    pub q: Option<NumberQuery>,
    pub page: PageRequest,
}

impl AssignedQuery {
    pub fn parse(
        country: Option<&str>,
        number_type: Option<&str>,
        tag: Option<&str>,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Self, AppError> {
        Ok(AssignedQuery {
            country: parse_country(country)?,
            number_type: parse_number_type(number_type)?,
            tag: tag.map(|t| parse_tag("tag", t)).transpose()?,
            q: q.map(NumberQuery::parse).transpose()?,
            page,
        })
    }

    fn filter(&self) -> AssignedFilter {
        AssignedFilter {
            country: self.country.map(|c| c.as_str().to_string()),
            number_type: self.number_type,
            tag: self.tag.clone(),
            search: self.q.as_ref().map(|q| match q {
                NumberQuery::Digits(digits) => NumberSearch::Digits(digits.clone()),
                NumberQuery::NamePart(part) => NumberSearch::NamePart(like_pattern(&part.to_lowercase())),
            }),
        }
    }
}

/// `text` for `LIKE ... ESCAPE '\'`: its wildcards and the escape itself stand for themselves.
fn like_pattern(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

/// A parsed `GET /phone-numbers` query: one of its two lists, by `action`.
#[derive(Debug, Clone, PartialEq)]
pub enum ListRequest {
    Assigned(AssignedQuery),
    Available(AvailableQuery),
}

impl ListRequest {
    pub fn parse(query: &ListNumbersQuery) -> Result<Self, AppError> {
        let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
        let (country, number_type) = (query.country.as_deref(), query.number_type.as_deref());
        let action = query.action.as_deref().map(|a| parse_enum::<ListAction>("action", a)).transpose()?;
        match action.unwrap_or(ListAction::Assigned) {
            ListAction::Assigned if query.contains.is_some() => {
                Err(AppError::validation("contains", "contains applies only to action=available"))
            }
            ListAction::Assigned => Ok(ListRequest::Assigned(AssignedQuery::parse(
                country,
                number_type,
                query.tag.as_deref(),
                query.q.as_deref(),
                page,
            )?)),
            ListAction::Available if query.tag.is_some() => {
                Err(AppError::validation("tag", "tag applies only to action=assigned"))
            }
            ListAction::Available if query.q.is_some() => {
                Err(AppError::validation("q", "q applies only to action=assigned; use contains"))
            }
            ListAction::Available => Ok(ListRequest::Available(AvailableQuery::parse(
                country,
                number_type,
                query.contains.as_deref(),
                page,
            )?)),
        }
    }
}

/// The organization's numbers in this mode (not released), newest first.
pub async fn list_assigned(
    ctx: &Context,
    tenant: &Tenant,
    query: &AssignedQuery,
) -> Result<Page<PhoneNumber>, AppError> {
    list_assigned_of(ctx, tenant, &query.filter(), query.page, None).await
}

/// The numbers page: its owned groups tell the unfiltered total, which then is not counted again.
pub async fn list_assigned_and_owned(
    ctx: &Context,
    tenant: &Tenant,
    query: &AssignedQuery,
) -> Result<(Page<PhoneNumber>, Vec<kros_domain::OwnedGroup>), AppError> {
    let owned = ctx.store.owned_groups(tenant.scope()).await?;
    let filter = query.filter();
    let known_total = filter.is_everything().then(|| owned.iter().map(|g| g.count).sum());
    Ok((list_assigned_of(ctx, tenant, &filter, query.page, known_total).await?, owned))
}

async fn list_assigned_of(
    ctx: &Context,
    tenant: &Tenant,
    filter: &AssignedFilter,
    page: PageRequest,
    known_total: Option<i64>,
) -> Result<Page<PhoneNumber>, AppError> {
    let found = ctx.store.assigned_numbers(tenant.scope(), filter, page.into(), known_total).await?;
    let data = found.rows.iter().map(|r| to_number(r, &ctx.sip_domain)).collect();
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
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
                return Err(AppError::validation("inventory_id", "give inventory_id, or e164 with country and type"))
            }
        };
        let cents = |field: &str, v: Option<i64>| -> Result<Option<i64>, AppError> {
            Ok(v.map(|c| kros_domain::parse::parse_cents(field, c)).transpose()?)
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
    fn check_price(&self, item: &InventoryRecord) -> Result<(), AppError> {
        // In i128: no stored price, however large, can overflow the sum.
        let total = i128::from(item.setup_cost_cents) + i128::from(item.monthly_cost_cents);
        let differs = self.seen_setup_cost_cents.is_some_and(|c| c != item.setup_cost_cents)
            || self.seen_monthly_cost_cents.is_some_and(|c| c != item.monthly_cost_cents)
            || self.seen_total_cost_cents.is_some_and(|c| i128::from(c) != total);
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
pub type PurchaseOutcome = idempotency::Outcome<PhoneNumber>;

/// Buys a number, at most once per Idempotency-Key: the same key with the same request replays
/// the first answer; with another request it is refused.
pub async fn purchase_once(
    ctx: &Context,
    tenant: &Tenant,
    purchase: &Purchase,
    key: Option<&idempotency::Claim>,
) -> Result<PurchaseOutcome, AppError> {
    idempotency::once(ctx, tenant, key, idempotency::Answer::into_result, |key| {
        purchase_number(ctx, tenant, purchase, key)
    })
    .await
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
    // A sold (or someone else's reserved) number cannot be bought at any price: say so before
    // comparing prices.
    if !item.open_to(tenant.organization_id, storage::now()) {
        return Err(super::reservations::unavailable(&item, tenant, "nothing was bought"));
    }
    purchase.check_price(&item)?;
    if let Some(endpoint_id) = purchase.endpoint_id {
        endpoints::ensure_exists(ctx, tenant, endpoint_id).await?;
    }

    let mut tx = ctx.store.begin_write().await?;
    if !tx.claim_inventory(tenant.scope(), &item).await? {
        tx.rollback().await?;
        return Err(why_the_claim_failed(ctx, tenant, purchase, &item).await);
    }
    let number = record_sale(ctx, tenant, tx.as_mut(), purchase.endpoint_id, &item).await?;
    if let Some(key) = key {
        idempotency::complete_in(tx.as_mut(), tenant, key, &idempotency::Answer::Bought(number.clone())).await?;
    }
    tx.commit().await?;
    Ok(number)
}

/// After a won claim: the buyer's number (active, fresh SIP credentials, at the claimed price)
/// and its purchase in the audit log, in the claim's transaction. Used by the purchase and by
/// every number of an order.
pub(super) async fn record_sale(
    ctx: &Context,
    tenant: &Tenant,
    tx: &mut dyn WriteTx,
    endpoint_id: Option<Uuid>,
    item: &InventoryRecord,
) -> Result<PhoneNumber, AppError> {
    let row = new_number_record(ctx, tenant, endpoint_id, item)?;
    tx.insert_number(&row).await.map_err(|e| match e {
        // The database's own guard: one live owner per inventory number.
        StorageError::UniqueViolation(_) => number_unavailable(&item.e164),
        other => other.into(),
    })?;
    let number = to_number(&row, &ctx.sip_domain);
    audit::record(tx, tenant, number.id, audit::Action::Purchase, None, Some(&number)).await?;
    Ok(number)
}

/// The inventory row could not be claimed: the number was sold or reserved by someone else
/// meanwhile, or its price moved since it was read. Says which.
async fn why_the_claim_failed(ctx: &Context, tenant: &Tenant, purchase: &Purchase, item: &InventoryRecord) -> AppError {
    match ctx.store.inventory_by_id(tenant.livemode(), item.id).await {
        Ok(Some(now)) if now.open_to(tenant.organization_id, storage::now()) => match purchase.check_price(&now) {
            Err(refusal) => refusal,
            Ok(()) => AppError::PriceChanged(format!("the price of {} changed; nothing was bought", now.e164)),
        },
        Ok(Some(now)) => super::reservations::unavailable(&now, tenant, "nothing was bought"),
        Ok(None) => number_unavailable(&item.e164),
        Err(e) => e.into(),
    }
}

/// The number as the buyer will own it: active, inbound on, outbound off, fresh SIP credentials,
/// at the price it was claimed at.
fn new_number_record(
    ctx: &Context,
    tenant: &Tenant,
    endpoint_id: Option<Uuid>,
    item: &InventoryRecord,
) -> Result<NumberRecord, AppError> {
    let now = storage::now();
    Ok(NumberRecord {
        id: Uuid::new_v4(),
        organization_id: tenant.organization_id,
        inventory_id: item.id,
        livemode: tenant.livemode(),
        e164: item.e164.clone(),
        country: item.country.clone(),
        number_type: item.number_type,
        status: NumberStatus::Active,
        endpoint_id,
        allow_inbound: true,
        allow_outbound: false,
        sip_username: format!("kros{}", super::random_string(12, super::LOWER_ALNUM)),
        sip_password: new_sip_password(ctx)?,
        setup_cost_cents: item.setup_cost_cents,
        monthly_cost_cents: item.monthly_cost_cents,
        currency: item.currency.clone(),
        created_at: now,
        updated_at: now,
        released_at: None,
        friendly_name: String::new(),
        tags: Default::default(),
        deletion_locked: false,
    })
}

pub(super) fn number_unavailable(e164: &str) -> AppError {
    AppError::NumberUnavailable(format!("{e164} has already been sold"))
}

async fn resolve_inventory(
    ctx: &Context,
    tenant: &Tenant,
    target: &PurchaseTarget,
) -> Result<InventoryRecord, AppError> {
    let livemode = tenant.livemode();
    let (by_id, by_number) = match target {
        PurchaseTarget::InventoryId(id) => (Some(*id), None),
        PurchaseTarget::Number { e164, country, number_type } => (None, Some((e164, country, number_type))),
        PurchaseTarget::Both { inventory_id, e164, country, number_type } => {
            (Some(*inventory_id), Some((e164, country, number_type)))
        }
    };
    let item = match (by_id, by_number) {
        (Some(id), _) => {
            ctx.store.inventory_by_id(livemode, id).await?.ok_or_else(|| AppError::not_found("inventory number"))?
        }
        (None, Some((e164, _, _))) => ctx
            .store
            .inventory_by_e164(livemode, e164.as_str())
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
        if item.number_type != *number_type {
            return Err(AppError::validation("type", format!("{} is a {} number", item.e164, item.number_type)));
        }
    }
    Ok(item)
}

// ---------------------------------------------------------------------------------------------
// One number

fn number_not_found() -> AppError {
    AppError::not_found("phone number")
}

/// The number with its SIP credentials. Another organization's number, or another mode's, is
/// "not found" exactly like an id that never existed.
pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<PhoneNumberDetails, AppError> {
    let row = ctx.store.number(tenant.scope(), id).await?.ok_or_else(number_not_found)?;
    to_details(&row, ctx)
}

/// The tenant's number, locked for change until the transaction ends.
async fn find_for_update(tx: &mut dyn WriteTx, tenant: &Tenant, id: Uuid) -> Result<NumberRecord, AppError> {
    tx.number_for_update(tenant.scope(), id).await?.ok_or_else(number_not_found)
}

/// A parsed `PATCH` body.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NumberChanges {
    /// `Some(None)` detaches the endpoint.
    pub endpoint_id: Option<Option<Uuid>>,
    pub allow_inbound: Option<bool>,
    pub allow_outbound: Option<bool>,
    pub status: Option<NumberStatus>,
    pub friendly_name: Option<String>,
    pub tags: Option<Vec<String>>,
    pub deletion_locked: Option<bool>,
}

impl NumberChanges {
    pub fn parse(body: &UpdateBody) -> Result<Self, AppError> {
        let endpoint_id = match &body.endpoint_id {
            Some(Some(id)) => Some(Some(parse_uuid("endpointId", id)?)),
            Some(None) => Some(None),
            None => None,
        };
        let status = not_null("status", "active or inactive", &body.status)?
            .map(|s| parse_enum::<NumberStatus>("status", s))
            .transpose()?;
        Ok(NumberChanges {
            endpoint_id,
            allow_inbound: not_null("allowInbound", "true or false", &body.allow_inbound)?.copied(),
            allow_outbound: not_null("allowOutbound", "true or false", &body.allow_outbound)?.copied(),
            status,
            friendly_name: not_null("friendlyName", "a string (\"\" removes the name)", &body.friendly_name)?
                .map(|name| parse_friendly_name(name))
                .transpose()?,
            tags: not_null("tags", "a list of tags ([] removes them all)", &body.tags)?
                .map(|tags| parse_tags(tags))
                .transpose()?,
            deletion_locked: not_null("deletionLocked", "true or false", &body.deletion_locked)?.copied(),
        })
    }

    fn is_empty(&self) -> bool {
        *self == NumberChanges::default()
    }
}

/// Changes a number's settings. A released number cannot change (409 `conflict`).
pub async fn update(
    ctx: &Context,
    tenant: &Tenant,
    id: Uuid,
    changes: &NumberChanges,
) -> Result<PhoneNumber, AppError> {
    if let Some(Some(endpoint_id)) = changes.endpoint_id {
        endpoints::ensure_exists(ctx, tenant, endpoint_id).await?;
    }
    let mut tx = ctx.store.begin_write().await?;
    let before = find_for_update(tx.as_mut(), tenant, id).await?;
    if before.released_at.is_some() {
        return Err(AppError::Conflict("this number has been released and can no longer be changed".into()));
    }
    if changes.is_empty() {
        return Ok(to_number(&before, &ctx.sip_domain));
    }
    let mut after = before.clone();
    if let Some(endpoint_id) = changes.endpoint_id {
        after.endpoint_id = endpoint_id;
    }
    after.allow_inbound = changes.allow_inbound.unwrap_or(after.allow_inbound);
    after.allow_outbound = changes.allow_outbound.unwrap_or(after.allow_outbound);
    after.status = changes.status.unwrap_or(after.status);
    if let Some(name) = &changes.friendly_name {
        after.friendly_name = name.clone();
    }
    if let Some(tags) = &changes.tags {
        after.tags.0 = tags.clone();
    }
    after.deletion_locked = changes.deletion_locked.unwrap_or(after.deletion_locked);
    if after == before {
        return Ok(to_number(&before, &ctx.sip_domain));
    }
    after.updated_at = storage::now();
    tx.update_number(&after).await?;
    let credentials_change = after.status != before.status || after.allow_outbound != before.allow_outbound;
    let username = after.sip_username.clone();
    let (before, after) = (to_number(&before, &ctx.sip_domain), to_number(&after, &ctx.sip_domain));
    audit::record(tx.as_mut(), tenant, id, audit::Action::Update, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    if credentials_change {
        ctx.sip_servers.send(vec![Notice::Credentials { username }]);
    }
    Ok(after)
}

/// A new SIP password for the number (answered with it); the old one stops working. A released
/// number has no credentials to rotate (409 `conflict`).
pub async fn rotate_sip_password(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<PhoneNumberDetails, AppError> {
    let mut tx = ctx.store.begin_write().await?;
    let before = find_for_update(tx.as_mut(), tenant, id).await?;
    if before.released_at.is_some() {
        return Err(AppError::Conflict("this number has been released: it has no SIP credentials to rotate".into()));
    }
    let after = NumberRecord { sip_password: new_sip_password(ctx)?, updated_at: storage::now(), ..before.clone() };
    tx.update_number(&after).await?;
    let shown = (to_number(&before, &ctx.sip_domain), to_number(&after, &ctx.sip_domain));
    audit::record(tx.as_mut(), tenant, id, audit::Action::Update, Some(&shown.0), Some(&shown.1)).await?;
    tx.commit().await?;
    ctx.sip_servers.send(vec![Notice::Credentials { username: after.sip_username.clone() }]);
    to_details(&after, ctx)
}

/// Soft release: the record stays, inactive with `released_at`; the inventory number is for sale
/// again. Releasing a released number answers the same record and changes nothing.
pub async fn release(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<PhoneNumber, AppError> {
    let mut tx = ctx.store.begin_write().await?;
    let before = find_for_update(tx.as_mut(), tenant, id).await?;
    if before.released_at.is_some() {
        return Ok(to_number(&before, &ctx.sip_domain));
    }
    refuse_if_locked(&before, "released")?;
    let now = storage::now();
    let after = NumberRecord {
        status: NumberStatus::Inactive,
        released_at: Some(now),
        updated_at: now,
        // The old SIP password dies with the release (and is withheld from then on).
        sip_password: new_sip_password(ctx)?,
        ..before.clone()
    };
    tx.update_number(&after).await?;
    tx.return_inventory(before.inventory_id).await?;
    let forget = forget_number(&before);
    let (before, after) = (to_number(&before, &ctx.sip_domain), to_number(&after, &ctx.sip_domain));
    audit::record(tx.as_mut(), tenant, id, audit::Action::Release, Some(&before), Some(&after)).await?;
    tx.commit().await?;
    ctx.sip_servers.send(forget);
    Ok(after)
}

/// What the SIP servers must forget of a number that is gone: its credentials and its devices.
fn forget_number(number: &NumberRecord) -> Vec<Notice> {
    vec![
        Notice::Credentials { username: number.sip_username.clone() },
        Notice::Registrations { number: number.e164.clone() },
    ]
}

/// The deletion lock: a locked number is neither released nor deleted.
fn refuse_if_locked(number: &NumberRecord, what_would_happen: &str) -> Result<(), AppError> {
    if number.deletion_locked {
        return Err(AppError::Conflict(format!(
            "{} is deletion-locked and cannot be {what_would_happen}; unlock it first (deletionLocked: false)",
            number.e164
        )));
    }
    Ok(())
}

/// Hard delete: the record is gone; the audit log keeps its history. If the number was still
/// owned, its inventory number is for sale again.
pub async fn delete(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    let mut tx = ctx.store.begin_write().await?;
    let before = find_for_update(tx.as_mut(), tenant, id).await?;
    refuse_if_locked(&before, "deleted")?;
    tx.delete_number(id).await?;
    // A released number's inventory row may already belong to a new buyer: leave it alone.
    if before.released_at.is_none() {
        tx.return_inventory(before.inventory_id).await?;
    }
    let forget = forget_number(&before);
    let before = to_number(&before, &ctx.sip_domain);
    audit::record(tx.as_mut(), tenant, id, audit::Action::Delete, Some(&before), None).await?;
    tx.commit().await?;
    ctx.sip_servers.send(forget);
    Ok(())
}

#[cfg(test)]
mod parser_tests {
    use super::*;

    fn field_of(err: AppError) -> (String, String) {
        (err.code().to_string(), err.field().unwrap_or_default().to_string())
    }

    fn purchase(body: serde_json::Value) -> Result<Purchase, AppError> {
        Purchase::parse(&serde_json::from_value(body).unwrap())
    }

    #[test]
    fn a_purchase_names_an_inventory_id_or_a_whole_number() {
        let id = Uuid::new_v4();
        let p = purchase(serde_json::json!({"inventory_id": id, "totalCostCents": 215})).unwrap();
        assert_eq!(p.target, PurchaseTarget::InventoryId(id));
        assert_eq!(p.seen_total_cost_cents, Some(215));
        let p = purchase(serde_json::json!({"e164": "+14155550100", "country": "us", "type": "local"})).unwrap();
        assert!(matches!(p.target, PurchaseTarget::Number { ref e164, .. } if e164.as_str() == "+14155550100"));
        let both = serde_json::json!({"inventory_id": id, "e164": "+14155550100", "country": "US", "type": "local"});
        assert!(matches!(purchase(both).unwrap().target, PurchaseTarget::Both { .. }));
    }

    #[test]
    fn a_purchase_refuses_what_is_missing_or_malformed_naming_the_field() {
        let refused = |body| field_of(purchase(body).unwrap_err());
        let v = |field: &str| ("validation_error".to_string(), field.to_string());
        assert_eq!(refused(serde_json::json!({})), v("inventory_id"));
        assert_eq!(refused(serde_json::json!({"inventory_id": "nope"})), v("inventory_id"));
        assert_eq!(refused(serde_json::json!({"e164": "+14155550100", "type": "local"})), v("country"));
        assert_eq!(refused(serde_json::json!({"e164": "+14155550100", "country": "US"})), v("type"));
        assert_eq!(refused(serde_json::json!({"e164": "+1415", "country": "US", "type": "local"})), v("e164"));
        assert_eq!(refused(serde_json::json!({"e164": "+14155550100", "country": "GB", "type": "local"})), v("e164"));
        assert_eq!(refused(serde_json::json!({"e164": "+14155550100", "country": "US", "type": "Local"})), v("type"));
        let id = Uuid::new_v4();
        assert_eq!(refused(serde_json::json!({"inventory_id": id, "setupCostCents": -1})), v("setupCostCents"));
        assert_eq!(refused(serde_json::json!({"inventory_id": id, "endpointId": "x"})), v("endpointId"));
    }

    #[test]
    fn changes_tell_a_detach_from_an_absent_field_and_refuse_other_nulls() {
        let parse = |body| NumberChanges::parse(&serde_json::from_value(body).unwrap());
        let detach = parse(serde_json::json!({"endpointId": null})).unwrap();
        assert_eq!(detach.endpoint_id, Some(None));
        assert!(parse(serde_json::json!({})).unwrap().is_empty());
        let set = parse(serde_json::json!({"allowInbound": false, "status": "inactive"})).unwrap();
        assert_eq!((set.allow_inbound, set.status), (Some(false), Some(NumberStatus::Inactive)));
        for (body, field) in [
            (serde_json::json!({"allowInbound": null}), "allowInbound"),
            (serde_json::json!({"allowOutbound": null}), "allowOutbound"),
            (serde_json::json!({"status": null}), "status"),
            (serde_json::json!({"status": "Active"}), "status"),
            (serde_json::json!({"endpointId": "not-a-uuid"}), "endpointId"),
        ] {
            assert_eq!(field_of(parse(body).unwrap_err()).1, field);
        }
    }

    #[test]
    fn a_list_request_follows_the_action_rules() {
        let parse = |pairs: &[(&str, &str)]| {
            let query: ListNumbersQuery =
                serde_urlencoded::from_str(&serde_urlencoded::to_string(pairs).unwrap()).unwrap();
            ListRequest::parse(&query)
        };
        let page = PageRequest { limit: 20, offset: 0 };
        let everything = AssignedQuery { page, ..Default::default() };
        assert_eq!(parse(&[]).unwrap(), ListRequest::Assigned(everything));
        let Ok(ListRequest::Available(AvailableQuery { country, contains, .. })) =
            parse(&[("action", "available"), ("country", "ng"), ("contains", "803")])
        else {
            panic!("available with a country")
        };
        assert_eq!((country.as_str(), contains.unwrap().as_str()), ("NG", "803"));
        for (pairs, field) in [
            (&[("action", "available")][..], "country"),
            (&[("action", "")][..], "action"),
            (&[("action", "bought")][..], "action"),
            (&[("contains", "1")][..], "contains"),
            (&[("limit", "0")][..], "limit"),
            (&[("limit", "101")][..], "limit"),
            (&[("offset", "-1")][..], "offset"),
            (&[("type", "toll-free")][..], "type"),
            (&[("country", "XX")][..], "country"),
        ] {
            assert_eq!(field_of(parse(pairs).unwrap_err()).1, field, "{pairs:?}");
        }
    }
}
