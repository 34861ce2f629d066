//! Call-routing endpoints, per organization and mode.

use super::{uuid_column, Tenant};
use crate::db::{self, Db};
use crate::domain::parse::{EndpointName, PageRequest};
use crate::domain::{Endpoint, Page};
use crate::error::AppError;
use sqlx::Row;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct EndpointRow {
    id: String,
    name: String,
    livemode: i64,
    created_at: String,
}

impl EndpointRow {
    fn to_endpoint(&self) -> Result<Endpoint, AppError> {
        Ok(Endpoint {
            id: uuid_column(&self.id)?,
            name: self.name.clone(),
            livemode: self.livemode != 0,
            created_at: self.created_at.clone(),
        })
    }
}

pub async fn create(db: &Db, tenant: &Tenant, name: &EndpointName) -> Result<Endpoint, AppError> {
    let row = EndpointRow {
        id: Uuid::new_v4().to_string(),
        name: name.as_str().to_string(),
        livemode: db::flag(tenant.livemode()),
        created_at: db::now(),
    };
    sqlx::query("INSERT INTO endpoints (id, organization_id, livemode, name, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&row.id)
        .bind(tenant.organization_id.to_string())
        .bind(row.livemode)
        .bind(&row.name)
        .bind(&row.created_at)
        .execute(db)
        .await?;
    row.to_endpoint()
}

/// The tenant's endpoints, newest first.
pub async fn list(db: &Db, tenant: &Tenant, page: PageRequest) -> Result<Page<Endpoint>, AppError> {
    let org = tenant.organization_id.to_string();
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM endpoints WHERE organization_id = $1 AND livemode = $2")
        .bind(&org)
        .bind(db::flag(tenant.livemode()))
        .fetch_one(db)
        .await?
        .try_get("n")?;
    let rows: Vec<EndpointRow> = sqlx::query_as(
        "SELECT id, name, livemode, created_at FROM endpoints WHERE organization_id = $1 AND livemode = $2 \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
    )
    .bind(&org)
    .bind(db::flag(tenant.livemode()))
    .bind(page.limit)
    .bind(page.offset)
    .fetch_all(db)
    .await?;
    let data = rows.iter().map(EndpointRow::to_endpoint).collect::<Result<_, _>>()?;
    Ok(Page { data, total, limit: page.limit, offset: page.offset })
}

/// A number may only be attached to an endpoint of its own organization and mode.
pub async fn ensure_exists(db: &Db, tenant: &Tenant, id: Uuid) -> Result<(), AppError> {
    let found = sqlx::query("SELECT id FROM endpoints WHERE id = $1 AND organization_id = $2 AND livemode = $3")
        .bind(id.to_string())
        .bind(tenant.organization_id.to_string())
        .bind(db::flag(tenant.livemode()))
        .fetch_optional(db)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(AppError::validation("endpointId", "endpointId is not an endpoint of this organization")),
    }
}
