//! `/v1/endpoints`: the call-routing endpoints numbers attach to.

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Authenticated};
use super::openapi::{BodyRefusals, EndpointPage, Refusals, TenancyHeaders};
use crate::domain::parse::{EndpointName, PageRequest};
use crate::domain::{CreateEndpointBody, Endpoint, PageQuery};
use crate::service::endpoints;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Create an endpoint.
#[utoipa::path(
    post, path = "/endpoints", operation_id = "create_endpoint", tag = "Endpoints",
    request_body = CreateEndpointBody, params(TenancyHeaders),
    responses((status = 201, body = Endpoint), Refusals, BodyRefusals)
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiJson(body): ApiJson<CreateEndpointBody>,
) -> Result<(StatusCode, Json<Endpoint>), ApiError> {
    let name = EndpointName::parse(&body.name)?;
    Ok((StatusCode::CREATED, Json(endpoints::create(&state.ctx, &tenant, &name).await?)))
}

/// The organization's endpoints in this mode, newest first.
#[utoipa::path(
    get, path = "/endpoints", operation_id = "list_endpoints", tag = "Endpoints",
    params(PageQuery, TenancyHeaders),
    responses((status = 200, body = EndpointPage), Refusals)
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<crate::domain::Page<Endpoint>>, ApiError> {
    let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
    Ok(Json(endpoints::list(&state.ctx, &tenant, page).await?))
}
