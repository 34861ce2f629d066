//! The REST door: `/v1/...` for API-key clients, plus `/healthz` and `/readyz`.

mod endpoints;
pub mod extract;
pub mod openapi;
mod phone_numbers;

use crate::error::AppError;
use crate::server::AppState;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

/// Request bodies larger than this are refused with 413 `payload_too_large`.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The `/v1` routes. Unknown paths and wrong methods answer the API's JSON error too.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/phone-numbers", get(phone_numbers::list).post(phone_numbers::purchase))
        .route(
            "/phone-numbers/{id}",
            get(phone_numbers::get).patch(phone_numbers::update).delete(phone_numbers::delete),
        )
        .route("/endpoints", get(endpoints::list).post(endpoints::create))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .fallback(unknown_route)
        .method_not_allowed_fallback(|| async { AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// The answer to a path under `/v1` that names no route.
pub async fn unknown_route() -> AppError {
    AppError::NotFound("no such API route; see /v1/openapi.json".into())
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
                Err(e) => AppError::from(e).into_response(),
            }
        }),
    )
}
