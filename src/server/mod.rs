//! The HTTP server: building the state, the router with both doors (REST and dashboard), and serving with
//! graceful shutdown ([`connections`]: the accept loop, its timeouts and its cap).

pub mod connections;
mod protocol_errors;
pub mod security;

use crate::api;
use crate::api::error::{ApiError, ServerFault, REQUEST_ID};
use crate::app::{shell, App};
use crate::client::PublicOrigin;
use crate::error::AppError;
use crate::pages::session::server as session;
use crate::rate_limit::{FailureThrottle, RateLimit};
use crate::service::auth::{Auth, AuthSettings};
use crate::service::calls::decision_log::DecisionLog;
use crate::service::calls::sip_servers::SipServers;
use crate::service::calls::CallSettings;
use crate::service::reservations::{self, ReservationSettings};
use crate::service::secrets::{SecretCipher, SecretSettings};
use crate::service::webhooks::{self, WebhookSettings};
use crate::service::{settings, Context};
pub use crate::state::AppState;
use crate::state::{Shared, SignInThrottle};
use crate::storage::{self, IfMissing, PoolSettings};
use axum::extract::{Request, State};
use axum::http::{HeaderName, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Everything the server needs to start, from flags or the environment.
#[derive(Clone)]
pub struct ServerSettings {
    pub database_url: String,
    pub pool: PoolSettings,
    pub service: ServiceSettings,
    pub auth: AuthSettings,
    /// Requests per second per credential; 0 disables rate limiting.
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// Where the built dashboard (`pkg/`, assets) is served from.
    pub site_root: String,
    pub site_addr: SocketAddr,
    /// `serve` refuses a SQLite database that does not exist (see [`IfMissing`]).
    pub if_missing: IfMissing,
    pub throttle: ThrottleSettings,
    pub connections: connections::ConnectionLimits,
    pub secrets: SecretSettings,
    /// `KROS_PUBLIC_URL`: where browsers reach the dashboard (the origin its forms must come
    /// from; https makes the cookies `Secure`).
    pub public_url: Option<String>,
    /// The SIP door, if the SIP servers are to be answered (see [`crate::sip_door`]).
    pub sip_door: Option<SipDoorSettings>,
}

/// Where the SIP door listens, and its shared secret.
#[derive(Clone)]
pub struct SipDoorSettings {
    pub addr: SocketAddr,
    pub secret: std::sync::Arc<str>,
}

/// What the service's operations read besides the database (see `service::Context`).
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// The domain of SIP URIs and credentials, and the digest realm (`KROS_SIP_DOMAIN`).
    pub sip_domain: String,
    pub webhooks: WebhookSettings,
    pub reservations: ReservationSettings,
    pub calls: CallSettings,
}

/// How many failed authentications are allowed before a key is refused for a while (0 disables
/// each); see [`FailureThrottle`].
#[derive(Debug, Clone, Default)]
pub struct ThrottleSettings {
    /// Failed sign-ins per account (email), per 15 minutes.
    pub sign_in_failures_per_account: u32,
    /// Failed sign-ins per client address, per 15 minutes.
    pub sign_in_failures_per_address: u32,
    /// Failed API-key or token authentications per client address, per minute.
    pub auth_failures_per_address: u32,
    /// `KROS_CLIENT_IP_HEADER`: the header a trusted proxy puts the client's address in.
    pub client_ip_header: Option<String>,
}

const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);
const AUTH_WINDOW: Duration = Duration::from_secs(60);

/// Opens the database (applying migrations) and loads the installation's secrets.
pub async fn context(
    database_url: &str,
    pool: &PoolSettings,
    if_missing: IfMissing,
    secrets: &SecretSettings,
    settings: &ServiceSettings,
) -> Result<Context, AppError> {
    let store = storage::open(database_url, pool, if_missing)
        .await
        .map_err(|e| AppError::internal_caused_by("cannot open the database", e))?;
    // Made by the first command that opens the database (`migrate` at the latest), so that a
    // server whose database is read-only still starts. The database's pepper and SIP key are the
    // fallbacks when none is configured, and what older rows were made with.
    let stored_pepper = settings::secret(store.as_ref(), "api_key_pepper").await?;
    let session_secret = settings::secret(store.as_ref(), "session_secret").await?;
    let stored_sip_key =
        settings::value_or_insert(store.as_ref(), "sip_encryption_key", &SecretCipher::generate_key()).await?;
    let (api_key_pepper, legacy_api_key_pepper) = match &secrets.api_key_pepper {
        Some(pepper) if *pepper != stored_pepper => (pepper.clone(), Some(stored_pepper)),
        Some(pepper) => (pepper.clone(), None),
        None => (stored_pepper, None),
    };
    let secret_cipher = match &secrets.sip_encryption_key {
        Some(key) => SecretCipher::new(key, &[secrets.sip_old_keys.clone(), vec![stored_sip_key]].concat())?,
        None => SecretCipher::new(&stored_sip_key, &secrets.sip_old_keys)?,
    };
    let call_log = DecisionLog::start(store.clone());
    let ctx = Context {
        store,
        sip_domain: settings.sip_domain.clone(),
        api_key_pepper,
        legacy_api_key_pepper,
        session_secret,
        secret_cipher: std::sync::Arc::new(secret_cipher),
        webhooks: std::sync::Arc::new(settings.webhooks.clone()),
        reservations: settings.reservations,
        calls: std::sync::Arc::new(settings.calls.clone()),
        sip_servers: SipServers::new(settings.calls.sip_servers.clone(), settings.calls.credentials_ttl),
        call_log,
    };
    crate::service::phone_numbers::seal_stored_sip_passwords(&ctx).await;
    webhooks::seal_stored_secrets(&ctx).await;
    Ok(ctx)
}

