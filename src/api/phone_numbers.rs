//! `/v1/phone-numbers`: parse, authenticate, call the service, map the result.

use super::error::ApiError;
use super::extract::{idempotency_key, ApiJson, ApiQuery, Authenticated, IdPath};
use super::openapi::{BodyRefusals, IdempotencyHeader, NumberListPage, NumberNotFound, Refusals, TenancyHeaders};
use crate::domain::parse::parse_enum;
use crate::domain::{
    DeleteAction, DeleteQuery, ErrorBody, ListNumbersQuery, PhoneNumber, PhoneNumberDetails, PurchaseBody, UpdateBody,
};
use crate::error::AppError;
use crate::service::idempotency::Claim;
use crate::service::{inventory, phone_numbers as numbers};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

/// List the organization's numbers, or search the inventory.
#[utoipa::path(
    get, path = "/phone-numbers", operation_id = "list_phone_numbers", tag = "Phone numbers",
    params(ListNumbersQuery, TenancyHeaders),
    responses(
        (status = 200, description = "`action=assigned`: the organization's numbers (not released), newest \
            first; `action=available`: inventory numbers for sale, by E.164. The order is stable across pages.",
            body = NumberListPage),
        Refusals,
    )
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiQuery(query): ApiQuery<ListNumbersQuery>,
) -> Result<Response, ApiError> {
    Ok(match numbers::ListRequest::parse(&query)? {
        numbers::ListRequest::Assigned(query) => {
            Json(numbers::list_assigned(&state.ctx, &tenant, &query).await?).into_response()
        }
        numbers::ListRequest::Available(query) => {
            Json(inventory::search_available(&state.ctx, &tenant, &query).await?).into_response()
        }
    })
}

/// Purchase a number from the inventory.
#[utoipa::path(
    post, path = "/phone-numbers", operation_id = "purchase_phone_number", tag = "Phone numbers",
    request_body = PurchaseBody,
    params(TenancyHeaders, IdempotencyHeader),
    responses(
        (status = 201, description = "Bought (or, with `Idempotent-Replayed: true`, the first answer to this \
            Idempotency-Key)", body = PhoneNumber,
            headers(("Idempotent-Replayed" = bool, description = "Present on a replayed answer"))),
        (status = 404, description = "`not_found`: no such inventory number in this mode", body = ErrorBody),
        (status = 409, description = "`number_unavailable` (already sold), `price_changed` (the costs sent are \
            not the current price; the message states it), or `conflict` (this Idempotency-Key is still in progress)",
            body = ErrorBody),
        (status = 422, description = "`idempotency_key_reused`: this Idempotency-Key was used with another body", body = ErrorBody),
        Refusals, BodyRefusals,
    )
)]
pub async fn purchase(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PurchaseBody>,
) -> Result<Response, ApiError> {
    let purchase = numbers::Purchase::parse(&body)?;
    let claim = idempotency_key(&headers)?.map(|key| Claim::new(key, &body)).transpose()?;
    Ok(super::created_once(numbers::purchase_once(&state.ctx, &tenant, &purchase, claim.as_ref()).await?))
}

/// A number with its SIP credentials.
#[utoipa::path(
    get, path = "/phone-numbers/{id}", operation_id = "get_phone_number", tag = "Phone numbers",
    params(("id" = uuid::Uuid, Path, description = "Phone number id"), TenancyHeaders),
    responses((status = 200, body = PhoneNumberDetails), NumberNotFound, Refusals)
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<PhoneNumberDetails>, ApiError> {
    Ok(Json(numbers::get(&state.ctx, &tenant, id).await?))
}

/// Change a number's settings.
#[utoipa::path(
    patch, path = "/phone-numbers/{id}", operation_id = "update_phone_number", tag = "Phone numbers",
    request_body = UpdateBody,
    params(("id" = uuid::Uuid, Path, description = "Phone number id"), TenancyHeaders),
    responses(
        (status = 200, body = PhoneNumber),
        (status = 404, description = "`not_found`: no such number in this organization and mode", body = ErrorBody),
        (status = 409, description = "`conflict`: the number was released", body = ErrorBody),
        Refusals, BodyRefusals,
    )
)]
pub async fn update(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Json<PhoneNumber>, ApiError> {
    let changes = numbers::NumberChanges::parse(&body)?;
    Ok(Json(numbers::update(&state.ctx, &tenant, id, &changes).await?))
}

/// Delete (no query) or release (`?action=release`) a number.
#[utoipa::path(
    delete, path = "/phone-numbers/{id}", operation_id = "delete_phone_number", tag = "Phone numbers",
    params(("id" = uuid::Uuid, Path, description = "Phone number id"), DeleteQuery, TenancyHeaders),
    responses(
        (status = 200, description = "Released (`action=release`): the record stays, inactive, with \
            `released_at`, and its SIP password is changed and withheld", body = PhoneNumber),
        (status = 204, description = "Deleted: the record is gone"),
        (status = 409, description = "`conflict`: the number is deletion-locked (`deletion_locked`); \
            unlock it with `PATCH {\"deletionLocked\": false}` first", body = ErrorBody),
        NumberNotFound, Refusals,
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Response, ApiError> {
    let action = query
        .action
        .as_deref()
        .map(|a| parse_enum::<DeleteAction>("action", a))
        .transpose()
        .map_err(|_| AppError::validation("action", "action must be release, or absent for a hard delete"))?;
    match action {
        None => {
            numbers::delete(&state.ctx, &tenant, id).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Some(DeleteAction::Release) => Ok(Json(numbers::release(&state.ctx, &tenant, id).await?).into_response()),
    }
}

/// A new SIP password for the number, in the answer; the old one stops working at the SIP
/// server (its cached credentials are dropped within 2 seconds).
#[utoipa::path(
    post, path = "/phone-numbers/{id}/sip-credentials/rotate", operation_id = "rotate_sip_credentials",
    tag = "Phone numbers",
    params(("id" = uuid::Uuid, Path, description = "Phone number id"), TenancyHeaders),
    responses(
        (status = 200, body = PhoneNumberDetails),
        (status = 409, description = "`conflict`: the number has been released", body = ErrorBody),
        NumberNotFound, Refusals,
    )
)]
pub async fn rotate_sip_credentials(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<PhoneNumberDetails>, ApiError> {
    Ok(Json(numbers::rotate_sip_password(&state.ctx, &tenant, id).await?))
}
