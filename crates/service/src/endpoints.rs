//! Call-routing endpoints, per organization and mode: where a number's calls go (its SIP
//! targets, tried in order), and the pickers that attach numbers to them.

use super::calls::targets;
use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::{not_null, EndpointName, PageRequest};
use kros_domain::sip::{self, SipTarget};
use kros_domain::{CreateEndpointBody, Endpoint, Page, UpdateEndpointBody};
use kros_storage::{self as storage, EndpointChanges, EndpointDeletion, EndpointRecord};
use sqlx::types::Json;
use uuid::Uuid;

fn to_endpoint(row: EndpointRecord) -> Endpoint {
    Endpoint {
        id: row.id,
        name: row.name,
        targets: row.targets.0,
        failover_timeout_secs: row.failover_timeout_secs,
        livemode: row.livemode,
        created_at: storage::format_time(row.created_at),
        updated_at: storage::format_time(row.updated_at),
    }
}

/// The targets as given, checked: their form, then (unless allowed) where their hosts are.
async fn checked_targets(ctx: &Context, raw: &[String]) -> Result<Json<Vec<String>>, AppError> {
    let parsed: Vec<SipTarget> = sip::parse_targets("targets", raw)?;
    targets::check_public("targets", &parsed, &ctx.calls).await?;
    Ok(Json(parsed.iter().map(ToString::to_string).collect()))
}

pub async fn create(ctx: &Context, tenant: &Tenant, body: &CreateEndpointBody) -> Result<Endpoint, AppError> {
    let name = EndpointName::parse(&body.name)?;
    let targets = checked_targets(ctx, body.targets.as_deref().unwrap_or_default()).await?;
    let failover_timeout_secs = match body.failover_timeout_secs {
        Some(secs) => sip::parse_failover_timeout("failover_timeout_secs", secs)?,
        None => sip::DEFAULT_FAILOVER_TIMEOUT_SECS,
    };
    let now = storage::now();
    let row = EndpointRecord {
        id: Uuid::new_v4(),
        name: name.as_str().to_string(),
        livemode: tenant.livemode(),
        targets,
        failover_timeout_secs,
        created_at: now,
        updated_at: now,
    };
    ctx.store.insert_endpoint(tenant.scope(), &row).await?;
    Ok(to_endpoint(row))
}

/// One of the tenant's endpoints; another organization's (or mode's) is not found, like one
/// that never existed.
pub async fn get(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<Endpoint, AppError> {
    let row = ctx.store.endpoint(tenant.scope(), id).await?;
    row.map(to_endpoint).ok_or_else(|| AppError::not_found("endpoint"))
}

/// Changes the fields given (each checked as on creation); the others stay as they are, even if
/// changed meanwhile. An empty body changes nothing but `updated_at`.
pub async fn update(ctx: &Context, tenant: &Tenant, id: Uuid, body: &UpdateEndpointBody) -> Result<Endpoint, AppError> {
    let mut changes = EndpointChanges::default();
    if let Some(name) = not_null("name", "a name", &body.name)? {
        changes.name = Some(EndpointName::parse(name)?.as_str().to_string());
    }
    if let Some(secs) = not_null("failover_timeout_secs", "a number of seconds", &body.failover_timeout_secs)? {
        changes.failover_timeout_secs = Some(sip::parse_failover_timeout("failover_timeout_secs", *secs)?);
    }
    if let Some(raw) = not_null("targets", "a list of SIP URIs ([] for none)", &body.targets)? {
        changes.targets = Some(checked_targets(ctx, raw).await?);
    }
    let changed = ctx.store.change_endpoint(tenant.scope(), id, &changes, storage::now()).await?;
    changed.map(to_endpoint).ok_or_else(|| AppError::not_found("endpoint"))
}

/// Deletes an endpoint no number routes to. One that numbers use stays (409 `conflict`, naming
/// how many): deleting it would silently leave them ringing their registered devices instead.
pub async fn delete(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    match ctx.store.delete_endpoint(tenant.scope(), id).await? {
        EndpointDeletion::Deleted => Ok(()),
        EndpointDeletion::NotFound => Err(AppError::not_found("endpoint")),
        EndpointDeletion::InUse { numbers: 1 } => Err(AppError::Conflict(
            "1 number routes its calls to this endpoint: attach it to another endpoint (or detach it) first".into(),
        )),
        EndpointDeletion::InUse { numbers } => Err(AppError::Conflict(format!(
            "{numbers} numbers route their calls to this endpoint: attach them to another endpoint (or detach them) first"
        ))),
    }
}

/// The tenant's endpoints, newest first.
pub async fn list(ctx: &Context, tenant: &Tenant, page: PageRequest) -> Result<Page<Endpoint>, AppError> {
    let found = ctx.store.endpoints(tenant.scope(), None, page.into()).await?;
    let data = found.rows.into_iter().map(to_endpoint).collect();
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
}

/// How many endpoints a picker offers at once (with a search when there are more).
pub const PICKER_SIZE: i64 = 50;

/// What an endpoint picker offers: the newest endpoints (whose name holds `search`, if given)
/// and always `current`, the one the number is attached to, wherever it is in the list. With the
/// total that matched, so that the page can say there are more (to search for).
pub async fn picker(
    ctx: &Context,
    tenant: &Tenant,
    current: Option<Uuid>,
    search: Option<&str>,
) -> Result<Page<Endpoint>, AppError> {
    let window = storage::Window { limit: PICKER_SIZE, offset: 0 };
    let found = ctx.store.endpoints(tenant.scope(), search, window).await?;
    let mut rows = found.rows;
    if let Some(current) = current.filter(|id| !rows.iter().any(|e| e.id == *id)) {
        rows.extend(ctx.store.endpoints_by_ids(tenant.scope(), &[current]).await?);
    }
    let data = rows.into_iter().map(to_endpoint).collect();
    Ok(Page { data, total: found.total, limit: PICKER_SIZE, offset: 0 })
}

/// The tenant's endpoints among `ids` (those of a page of numbers).
pub async fn by_ids(ctx: &Context, tenant: &Tenant, ids: &[Uuid]) -> Result<Vec<Endpoint>, AppError> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(ctx.store.endpoints_by_ids(tenant.scope(), &ids).await?.into_iter().map(to_endpoint).collect())
}

/// The names of the tenant's endpoints among `ids` (those of a page of numbers).
pub async fn names(ctx: &Context, tenant: &Tenant, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, AppError> {
    Ok(by_ids(ctx, tenant, ids).await?.into_iter().map(|e| (e.id, e.name)).collect())
}

/// A number may only be attached to an endpoint of its own organization and mode.
pub async fn ensure_exists(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    if ctx.store.endpoint_exists(tenant.scope(), id).await? {
        Ok(())
    } else {
        Err(AppError::validation("endpointId", "endpointId is not an endpoint of this organization"))
    }
}
