//! One error type for every operation, mapped to HTTP in exactly one place.

use crate::domain::{ErrorBody, ErrorDetail};
use crate::domain::parse::Invalid;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    Validation { message: String, field: Option<String> },
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("{0}")]
    NumberUnavailable(String),
    #[error("{0}")]
    PriceChanged(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("{0}")]
    Unavailable(String),
    /// A bug or an unexpected state: logged in full, answered without details.
    #[error("{0}")]
    Internal(String),
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation { message: message.into(), field: Some(field.into()) }
    }
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }
    /// Bad configuration found at start-up (reported by the CLI, never over HTTP).
    pub fn config(message: impl Into<String>) -> Self {
        AppError::Internal(message.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::NumberUnavailable(_) | AppError::PriceChanged(_) | AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The contract's stable error code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation { .. } => "validation_error",
            AppError::Unauthorized(_) => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::MethodNotAllowed => "method_not_allowed",
            AppError::NumberUnavailable(_) => "number_unavailable",
            AppError::PriceChanged(_) => "price_changed",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::IdempotencyKeyReused => "idempotency_key_reused",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Validation { field, .. } => field.as_deref(),
            _ => None,
        }
    }

    /// What the client is told. Internal details stay in the log.
    pub fn public_message(&self) -> String {
        match self {
            AppError::Internal(_) => "internal error; it has been logged".to_string(),
            other => other.to_string(),
        }
    }

    pub fn body(&self, request_id: Option<String>) -> ErrorBody {
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_string(),
                message: self.public_message(),
                field: self.field().map(str::to_string),
            },
            request_id,
        }
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        AppError::Validation { message: invalid.message, field: Some(invalid.field) }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &err {
            E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
                AppError::Unavailable("the database is unavailable; retry shortly".into())
            }
            E::Database(db) if is_transient(db.code().as_deref()) => {
                AppError::Unavailable("the database is busy or unavailable; retry shortly".into())
            }
            _ => AppError::Internal(format!("database error: {err}")),
        }
    }
}

/// SQLite busy/locked, PostgreSQL connection loss, shutdown, overload and serialization failures.
fn is_transient(code: Option<&str>) -> bool {
    match code {
        Some("5" | "6" | "261" | "517") => true, // SQLITE_BUSY, SQLITE_LOCKED and extended codes
        Some(c) if c.starts_with("08") => true, // connection exception
        Some("57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01") => true,
        _ => false,
    }
}

tokio::task_local! {
    /// The current request's id, so that an error body can carry it wherever it is built.
    pub static REQUEST_ID: String;
}

pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.clone()).ok()
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(detail) = &self {
            tracing::error!(error = %detail, "internal error");
        }
        let mut response = (status, axum::Json(self.body(current_request_id()))).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1)));
        }
        response
    }
}

/// How the dashboard's server functions report an `AppError`: the same code and message, and
/// the same HTTP status as the REST API (server functions would otherwise answer every error
/// with a 500).
impl From<AppError> for ErrorDetail {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(detail) = &err {
            tracing::error!(error = %detail, "internal error");
        }
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(err.status());
        }
        ErrorDetail { code: err.code().to_string(), message: err.public_message(), field: err.field().map(str::to_string) }
    }
}

impl From<Invalid> for ErrorDetail {
    fn from(invalid: Invalid) -> Self {
        AppError::from(invalid).into()
    }
}
