//! Call-routing endpoints, per organization and mode.

use super::{Context, Tenant};
use crate::domain::parse::{EndpointName, PageRequest};
use crate::domain::{Endpoint, Page};
use crate::error::AppError;
use crate::storage::{self, EndpointRecord};
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
    let found = ctx.store.endpoints(tenant.scope(), page.window()).await?;
    let data = found.rows.into_iter().map(to_endpoint).collect();
    Ok(Page { data, total: found.total, limit: page.limit, offset: page.offset })
}

/// A number may only be attached to an endpoint of its own organization and mode.
pub async fn ensure_exists(ctx: &Context, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    if ctx.store.endpoint_exists(tenant.scope(), id).await? {
        Ok(())
    } else {
        Err(AppError::validation("endpointId", "endpointId is not an endpoint of this organization"))
    }
}
