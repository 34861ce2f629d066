//! `/v1/number-orders`: many numbers bought in one go, all of them or none.

use super::error::ApiError;
use super::extract::{idempotency_key, ApiJson, ApiQuery, Authenticated, IdPath};
use super::openapi::{BodyRefusals, IdempotencyHeader, OrderNotFound, OrderPage, Refusals, TenancyHeaders};
use crate::domain::parse::PageRequest;
use crate::domain::{CreateOrderBody, ErrorBody, NumberOrder, Page, PageQuery};
use crate::service::idempotency::Claim;
use crate::service::orders::{self, OrderRequest};
use crate::state::AppState;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;

/// Buy up to 100 numbers in one transaction: all of them, or none (a number sold or reserved by
/// someone else meanwhile fails the whole order, naming it). Numbers this organization holds in a
/// reservation are bought under their hold.
#[utoipa::path(
    post, path = "/number-orders", operation_id = "create_number_order", tag = "Orders",
    request_body = CreateOrderBody,
    params(TenancyHeaders, IdempotencyHeader),
    responses(
        (status = 201, description = "Bought (or, with `Idempotent-Replayed: true`, the first answer to this \
            Idempotency-Key)", body = NumberOrder,
            headers(("Idempotent-Replayed" = bool, description = "Present on a replayed answer"))),
        (status = 404, description = "`not_found`: an inventory id is not in this mode's inventory; nothing was bought", body = ErrorBody),
        (status = 409, description = "`number_unavailable` (a number is sold or reserved by someone else, or too few \
            match), `price_changed` (`totalCostCents` is not the current total; the message states it), or \
            `conflict` (this Idempotency-Key is still in progress); nothing was bought", body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: this Idempotency-Key was used with another body", body = ErrorBody),
        Refusals, BodyRefusals,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateOrderBody>,
) -> Result<Response, ApiError> {
    let request = OrderRequest::parse(&body)?;
    // Fingerprinted under the route's name: a purchase's key can never replay as an order.
    let claim = idempotency_key(&headers)?.map(|key| Claim::new(key, &("number_order", &body))).transpose()?;
    Ok(super::created_once(orders::place_once(&state.ctx, &tenant, &request, claim.as_ref()).await?))
}

/// The organization's orders in this mode, newest first.
#[utoipa::path(
    get, path = "/number-orders", operation_id = "list_number_orders", tag = "Orders",
    params(PageQuery, TenancyHeaders),
    responses((status = 200, body = OrderPage), Refusals)
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<NumberOrder>>, ApiError> {
    let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
    Ok(Json(orders::list(&state.ctx, &tenant, page).await?))
}

/// One order, with its numbers as they were bought.
#[utoipa::path(
    get, path = "/number-orders/{id}", operation_id = "get_number_order", tag = "Orders",
    params(("id" = uuid::Uuid, Path, description = "Order id"), TenancyHeaders),
    responses((status = 200, body = NumberOrder), OrderNotFound, Refusals)
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<NumberOrder>, ApiError> {
    Ok(Json(orders::get(&state.ctx, &tenant, id).await?))
}
