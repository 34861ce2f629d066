//! One error type for every operation of the service layer: what went wrong (a contract code,
//! a message, the field), with the causes of a failure kept for the log. It knows nothing of HTTP:
//! each door maps it once (`api::error::ApiError` for REST, `pages::errors::refused` for the
//! dashboard's server functions).

use kros_domain::parse::Invalid;
use kros_domain::{ErrorBody, ErrorCode, ErrorDetail};
use kros_storage::StorageError;

/// What caused an internal or availability error, kept for the log (never shown to clients).
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync + 'static>;

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
    #[error("{}", kros_domain::PAYLOAD_TOO_LARGE)]
    PayloadTooLarge,
    #[error("the URL is longer than {0} bytes")]
    UriTooLong(usize),
    #[error("the request's headers are too large (at most {count} headers, {bytes} bytes in all)")]
    HeadersTooLarge { count: usize, bytes: usize },
    #[error("this Idempotency-Key was already used with a different request")]
    IdempotencyKeyReused,
    #[error("too many requests; retry after {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database cannot serve now; the cause is logged.
    #[error("{message}")]
    Unavailable {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
    /// A bug or an unexpected state: logged in full, with its cause, answered without details.
    #[error("{message}")]
    Internal {
        message: String,
        #[source]
        cause: Option<Cause>,
    },
}

impl AppError {
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation { message: message.into(), field: Some(field.into()) }
    }
    pub fn not_found(what: &str) -> Self {
        AppError::NotFound(format!("{what} not found"))
    }
    pub fn internal(message: impl Into<String>) -> Self {
        AppError::Internal { message: message.into(), cause: None }
    }
    /// A refusal read back (the stored answer to an Idempotency-Key): the error its code names,
    /// with its message and field. A code that no refusal has is an internal error.
    pub fn refusal(detail: ErrorDetail) -> Self {
        let ErrorDetail { code, message, field } = detail;
        match code {
            ErrorCode::ValidationError => AppError::Validation { message, field },
            ErrorCode::Unauthorized => AppError::Unauthorized(message),
            ErrorCode::Forbidden => AppError::Forbidden(message),
            ErrorCode::NotFound => AppError::NotFound(message),
            ErrorCode::NumberUnavailable => AppError::NumberUnavailable(message),
            ErrorCode::PriceChanged => AppError::PriceChanged(message),
            ErrorCode::Conflict => AppError::Conflict(message),
            ErrorCode::IdempotencyKeyReused => AppError::IdempotencyKeyReused,
            other => AppError::internal(format!("a stored answer is not a refusal ({other}): {message}")),
        }
    }
    /// Bad configuration found at start-up (reported by the CLI, never over HTTP).
    pub fn config(message: impl Into<String>) -> Self {
        AppError::internal(message)
    }
    /// An internal error caused by `cause`, which the log shows.
    pub fn internal_caused_by(
        message: impl Into<String>,
        cause: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        AppError::Internal { message: message.into(), cause: Some(std::sync::Arc::new(cause)) }
    }

    /// The error and every cause below it, for the log: `a: b: c`.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// Errors the server must hear about (5xx): logged once, at the door that answers them.
    pub fn is_server_fault(&self) -> bool {
        matches!(self, AppError::Unavailable { .. } | AppError::Internal { .. })
    }

    /// Logs a server fault with its whole chain of causes (by the door that answers it).
    pub fn log(&self) {
        match self {
            AppError::Unavailable { .. } => {
                tracing::warn!(error = %self.chain(), code = self.code().as_str(), "database unavailable")
            }
            _ => tracing::error!(error = %self.chain(), code = self.code().as_str(), "internal error"),
        }
    }

    /// The contract's stable error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            AppError::Validation { .. } => ErrorCode::ValidationError,
            AppError::Unauthorized(_) => ErrorCode::Unauthorized,
            AppError::Forbidden(_) => ErrorCode::Forbidden,
            AppError::NotFound(_) => ErrorCode::NotFound,
            AppError::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            AppError::NumberUnavailable(_) => ErrorCode::NumberUnavailable,
            AppError::PriceChanged(_) => ErrorCode::PriceChanged,
            AppError::Conflict(_) => ErrorCode::Conflict,
            AppError::PayloadTooLarge => ErrorCode::PayloadTooLarge,
            AppError::UriTooLong(_) => ErrorCode::UriTooLong,
            AppError::HeadersTooLarge { .. } => ErrorCode::HeadersTooLarge,
            AppError::IdempotencyKeyReused => ErrorCode::IdempotencyKeyReused,
            AppError::RateLimited { .. } => ErrorCode::RateLimited,
            AppError::Unavailable { .. } => ErrorCode::Unavailable,
            AppError::Internal { .. } => ErrorCode::InternalError,
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
            AppError::Internal { .. } => "internal error; it has been logged".to_string(),
            other => other.to_string(),
        }
    }

    /// The `{code, message, field}` every door shows (and an Idempotency-Key answer stores).
    pub fn detail(&self) -> ErrorDetail {
        ErrorDetail { code: self.code(), message: self.public_message(), field: self.field().map(str::to_string) }
    }

    pub fn body(&self, request_id: Option<String>) -> ErrorBody {
        ErrorBody { error: self.detail(), request_id }
    }
}

impl From<Invalid> for AppError {
    fn from(invalid: Invalid) -> Self {
        AppError::Validation { message: invalid.message, field: Some(invalid.field) }
    }
}

impl From<StorageError> for AppError {
    fn from(err: StorageError) -> Self {
        match err {
            StorageError::Unavailable(_) => AppError::Unavailable {
                message: "the database is unavailable; retry shortly".into(),
                cause: Some(std::sync::Arc::new(err)),
            },
            other => AppError::internal_caused_by("database error", other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A refusal stored as `{code, message, field}` reads back as the same error.
    #[test]
    fn a_refusal_reads_back_as_the_same_error() {
        let refusals = [
            AppError::validation("endpoint_id", "no such endpoint"),
            AppError::Validation { message: "no field".into(), field: None },
            AppError::Unauthorized("bad key".into()),
            AppError::Forbidden("not a member".into()),
            AppError::not_found("inventory number"),
            AppError::NumberUnavailable("+14155550101 has already been sold".into()),
            AppError::PriceChanged("the price moved".into()),
            AppError::Conflict("busy".into()),
            AppError::IdempotencyKeyReused,
        ];
        for err in refusals {
            let again = AppError::refusal(err.detail());
            assert_eq!(again.body(None), err.body(None));
        }
        let not_a_refusal = ErrorDetail { code: ErrorCode::Unavailable, message: "m".into(), field: None };
        assert_eq!(AppError::refusal(not_a_refusal).code(), ErrorCode::InternalError);
    }
}
