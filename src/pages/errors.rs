//! The dashboard door's answer to a service error: a server function's body works with
//! [`AppError`] (its `?` has no side effects) and maps the outcome once, at its end, with
//! [`refused`]: the same `{code, message, field}` as the REST API, a server fault logged with its
//! causes. The response's status comes from the code, for every server function's error, in one
//! place (`server::server_fn_error_status`).

#[cfg(feature = "ssr")]
pub use server::*;

#[cfg(feature = "ssr")]
mod server {
    use crate::api::error::retry_after;
    use crate::domain::ErrorDetail;
    use crate::error::AppError;
    use axum::http::header;

    /// A server function's error as the page (or any other caller) gets it.
    pub fn refused(err: AppError) -> ErrorDetail {
        if err.is_server_fault() {
            err.log();
        }
        if let (Some(response), Some(wait)) =
            (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), retry_after(&err))
        {
            response.insert_header(header::RETRY_AFTER, wait);
        }
        err.detail()
    }

    /// Runs a server function's body, whose errors are the service's, and answers as [`refused`]
    /// says.
    pub async fn answered<T>(body: impl std::future::Future<Output = Result<T, AppError>>) -> Result<T, ErrorDetail> {
        body.await.map_err(refused)
    }
}
