//! The REST door: `/v1/...` for API-key clients, plus `/healthz` and `/readyz`.

mod endpoints;
pub mod error;
mod events;
pub mod extract;
pub mod openapi;
mod orders;
mod phone_numbers;
mod reservations;
mod webhooks;

use crate::error::AppError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use error::ApiError;
use utoipa_axum::{router::OpenApiRouter, routes};

/// Request bodies larger than this are refused with 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The `/v1` routes with their OpenAPI entries, from one list: utoipa-axum routes each handler
/// by the path and method its `#[utoipa::path]` documents.
pub fn v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(phone_numbers::list, phone_numbers::purchase))
        .routes(routes!(phone_numbers::get, phone_numbers::update, phone_numbers::delete))
        .routes(routes!(phone_numbers::rotate_sip_credentials))
        .routes(routes!(endpoints::list, endpoints::create))
        .routes(routes!(endpoints::get, endpoints::update, endpoints::delete))
        .routes(routes!(orders::list, orders::create))
        .routes(routes!(orders::get))
        .routes(routes!(reservations::list, reservations::create))
        .routes(routes!(reservations::get, reservations::release))
        .routes(routes!(events::list))
        .routes(routes!(events::get))
        .routes(routes!(events::redeliver))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
}

/// The `/v1` routes and the document that describes them. Unknown paths and wrong methods
/// answer the API's JSON error too.
pub fn router() -> Router<AppState> {
    let (routes, v1_document) = v1().split_for_parts();
    // Serialized once: the document is the same for every request.
    let document = openapi::document(v1_document).to_pretty_json().expect("the document serializes");
    let document = axum::body::Bytes::from(document);
    routes
        .route(
            "/openapi.json",
            get(move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document.clone()) }),
        )
        .fallback(unknown_route)
        .method_not_allowed_fallback(|| async { ApiError(AppError::MethodNotAllowed) })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// A 201 of work done at most once per Idempotency-Key: a replay is rendered as a fresh answer
/// is (a refusal with this request's id) and marked `idempotent-replayed: true`.
fn created_once<T: serde::Serialize>(outcome: crate::service::idempotency::Outcome<T>) -> axum::response::Response {
    use crate::service::idempotency::Outcome;
    let created = |done: T| (axum::http::StatusCode::CREATED, Json(done)).into_response();
    match outcome {
        Outcome::Done(done) => created(done),
        Outcome::Replayed(answer) => {
            let mut response = match answer {
                Ok(done) => created(done),
                Err(refusal) => ApiError(refusal).into_response(),
            };
            response.headers_mut().insert("idempotent-replayed", axum::http::HeaderValue::from_static("true"));
            response
        }
    }
}

/// The answer to a path under `/v1` that names no route.
pub async fn unknown_route() -> ApiError {
    ApiError(AppError::NotFound("no such API route; see /v1/openapi.json".into()))
}

/// Liveness and readiness, outside `/v1`.
pub fn health_router() -> Router<AppState> {
    Router::new().route("/healthz", get(|| async { Json(serde_json::json!({"status": "ok"})) })).route(
        "/readyz",
        // Ready means a write goes through now: a database that answers reads but cannot write
        // (disk full, read-only, its file removed) is not ready.
        get(|State(state): State<AppState>| async move {
            match state.ctx.store.probe_write().await {
                Ok(()) => Json(serde_json::json!({"status": "ready"})).into_response(),
                Err(e) => ApiError::from(e).into_response(),
            }
        }),
    )
}
