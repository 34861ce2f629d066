//! Call-routing endpoints, per organization and mode.

use super::{Context, Tenant};
use crate::error::AppError;
use kros_domain::parse::{EndpointName, PageRequest};
use kros_domain::{Endpoint, Page};
use kros_storage::{self as storage, EndpointRecord};
use uuid::Uuid;

fn to_endpoint(row: EndpointRecord) -> Endpoint {
    Endpoint { id: row.id, name: row.name, livemode: row.livemode, created_at: storage::format_time(row.created_at) }
}

pub async fn create(ctx: &Context, tenant: &Tenant, name: &EndpointName) -> Result<Endpoint, AppError> {
    let row = EndpointRecord {
        id: Uuid::new_v4(),
        name: name.as_str().to_string(),
        livemode: tenant.livemode(),
        created_at: storage::now(),
    };
    ctx.store.insert_endpoint(tenant.scope(), &row).await?;
    Ok(to_endpoint(row))
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

/// The names of the tenant's endpoints among `ids` (those of a page of numbers).
pub async fn names(ctx: &Context, tenant: &Tenant, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>, AppError> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(ctx.store.endpoints_by_ids(tenant.scope(), &ids).await?.into_iter().map(|e| (e.id, e.name)).collect())
}

/// A number may only be attached to an endpoint of its own organization and mode.
pub async fn ensure_exists(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    if ctx.store.endpoint_exists(tenant.scope(), id).await? {
        Ok(())
    } else {
        Err(AppError::validation("endpointId", "endpointId is not an endpoint of this organization"))
    }
}