/// Says at start which secrets live in the database they protect (the embedded default).
fn warn_about_stored_secrets(secrets: &SecretSettings) {
    if secrets.api_key_pepper.is_none() {
        tracing::warn!("KROS_API_KEY_PEPPER is not set: API-key hashes are keyed with a pepper kept in the database");
    }
    if secrets.sip_encryption_key.is_none() {
        tracing::warn!(
            "KROS_SIP_ENCRYPTION_KEY is not set: SIP passwords are encrypted with a key kept in the database"
        );
    }
}

pub async fn state(settings: &ServerSettings) -> Result<AppState, AppError> {
    warn_about_stored_secrets(&settings.secrets);
    let ctx =
        context(&settings.database_url, &settings.pool, settings.if_missing, &settings.secrets, &settings.service)
            .await?;
    let auth = Auth::new(&ctx, &settings.auth);
    let public_origin = PublicOrigin::parse(settings.public_url.as_deref())?;
    let throttle = &settings.throttle;
    let client_ip_header = match throttle.client_ip_header.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
        Some(name) => Some(
            HeaderName::try_from(name)
                .map_err(|_| AppError::config(format!("KROS_CLIENT_IP_HEADER is not a header name: {name:?}")))?,
        ),
        None => None,
    };
    let leptos_options = LeptosOptions::builder()
        .output_name("kros-numbers")
        .site_root(settings.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(settings.site_addr)
        .env(if std::env::var("LEPTOS_ENV").is_ok_and(|e| e.eq_ignore_ascii_case("DEV")) {
            leptos::config::Env::DEV
        } else {
            leptos::config::Env::PROD
        })
        .build();
    Ok(AppState::new(Shared {
        ctx,
        auth,
        rate_limit: RateLimit::new(settings.rate_limit_per_second, settings.rate_limit_burst),
        leptos_options,
        public_origin,
        sign_in_failures: SignInThrottle {
            per_account: FailureThrottle::new(throttle.sign_in_failures_per_account, SIGN_IN_WINDOW),
            per_address: FailureThrottle::new(throttle.sign_in_failures_per_address, SIGN_IN_WINDOW),
        },
        auth_failures: FailureThrottle::new(throttle.auth_failures_per_address, AUTH_WINDOW),
        client_ip_header,
    }))
}

/// The dashboard's routes, worked out once per process. Leptos works them out by running the app
/// with resource loading suppressed process-wide, and a page that starts loading its data in
/// another thread meanwhile waits forever (leptos-rs/leptos#4773): with one list per process,
/// no server exists yet while it is made (the test suites start many servers in one process).
pub fn dashboard_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

