//! `/v1/webhook-endpoints`: where the organization's events are sent, and how that went.

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Authenticated, IdPath};
use super::openapi::{
    BodyRefusals, DeliveryAttemptPage, Refusals, TenancyHeaders, WebhookEndpointNotFound, WebhookEndpointPage,
};
use crate::domain::parse::PageRequest;
use crate::domain::{
    CreateWebhookEndpointBody, DeliveryAttempt, ErrorBody, Page, PageQuery, UpdateWebhookEndpointBody, WebhookEndpoint,
    WebhookEndpointWithSecret,
};
use crate::service::webhooks;
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Add a webhook endpoint; the answer holds its signing secret, shown this once.
#[utoipa::path(
    post, path = "/webhook-endpoints", operation_id = "create_webhook_endpoint", tag = "Webhooks",
    request_body = CreateWebhookEndpointBody, params(TenancyHeaders),
    responses(
        (status = 201, body = WebhookEndpointWithSecret),
        (status = 409, description = "`conflict`: this organization has the most endpoints it may have in this mode", body = ErrorBody),
        Refusals, BodyRefusals,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiJson(body): ApiJson<CreateWebhookEndpointBody>,
) -> Result<(StatusCode, Json<WebhookEndpointWithSecret>), ApiError> {
    Ok((StatusCode::CREATED, Json(webhooks::create(&state.ctx, &tenant, &body).await?)))
}

/// The organization's webhook endpoints in this mode, newest first.
#[utoipa::path(
    get, path = "/webhook-endpoints", operation_id = "list_webhook_endpoints", tag = "Webhooks",
    params(PageQuery, TenancyHeaders),
    responses((status = 200, body = WebhookEndpointPage), Refusals)
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<WebhookEndpoint>>, ApiError> {
    let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
    Ok(Json(webhooks::list(&state.ctx, &tenant, page).await?))
}

/// One webhook endpoint (without its secret).
#[utoipa::path(
    get, path = "/webhook-endpoints/{id}", operation_id = "get_webhook_endpoint", tag = "Webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook endpoint id"), TenancyHeaders),
    responses((status = 200, body = WebhookEndpoint), WebhookEndpointNotFound, Refusals)
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    Ok(Json(webhooks::get(&state.ctx, &tenant, id).await?))
}

/// Change a webhook endpoint: its URL, event types, description, or whether it is enabled.
#[utoipa::path(
    patch, path = "/webhook-endpoints/{id}", operation_id = "update_webhook_endpoint", tag = "Webhooks",
    request_body = UpdateWebhookEndpointBody,
    params(("id" = uuid::Uuid, Path, description = "Webhook endpoint id"), TenancyHeaders),
    responses((status = 200, body = WebhookEndpoint), WebhookEndpointNotFound, Refusals, BodyRefusals)
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UpdateWebhookEndpointBody>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    Ok(Json(webhooks::update(&state.ctx, &tenant, id, &body).await?))
}

/// Delete a webhook endpoint, with its pending deliveries and its attempts.
#[utoipa::path(
    delete, path = "/webhook-endpoints/{id}", operation_id = "delete_webhook_endpoint", tag = "Webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook endpoint id"), TenancyHeaders),
    responses((status = 204, description = "Deleted"), WebhookEndpointNotFound, Refusals)
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    webhooks::delete(&state.ctx, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown this once; the old one keeps signing beside it for 24 hours
/// (deliveries carry both signatures in `webhook-signature`).
#[utoipa::path(
    post, path = "/webhook-endpoints/{id}/rotate-secret", operation_id = "rotate_webhook_secret", tag = "Webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook endpoint id"), TenancyHeaders),
    responses((status = 200, body = WebhookEndpointWithSecret), WebhookEndpointNotFound, Refusals)
)]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<WebhookEndpointWithSecret>, ApiError> {
    Ok(Json(webhooks::rotate_secret(&state.ctx, &tenant, id).await?))
}

/// The endpoint's delivery attempts, newest first.
#[utoipa::path(
    get, path = "/webhook-endpoints/{id}/deliveries", operation_id = "list_webhook_deliveries", tag = "Webhooks",
    params(("id" = uuid::Uuid, Path, description = "Webhook endpoint id"), PageQuery, TenancyHeaders),
    responses((status = 200, body = DeliveryAttemptPage), WebhookEndpointNotFound, Refusals)
)]
pub async fn deliveries(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<DeliveryAttempt>>, ApiError> {
    let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
    Ok(Json(webhooks::attempts(&state.ctx, &tenant, id, page).await?))
}
