//! `/v1/events`: what happened to the organization's numbers, and sending an event again.

use super::error::ApiError;
use super::extract::{ApiQuery, Authenticated, IdPath, OptionalApiJson};
use super::openapi::{BodyRefusals, EventPage, Refusals, TenancyHeaders};
use crate::domain::{ErrorBody, Event, EventsQuery, Page, RedeliverBody, Redelivery};
use crate::service::{events, webhooks};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

/// The organization's events in this mode, newest first.
#[utoipa::path(
    get, path = "/events", operation_id = "list_events", tag = "Events",
    params(EventsQuery, TenancyHeaders),
    responses((status = 200, body = EventPage), Refusals)
)]
pub async fn list(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    ApiQuery(query): ApiQuery<EventsQuery>,
) -> Result<Json<Page<Event>>, ApiError> {
    let request = events::EventsRequest::parse(&query)?;
    Ok(Json(events::list(&state.ctx, &tenant, request).await?))
}

/// One event.
#[utoipa::path(
    get, path = "/events/{id}", operation_id = "get_event", tag = "Events",
    params(("id" = uuid::Uuid, Path, description = "Event id"), TenancyHeaders),
    responses(
        (status = 200, body = Event),
        (status = 404, description = "`not_found`: no such event in this organization and mode", body = ErrorBody),
        Refusals,
    )
)]
pub async fn get(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
) -> Result<Json<Event>, ApiError> {
    Ok(Json(events::get(&state.ctx, &tenant, id).await?))
}

/// Send an event again, now (its `webhook-id` stays the same).
#[utoipa::path(
    post, path = "/events/{id}/redeliver", operation_id = "redeliver_event", tag = "Events",
    request_body(content = Option<RedeliverBody>, description = "Optional: one endpoint to send it to"),
    params(("id" = uuid::Uuid, Path, description = "Event id"), TenancyHeaders),
    responses(
        (status = 202, description = "Due now for these endpoints; each attempt shows in its deliveries", body = Redelivery),
        (status = 404, description = "`not_found`: no such event, or webhook endpoint (`webhookEndpointId`), in \
            this organization and mode", body = ErrorBody),
        Refusals, BodyRefusals,
    )
)]
pub async fn redeliver(
    State(state): State<AppState>,
    Authenticated(tenant): Authenticated,
    IdPath(id): IdPath,
    OptionalApiJson(body): OptionalApiJson<RedeliverBody>,
) -> Result<(StatusCode, Json<Redelivery>), ApiError> {
    Ok((StatusCode::ACCEPTED, Json(webhooks::redeliver(&state.ctx, &tenant, id, &body).await?)))
}
