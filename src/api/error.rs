//! The REST door's answer to a service error: the contract's status and `{error, request_id}`
//! body, `Retry-After` on a 429. Building it has no side effects: a server fault rides along in
//! the response's extensions and is logged once, by the server's middleware.

use crate::domain::parse::Invalid;
use crate::error::AppError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// A service error on its way out of the REST API (handlers and extractors answer with it; `?`
/// turns an [`AppError`] into one).
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(err: AppError) -> Self {
        ApiError(err)
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        ApiError(invalid.into())
    }
}

impl From<crate::storage::StorageError> for ApiError {
    fn from(err: crate::storage::StorageError) -> Self {
        ApiError(err.into())
    }
}

tokio::task_local! {
    /// The current request's id, so that an error body can carry it wherever it is built.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

/// A server fault behind a response, for the logging middleware (`server::log_server_faults`).
#[derive(Debug, Clone)]
pub struct ServerFault(pub std::sync::Arc<AppError>);

/// The contract's status for an error (the same on both doors).
pub fn status_of(err: &AppError) -> StatusCode {
    StatusCode::from_u16(err.code().http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// `Retry-After` for a refusal that says when to come back.
pub fn retry_after(err: &AppError) -> Option<HeaderValue> {
    match err {
        AppError::RateLimited { retry_after_secs } => Some(HeaderValue::from((*retry_after_secs).max(1))),
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(err) = self;
        let mut response = (status_of(&err), axum::Json(err.body(current_request_id()))).into_response();
        if let Some(wait) = retry_after(&err) {
            response.headers_mut().insert(header::RETRY_AFTER, wait);
        }
        if err.is_server_fault() {
            response.extensions_mut().insert(ServerFault(std::sync::Arc::new(err)));
        }
        response
    }
}
