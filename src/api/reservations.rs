//! `/v1/number-reservations`: numbers held for the organization while it decides.

use super::error::ApiError;
use super::extract::{ApiJson, ApiQuery, Authenticated, IdPath};
use super::openapi::{BodyRefusals, Refusals, ReservationNotFound, ReservationPage, TenancyHeaders};
use crate::domain::parse::PageRequest;
use crate::domain::{CreateReservationBody, ErrorBody, Page, PageQuery, Reservation};
use crate::service::reservations::{self, Selection, SelectionFields, MAX_RESERVED};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// Hold numbers for this organization (`KROS_RESERVATION_MINUTES`, 15 by default): nobody else
/// can buy them until `expires_at`. All of them or none. Buy them with `POST /v1/phone-numbers`.
#[utoipa::path(
    post, path = "/number-reservations", operation_id = "create_reservation", tag = "Reservations",
    request_body = CreateReservationBody, params(TenancyHeaders),
    responses(
        (status = 201, body = Reservation),
        (status = 404, description = "`not_found`: an inventory id is not in this mode's inventory; nothing was reserved", body = ErrorBody),
        (status = 409, description = "`number_unavailable`: a number is sold or reserved by someone else, or too few match; nothing was reserved", body = ErrorBody),
        Refusals, BodyRefusals,
    )
)]
pub async fn create(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiJson(body): ApiJson<CreateReservationBody>,
) -> Result<(StatusCode, Json<Reservation>), ApiError> {
    let fields = SelectionFields {
        inventory_ids: body.inventory_ids.as_deref(),
        country: body.country.as_deref(),
        number_type: body.number_type.as_deref(),
        contains: body.contains.as_deref(),
        quantity: body.quantity,
    };
    let selection = Selection::parse(fields, MAX_RESERVED)?;
    Ok((StatusCode::CREATED, Json(reservations::create(&state.ctx, &tenant, &selection).await?)))
}

/// The organization's reservations in this mode, newest first (expired ones are kept a day).
#[utoipa::path(
    get, path = "/number-reservations", operation_id = "list_reservations", tag = "Reservations",
    params(PageQuery, TenancyHeaders),
    responses((status = 200, body = ReservationPage), Refusals)
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<Page<Reservation>>, ApiError> {
    let page = PageRequest::parse(query.limit.as_deref(), query.offset.as_deref())?;
    Ok(Json(reservations::list(&state.ctx, &tenant, page).await?))
}

/// One reservation, with where each of its numbers stands.
#[utoipa::path(
    get, path = "/number-reservations/{id}", operation_id = "get_reservation", tag = "Reservations",
    params(("id" = uuid::Uuid, Path, description = "Reservation id"), TenancyHeaders),
    responses((status = 200, body = Reservation), ReservationNotFound, Refusals)
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<Reservation>, ApiError> {
    Ok(Json(reservations::get(&state.ctx, &tenant, id).await?))
}

/// Release the holds early and remove the reservation: the numbers not bought are for sale to
/// anyone again.
#[utoipa::path(
    delete, path = "/number-reservations/{id}", operation_id = "release_reservation", tag = "Reservations",
    params(("id" = uuid::Uuid, Path, description = "Reservation id"), TenancyHeaders),
    responses((status = 204, description = "Released and removed"), ReservationNotFound, Refusals)
)]
pub async fn release(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    reservations::release(&state.ctx, &tenant, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