/// The whole application: `/v1` (REST), health checks, and the dashboard.
pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let routes = dashboard_routes();
    let leptos_options = state.leptos_options.clone();
    let context = state.clone();
    let fallback_context = state.clone();
    Router::new()
        .nest("/v1", api::router())
        // `nest` does not route the bare `/v1/`; keep it inside the API's JSON 404.
        .route("/v1/", axum::routing::any(api::unknown_route))
        .merge(api::health_router())
        .leptos_routes_with_context(
            &state,
            routes,
            // Server functions reach the service layer through this context.
            move || {
                provide_context(context.clone());
                security::set_page_content_security_policy();
            },
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            move || {
                provide_context(fallback_context.clone());
                security::set_page_content_security_policy();
            },
            shell,
        ))
        // The dashboard's requests are as small as the REST API's.
        .layer(axum::extract::DefaultBodyLimit::max(api::MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(state.clone(), require_session))
        // Before the session is checked: a Supabase access token near expiry is refreshed first.
        .layer(middleware::from_fn_with_state(state.clone(), session::refresh_supabase_session))
        .layer(middleware::from_fn_with_state(state.public_origin.clone(), security::refuse_cross_site_requests))
        .layer(middleware::from_fn_with_state(state.public_origin.clone(), security::security_headers))
        .layer(middleware::from_fn(server_fn_error_status))
        .with_state(state)
        // Layers run bottom-up: the request id is set first, so every later layer sees it.
        .layer(CatchPanicLayer::custom(|_| ApiError(AppError::internal("a handler panicked")).into_response()))
        .layer(middleware::from_fn(log_server_faults))
        // Before anything reads the request, but with a request id for the error's body.
        .layer(middleware::from_fn(security::refuse_oversized_requests))
        .layer(middleware::from_fn(scope_request_id))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .layer(middleware::from_fn(security::drop_unusable_request_id))
}

/// Every dashboard page needs a signed-in user unless it is declared public
/// ([`security::is_public_path`]): without a live session, go to sign-in (and come back
/// afterwards). A page request is authorized here, once, and its server functions share the
/// outcome ([`session::PageTenant`]); server functions called on their own authorize themselves.
async fn require_session(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if request.method() == Method::GET && !security::is_public_path(path) {
        let client = state.client_address(request.headers(), request.extensions());
        let outcome = session::authorize(&state, request.headers(), &client, None, None).await;
        // Only a refused session means signed out; any other refusal (a database that cannot
        // answer now, a throttle) is the page's error to show.
        if let Err(AppError::Unauthorized(_)) = outcome {
            let back = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            let query = serde_urlencoded::to_string([("next", back)]).unwrap_or_default();
            return Redirect::to(&format!("/sign-in?{query}")).into_response();
        }
        request.extensions_mut().insert(session::PageTenant(outcome));
    }
    next.run(request).await
}

/// A server function's error answers with its code's status, as the REST API does (server
/// functions answer every error with a 500 of their own): the dashboard door's one mapping of
/// codes to statuses. The body is the `{code, message, field}` the function answered.
async fn server_fn_error_status(request: Request, next: Next) -> Response {
    use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;
    let response = next.run(request).await;
    if !response.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, api::MAX_BODY_BYTES).await else {
        return ApiError(AppError::internal("a server function's error is too large to answer")).into_response();
    };
    if let Ok(detail) = serde_json::from_slice::<crate::domain::ErrorDetail>(&bytes) {
        parts.status = axum::http::StatusCode::from_u16(detail.code.http_status()).unwrap_or(parts.status);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Logs each 5xx that an `AppError` answered, once, with its chain of causes (inside the request's
/// span, so the line carries the request id).
async fn log_server_faults(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(ServerFault(err)) = response.extensions().get::<ServerFault>() {
        err.log();
    }
    response
}

/// Makes the request id available to error bodies built anywhere below.
async fn scope_request_id(request: Request, next: Next) -> Response {
    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    REQUEST_ID.scope(id, next.run(request)).await
}

/// Serves until SIGTERM or ctrl-c, then lets in-flight requests finish.
pub async fn serve(settings: ServerSettings) -> Result<(), AppError> {
    let state = state(&settings).await?;
    // Delivers the outbox's webhooks, and clears expired holds, beside the requests.
    webhooks::delivery::spawn(state.ctx.clone())?;
    reservations::spawn_housekeeping(state.ctx.clone());
    let counters = state.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            counters.forget_idle();
        }
    });
    let listener = tokio::net::TcpListener::bind(settings.site_addr)
        .await
        .map_err(|e| AppError::config(format!("cannot listen on {}: {e}", settings.site_addr)))?;
    let addr =
        listener.local_addr().map_err(|e| AppError::internal_caused_by("the listening address is unknown", e))?;
    tracing::info!(%addr, "listening");
    println!("Kros Numbers is serving on http://{addr}");
    if let Some(door) = &settings.sip_door {
        let listener = tokio::net::TcpListener::bind(door.addr)
            .await
            .map_err(|e| AppError::config(format!("cannot listen on {} (the SIP door): {e}", door.addr)))?;
        tracing::info!(addr = %door.addr, "the SIP door is listening");
        let door = crate::sip_door::router(state.ctx.clone(), door.secret.clone());
        tokio::spawn(connections::serve(listener, door, settings.connections.clone(), shutdown_signal()));
    }
    connections::serve(listener, router(state), settings.connections.clone(), shutdown_signal()).await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: finishing in-flight requests");
}
