//! `/v1/endpoints`: the call-routing endpoints numbers attach to, and where their calls go.

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Authenticated, IdPath};
use super::openapi::{BodyRefusals, EndpointNotFound, EndpointPage, Refusals, TenancyHeaders};
use crate::domain::parse::PageRequest;
use crate::domain::{CreateEndpointBody, Endpoint, ErrorBody, PageQuery, UpdateEndpointBody};
use crate::service::endpoints;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Create an endpoint, with the SIP URIs its calls go to (none: calls ring the devices
/// registered with each number's credentials).
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
    Ok((StatusCode::CREATED, Json(endpoints::create(&state.ctx, &tenant, &body).await?)))
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

/// One endpoint.
#[utoipa::path(
    get, path = "/endpoints/{id}", operation_id = "get_endpoint", tag = "Endpoints",
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), TenancyHeaders),
    responses((status = 200, body = Endpoint), EndpointNotFound, Refusals)
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoints::get(&state.ctx, &tenant, id).await?))
}

/// Change an endpoint: its name, its targets (the whole list) or its failover timeout. The
/// next call follows the change.
#[utoipa::path(
    patch, path = "/endpoints/{id}", operation_id = "update_endpoint", tag = "Endpoints",
    request_body = UpdateEndpointBody,
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), TenancyHeaders),
    responses((status = 200, body = Endpoint), EndpointNotFound, Refusals, BodyRefusals)
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UpdateEndpointBody>,
) -> Result<Json<Endpoint>, ApiError> {
    Ok(Json(endpoints::update(&state.ctx, &tenant, id, &body).await?))
}

/// Delete an endpoint that no number routes to.
#[utoipa::path(
    delete, path = "/endpoints/{id}", operation_id = "delete_endpoint", tag = "Endpoints",
    params(("id" = uuid::Uuid, Path, description = "Endpoint id"), TenancyHeaders),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "`conflict`: numbers route their calls to this endpoint (the message says how many); attach them elsewhere first", body = ErrorBody),
        EndpointNotFound, Refusals,
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    endpoints::delete(&state.ctx, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
