//! What every response and every state-changing dashboard request gets, whichever door: the
//! browser-facing protections (cross-site request refusal, security headers, the page guard's
//! list of public paths) and the request id's rules.

use crate::api::error::ApiError;
use crate::client::PublicOrigin;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The paths a signed-out visitor may GET; every other dashboard path needs a session, so a new
/// page is private unless it is added here.
pub fn is_public_path(path: &str) -> bool {
    const PUBLIC_PAGES: [&str; 1] = ["/sign-in"];
    const PUBLIC_PREFIXES: [&str; 3] = ["/v1", "/api/", "/pkg/"];
    PUBLIC_PAGES.contains(&path)
        || PUBLIC_PREFIXES.iter().any(|prefix| path.starts_with(prefix))
        || matches!(path, "/healthz" | "/readyz" | "/favicon.svg" | "/favicon.ico")
}

/// Refuses a state-changing dashboard request (a server function, the sign-in form) that a
/// browser sent from another site: its `Origin` must be the dashboard's own, or, without one,
/// `Sec-Fetch-Site` must say same-origin. A request with neither is not from a browser, so it
/// carries no cookies it did not choose to send. The REST API is left alone: it reads
/// credentials only from headers a foreign page cannot set.
pub async fn refuse_cross_site_requests(
    State(public_origin): State<PublicOrigin>,
    request: Request,
    next: Next,
) -> Response {
    let safe_method = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe_method || request.uri().path().starts_with("/v1/") {
        return next.run(request).await;
    }
    let headers = request.headers();
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let same_site = match (text("origin"), text("sec-fetch-site")) {
        (Some(origin), _) => public_origin.admits(origin, headers),
        (None, Some(site)) => matches!(site, "same-origin" | "none"),
        (None, None) => true,
    };
    if !same_site {
        let refused =
            AppError::Forbidden("cross-site request refused: this form must be sent from the dashboard itself".into());
        return ApiError(refused).into_response();
    }
    next.run(request).await
}

/// Headers on every response: no MIME sniffing, no framing (the pages' CSP says
/// `frame-ancestors 'none'` too), referrers only to this site, no caching of anything but the
/// bundle's files (pages and API answers carry tenant data, some of it secret), and HSTS behind an
/// https public URL.
pub async fn security_headers(State(public_origin): State<PublicOrigin>, request: Request, next: Next) -> Response {
    let cacheable = request.uri().path().starts_with("/pkg/") || request.uri().path().starts_with("/favicon");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        headers.entry(name).or_insert(HeaderValue::from_static(value));
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'");
    if public_origin.is_https() {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if !cacheable {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The longest `x-request-id` a client may choose.
const MAX_REQUEST_ID_LEN: usize = 128;

/// A client's `x-request-id` is kept (and echoed) only if it is 1 to 128 visible ASCII
/// characters; otherwise it is dropped, and the server makes one.
pub async fn drop_unusable_request_id(mut request: Request, next: Next) -> Response {
    let usable = |v: &HeaderValue| {
        let bytes = v.as_bytes();
        (1..=MAX_REQUEST_ID_LEN).contains(&bytes.len()) && bytes.iter().all(|b| (0x21..=0x7e).contains(b))
    };
    if request.headers().get("x-request-id").is_some_and(|v| !usable(v)) {
        request.headers_mut().remove("x-request-id");
    }
    next.run(request).await
}

/// The page's Content-Security-Policy, set while a dashboard page renders: scripts from this
/// origin and the inline ones Leptos marks with this response's nonce (leptos_axum makes one per
/// page and puts it on the hydration, resource and streaming scripts), WebAssembly compilation,
/// styles from this origin, no plugins, no framing, forms only to this origin.
pub fn set_page_content_security_policy() {
    use leptos::prelude::{use_context, use_nonce};
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else { return };
    // `cargo leptos watch`: the reload script's WebSocket.
    let reload = if std::env::var("LEPTOS_WATCH").is_ok() { " ws:" } else { "" };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self'; connect-src 'self'{reload}; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The longest URL (path and query) a request may have.
pub const MAX_URI_BYTES: usize = 8 * 1024;
/// At most this many headers, of at most this many bytes in all (names and values).
pub const MAX_HEADERS: usize = 100;
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Refuses a request whose URL or headers are too large with the API's JSON error (414, 431),
/// before anything reads it. hyper's own limits are set above these (see `server::connections`),
/// so that it is this answer, with a body, that clients get.
pub async fn refuse_oversized_requests(request: Request, next: Next) -> Response {
    let uri_bytes = request.uri().path_and_query().map(|pq| pq.as_str().len()).unwrap_or(0);
    if uri_bytes > MAX_URI_BYTES {
        return ApiError(AppError::UriTooLong(MAX_URI_BYTES)).into_response();
    }
    let headers = request.headers();
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > MAX_HEADERS || header_bytes > MAX_HEADER_BYTES {
        return ApiError(AppError::HeadersTooLarge { count: MAX_HEADERS, bytes: MAX_HEADER_BYTES }).into_response();
    }
    next.run(request).await
}
