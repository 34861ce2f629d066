//! The SIP door: the small HTTP API that only the SIP servers (Kamailio) call, beside the REST
//! API and the dashboard. It has a listener of its own (`KROS_SIP_DOOR_ADDR`, never the public
//! port) and a shared secret (`KROS_SIP_DOOR_SECRET`, HTTP Basic, compared in constant time): a
//! customer's key or session opens nothing here, and nothing under `/v1` is served here.
//!
//! Every answer to a well-formed question is `200` with a JSON body, refusals included: the SIP
//! server treats any other status, or no answer, as "the service is away" (SIP 503), which is
//! the one thing its config must never confuse with a decision. Answers hold no `null`
//! (Kamailio's JSON getter reads it as 0).

use crate::service::calls::{self, InboundDecision, SipAccount, Trunk};
use crate::service::Context;
use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The door's routes, behind its secret.
pub fn router(ctx: Context, secret: Arc<str>) -> Router {
    Router::new()
        .route("/sip/v1/credentials", get(credentials))
        .route("/sip/v1/inbound", get(inbound))
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(json!({"error": "no such question"}))) })
        .layer(middleware::from_fn(move |request, next| require_secret(secret.clone(), request, next)))
        .with_state(ctx)
}

/// HTTP Basic with the door's secret as the password (any user name: Kamailio's is `kamailio`).
async fn require_secret(secret: Arc<str>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Basic "))
        .and_then(|encoded| base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| pair.split_once(':').map(|(_, password)| password.to_string()));
    match presented {
        Some(password) if bool::from(password.as_bytes().ct_eq(secret.as_bytes())) => next.run(request).await,
        _ => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"kros-numbers SIP door\"")],
            Json(json!({"error": "the SIP door's secret is required"})),
        )
            .into_response(),
    }
}

/// A failure of the service itself (the database away): not a decision, so not a 200.
fn unavailable(err: crate::error::AppError) -> Response {
    err.log();
    (StatusCode::SERVICE_UNAVAILABLE, Json(json!({"error": err.public_message()}))).into_response()
}

#[derive(Debug, Deserialize)]
struct CredentialsQuery {
    username: String,
}

/// `GET /sip/v1/credentials?username=U`: `{"found": 1, "ha1", "number", "outbound": 0|1}`, or
/// `{"found": 0}` for a user whose credentials do not work.
async fn credentials(State(ctx): State<Context>, Query(query): Query<CredentialsQuery>) -> Response {
    match calls::sip_account(&ctx, &query.username).await {
        Ok(SipAccount::Usable { ha1, number, may_call_out }) => {
            Json(json!({"found": 1, "ha1": ha1, "number": number, "outbound": u8::from(may_call_out)})).into_response()
        }
        Ok(SipAccount::Refused) => Json(json!({"found": 0})).into_response(),
        Err(err) => unavailable(err),
    }
}

#[derive(Debug, Deserialize)]
struct InboundQuery {
    /// `live` or `test`: which carrier trunk the call came in on.
    trunk: String,
    /// The request URI (or its user part).
    to: String,
    /// The caller, as the From URI (for the log).
    #[serde(default)]
    from: String,
}

/// `GET /sip/v1/inbound?trunk=live&to=URI&from=URI`: `{"action": "route", "targets": [...],
/// "timeout_ms"}`, `{"action": "registered", "aor"}` or `{"action": "reject", "code", "reason"}`.
async fn inbound(State(ctx): State<Context>, Query(query): Query<InboundQuery>) -> Response {
    let trunk = match query.trunk.as_str() {
        "live" => Trunk::Live,
        "test" => Trunk::Test,
        _ => return (StatusCode::BAD_REQUEST, Json(json!({"error": "trunk is live or test"}))).into_response(),
    };
    let decision = match calls::inbound(&ctx, trunk, &query.to, &query.from).await {
        Ok(decision) => decision,
        Err(err) => return unavailable(err),
    };
    let answer: Value = match &decision {
        InboundDecision::Route { number, targets, timeout_ms } => {
            json!({"action": "route", "number": number, "targets": targets, "timeout_ms": timeout_ms})
        }
        InboundDecision::RegisteredDevices { number, aor } => {
            json!({"action": "registered", "number": number, "aor": aor})
        }
        InboundDecision::Reject { code, reason } => json!({"action": "reject", "code": code, "reason": reason}),
    };
    tracing::debug!(to = %query.to, from = %query.from, ?trunk, answer = %answer, "inbound call decided");
    Json(answer).into_response()
}
