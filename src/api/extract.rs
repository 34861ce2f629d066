//! Extractors that turn every malformed request into the API's JSON error.

use super::error::ApiError;
use crate::error::AppError;
use crate::service::auth::CredentialHeaders;
use crate::service::Tenant;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use uuid::Uuid;

/// The authenticated tenant of the request (API key or session JWT), rate limited per credential.
pub struct Authenticated(pub Tenant);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let headers = &parts.headers;
        let text = |name: &str| -> Result<Option<&str>, AppError> {
            headers
                .get(name)
                .map(|v| v.to_str().map_err(|_| AppError::validation(name, format!("{name} must be ASCII text"))))
                .transpose()
        };
        let credential = match headers.get(header::AUTHORIZATION) {
            Some(value) => {
                let value =
                    value.to_str().map_err(|_| AppError::Unauthorized("malformed Authorization header".into()))?;
                let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
                if !scheme.eq_ignore_ascii_case("bearer") {
                    return Err(AppError::Unauthorized("the Authorization scheme must be Bearer".into()).into());
                }
                Some(token)
            }
            None => headers
                .get("x-api-key")
                .map(|v| v.to_str().map_err(|_| AppError::Unauthorized("malformed x-api-key header".into())))
                .transpose()?,
        };
        let request =
            CredentialHeaders { credential, organization_id: text("x-organization-id")?, mode: text("x-kros-mode")? };
        let client = state.client_address(&parts.headers, &parts.extensions);
        Ok(Authenticated(state.authorize(&request, &client).await?))
    }
}

/// A JSON body: any malformed, mistyped or oversized body is a JSON error naming the field.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, state).await?;
        Ok(object_body(&bytes).map(ApiJson)?)
    }
}

/// A JSON body that may be left out: no body, only whitespace, or `null` is `T::default()`.
pub struct OptionalApiJson<T>(pub T);

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = read_body(req, state).await?;
        if bytes.trim_ascii().is_empty() || bytes.trim_ascii() == b"null" {
            return Ok(OptionalApiJson(T::default()));
        }
        Ok(object_body(&bytes).map(OptionalApiJson)?)
    }
}

/// The whole body, within the size limit.
async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge
        } else {
            AppError::Validation { message: format!("cannot read the request body: {rejection}"), field: None }
        }
    })
}

/// The body as `T`, if it is a JSON object: serde would also fill a struct from an array
/// (`["..."]`) or from nothing.
fn object_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(AppError::Validation { message: "the request body must be a JSON object".into(), field: None });
    }
    parse_json(bytes)
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let syntax = |inner: serde_json::Error| AppError::Validation {
        message: format!("the request body is not valid JSON: {inner}"),
        field: None,
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return syntax(inner);
        }
        let message = inner.to_string();
        AppError::Validation { field: field_of(&path, &message), message }
    })?;
    de.end().map_err(syntax)?;
    Ok(value)
}

/// The field an error is about: its path, or the name in "unknown field `x`".
fn field_of(path: &str, message: &str) -> Option<String> {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        return rest.split('`').next().map(str::to_string);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        return rest.split('`').next().map(str::to_string);
    }
    (path != "." && !path.is_empty()).then(|| path.to_string())
}

/// A query string parsed into `T`; unknown or repeated parameters are refused.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded::from_str(query).map(ApiQuery).map_err(|e| {
            let reason = e.to_string();
            let field = field_of("", &reason);
            let message = match reason.strip_prefix("unknown field `") {
                Some(rest) => format!("unknown query parameter `{rest}"),
                None => format!("invalid query: {reason}"),
            };
            AppError::Validation { field, message }.into()
        })
    }
}

/// The `{id}` of a number route: a malformed id is a 400, not a 404.
pub struct IdPath(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(raw) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| AppError::validation("id", "id must be a UUID"))?;
        Uuid::parse_str(&raw).map(IdPath).map_err(|_| AppError::validation("id", "id must be a UUID").into())
    }
}

/// The optional `Idempotency-Key` header.
pub fn idempotency_key(headers: &HeaderMap) -> Result<Option<&str>, AppError> {
    headers
        .get("idempotency-key")
        .map(|v| {
            v.to_str().map_err(|_| AppError::validation("Idempotency-Key", "Idempotency-Key must be printable ASCII"))
        })
        .transpose()
}
