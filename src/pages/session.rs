//! Signing in and out, and which organization and mode the dashboard shows.
//!
//! The session is a token in an HttpOnly, SameSite=Lax cookie, checked by the same
//! `service::auth::authenticate` as the REST API's Bearer tokens: a built-in session's token
//! (which signing out revokes), or, when the dashboard signs in through a Supabase project, the
//! project's access token, with its refresh token in a second cookie (refreshed before expiry by
//! [`server::refresh_supabase_session`]). The organization and mode choices are cookies too.

use crate::domain::{ErrorDetail, Mode};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OrganizationChoice {
    pub id: Uuid,
    pub name: String,
}

/// Who is signed in and what they are looking at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub organizations: Vec<OrganizationChoice>,
    pub organization_id: Uuid,
    pub mode: Mode,
}

#[server]
pub async fn get_session() -> Result<SessionInfo, ErrorDetail> {
    super::errors::answered(async move {
        let (_, signed_in) = server::signed_in().await?;
        let organizations = signed_in
            .account
            .organizations
            .into_iter()
            .map(|o| OrganizationChoice { id: o.id, name: o.name })
            .collect();
        Ok(SessionInfo {
            email: signed_in.account.email,
            organizations,
            organization_id: signed_in.tenant.organization_id,
            mode: signed_in.tenant.mode,
        })
    })
    .await
}

/// The sign-in form's handler. It always answers with a redirect: to `next` (same-site paths
/// only) once signed in, or back to the sign-in page with `failed=1` (the same whether or not
/// the email exists), `failed=unavailable` (the Supabase project cannot be reached) or
/// `failed=no-access` (the account is not a member of any organization here).
#[server]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), ErrorDetail> {
    super::errors::answered(async move {
        let state = server::state();
        let next = server::safe_next(next.as_deref());
        let client = server::client_address().await;
        let account = email.trim().to_lowercase();
        let back = |query: &[(&str, &str)]| {
            let query = serde_urlencoded::to_string([&[("next", next.as_str())], query].concat()).unwrap_or_default();
            leptos_axum::redirect(&format!("/sign-in?{query}"));
        };
        if let Some(wait) = server::sign_in_refused_for(&state, &account, &client) {
            server::set_retry_after(wait);
            back(&[("failed", "throttled"), ("retry", &wait.to_string())]);
            return Ok(());
        }
        let outcome = match &state.auth.supabase {
            Some(project) => server::sign_in_through_supabase(&state, project, &email, &password).await?,
            None => server::sign_in_builtin(&state, &email, &password).await?,
        };
        match outcome {
            Ok(()) => leptos_axum::redirect(&next),
            Err(failed) => {
                if failed == "1" {
                    server::sign_in_failed(&state, &account, &client);
                }
                back(&[("failed", failed)]);
            }
        }
        Ok(())
    })
    .await
}

/// Ends the session (here, and at the Supabase project for its sessions) and clears the cookies.
#[server]
pub async fn sign_out() -> Result<(), ErrorDetail> {
    super::errors::answered(async move {
        server::end_session().await?;
        for name in [server::SESSION_COOKIE, server::REFRESH_COOKIE, server::ORG_COOKIE, server::MODE_COOKIE] {
            server::set_cookie(name, "", 0);
        }
        leptos_axum::redirect("/sign-in");
        Ok(())
    })
    .await
}

#[server]
pub async fn switch_organization(organization_id: String) -> Result<(), ErrorDetail> {
    super::errors::answered(async move {
        // Checked like the REST API's x-organization-id: a non-member organization is refused.
        server::tenant_for(Some(&organization_id), None).await?;
        server::set_cookie(server::ORG_COOKIE, organization_id.trim(), server::SESSION_SECS);
        server::redirect_back().await;
        Ok(())
    })
    .await
}

#[server]
pub async fn switch_mode(mode: String) -> Result<(), ErrorDetail> {
    super::errors::answered(async move {
        server::tenant_for(None, Some(&mode)).await?;
        server::set_cookie(server::MODE_COOKIE, mode.trim(), server::SESSION_SECS);
        server::redirect_back().await;
        Ok(())
    })
    .await
}

/// Server-side helpers for every dashboard server function.
#[cfg(feature = "ssr")]
pub mod server {
    use crate::error::AppError;
    use crate::service::auth::supabase::{AuthApiError, SupabaseAuthClient};
    use crate::service::auth::{self, sessions, CredentialHeaders, Issuer, SignedIn};
    use crate::service::{organizations, Tenant};
    use crate::state::AppState;
    use axum::extract::{Request, State};
    use axum::http::{header, request::Parts, HeaderMap, HeaderValue};
    use axum::middleware::Next;
    use axum::response::Response;
    use leptos::prelude::*;

    pub const SESSION_COOKIE: &str = "kros_session";
    /// The Supabase refresh token, when the dashboard signs in through a project.
    pub const REFRESH_COOKIE: &str = "kros_refresh";
    pub const ORG_COOKIE: &str = "kros_org";
    pub const MODE_COOKIE: &str = "kros_mode";
    /// The cookies live as long as a built-in session (a Supabase one is refreshed meanwhile).
    pub const SESSION_SECS: i64 = sessions::SESSION_SECS;

    /// Why a sign-in failed, as the sign-in page's `failed=` shows it.
    pub type SignInOutcome = Result<(), &'static str>;

    /// The request's client address (see `client::client_address`).
    pub async fn client_address() -> String {
        let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        let extensions: axum::http::Extensions = leptos_axum::extract().await.unwrap_or_default();
        state().client_address(&headers, &extensions)
    }

    /// Refuses a sign-in while the account or the client address has too many recent failures;
    /// the wait, in seconds, when it does. Existing sessions are not affected.
    pub fn sign_in_refused_for(state: &AppState, account: &str, client: &str) -> Option<u64> {
        let failures = &state.sign_in_failures;
        let refused = failures.per_account.check(account).and_then(|()| failures.per_address.check(client));
        match refused {
            Err(AppError::RateLimited { retry_after_secs }) => Some(retry_after_secs.max(1)),
            _ => None,
        }
    }

    /// Counts a failed sign-in against the account and the client address.
    pub fn sign_in_failed(state: &AppState, account: &str, client: &str) {
        state.sign_in_failures.per_account.failed(account);
        state.sign_in_failures.per_address.failed(client);
    }

    pub async fn sign_in_builtin(state: &AppState, email: &str, password: &str) -> Result<SignInOutcome, AppError> {
        let Some(user_id) = organizations::verify_login(&state.ctx, email, password).await? else {
            return Ok(Err("1"));
        };
        let token = sessions::start(&state.ctx, &state.auth, user_id, email.trim()).await?;
        set_cookie(SESSION_COOKIE, &token, SESSION_SECS);
        Ok(Ok(()))
    }

    /// The password grant at the project; the user must be a member of an organization here.
    pub async fn sign_in_through_supabase(
        state: &AppState,
        project: &SupabaseAuthClient,
        email: &str,
        password: &str,
    ) -> Result<SignInOutcome, AppError> {
        let session = match project.sign_in_with_password(email.trim(), password).await {
            Ok(session) => session,
            Err(AuthApiError::Refused(_)) => return Ok(Err("1")),
            Err(err @ AuthApiError::Unavailable(_)) => {
                tracing::warn!("sign-in through Supabase failed: {err}");
                return Ok(Err("unavailable"));
            }
        };
        let request = CredentialHeaders { credential: Some(&session.access_token), ..Default::default() };
        match auth::authenticate(&state.ctx, &state.auth, &request).await {
            Ok(_) => {}
            Err(AppError::Unauthorized(_) | AppError::Forbidden(_)) => {
                // Not a user of any organization here: leave no session open at the project.
                let _ = project.sign_out(&session.access_token).await;
                return Ok(Err("no-access"));
            }
            Err(other) => return Err(other),
        }
        set_cookie(SESSION_COOKIE, &session.access_token, SESSION_SECS);
        set_cookie(REFRESH_COOKIE, &session.refresh_token, SESSION_SECS);
        Ok(Ok(()))
    }

    /// Revokes the request's session (and signs it out at the project, for a Supabase one). A
    /// token that does not verify has nothing left to end.
    pub async fn end_session() -> Result<(), AppError> {
        let state = state();
        let headers: HeaderMap = leptos_axum::extract()
            .await
            .map_err(|e| AppError::internal_caused_by("the request's headers are unreadable", e))?;
        let Some(token) = cookie(&headers, SESSION_COOKIE) else { return Ok(()) };
        let Ok(verified) = state.auth.verify(token).await else { return Ok(()) };
        sessions::end(&state.ctx, &verified).await?;
        if let (Issuer::Supabase, Some(project)) = (verified.issuer, &state.auth.supabase) {
            if let Err(err) = project.sign_out(token).await {
                tracing::warn!("signing out at the Supabase project failed (the session is revoked here): {err}");
            }
        }
        Ok(())
    }

    /// Middleware for the dashboard's requests when it signs in through Supabase: an access token
    /// near its expiry (or gone) is refreshed with the refresh cookie before the request goes on,
    /// and the new tokens are set on the response. A refresh token the project refuses (signed
    /// out elsewhere, reused) ends the dashboard session.
    pub async fn refresh_supabase_session(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
        let Some(project) = &state.auth.supabase else { return next.run(request).await };
        // The REST API takes no cookies; the bundle's files need no session.
        let path = request.uri().path();
        if path.starts_with("/v1/") || path.starts_with("/pkg/") {
            return next.run(request).await;
        }
        let headers = request.headers();
        let Some(refresh_token) = cookie(headers, REFRESH_COOKIE).map(str::to_string) else {
            return next.run(request).await;
        };
        if cookie(headers, SESSION_COOKIE).is_some_and(|token| !needs_refresh(token)) {
            return next.run(request).await;
        }
        let (replacements, max_age) = match project.refresh(&refresh_token).await {
            Ok(session) => ([Some(session.access_token), Some(session.refresh_token)], SESSION_SECS),
            Err(AuthApiError::Refused(_)) => ([None, None], 0),
            Err(err @ AuthApiError::Unavailable(_)) => {
                tracing::warn!("refreshing a Supabase session failed: {err}");
                return next.run(request).await;
            }
        };
        let names = [SESSION_COOKIE, REFRESH_COOKIE];
        replace_cookies(request.headers_mut(), &names, &replacements);
        let mut response = next.run(request).await;
        for (name, value) in names.iter().zip(&replacements) {
            if let Ok(value) =
                HeaderValue::from_str(&cookie_text(&state, name, value.as_deref().unwrap_or(""), max_age))
            {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        response
    }

    /// Refresh when less than five minutes, or less than half of the token's lifetime, is left
    /// (read without checking the signature: the token is verified in full afterwards anyway).
    fn needs_refresh(token: &str) -> bool {
        let mut validation = jsonwebtoken::Validation::default();
        validation.insecure_disable_signature_validation();
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_required_spec_claims::<&str>(&[]);
        let key = jsonwebtoken::DecodingKey::from_secret(&[]);
        let Ok(data) = jsonwebtoken::decode::<auth::Claims>(token, &key, &validation) else { return true };
        let now = chrono::Utc::now().timestamp();
        let lifetime = data.claims.exp - data.claims.iat.unwrap_or(now);
        data.claims.exp - now < (lifetime / 2).min(300)
    }

    /// Rewrites the request's `Cookie` header with `names` set to `values` (`None` removes one).
    fn replace_cookies(headers: &mut HeaderMap, names: &[&str], values: &[Option<String>]) {
        let mut pairs: Vec<String> = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|pair| !names.iter().any(|name| pair.split_once('=').is_some_and(|(k, _)| k == *name)))
            .map(str::to_string)
            .collect();
        for (name, value) in names.iter().zip(values) {
            if let Some(value) = value {
                pairs.push(format!("{name}={value}"));
            }
        }
        headers.remove(header::COOKIE);
        if let Ok(value) = HeaderValue::from_str(&pairs.join("; ")) {
            headers.insert(header::COOKIE, value);
        }
    }

    pub fn state() -> AppState {
        expect_context::<AppState>()
    }

    /// The value of a cookie in these request headers.
    pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// A `Set-Cookie` value: HttpOnly, SameSite=Lax, and `Secure` behind an https public URL.
    fn cookie_text(state: &AppState, name: &str, value: &str, max_age_secs: i64) -> String {
        let secure = if state.public_origin.is_https() { "; Secure" } else { "" };
        format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}{secure}")
    }

    pub fn set_retry_after(secs: u64) {
        if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
            options.insert_header(header::RETRY_AFTER, HeaderValue::from(secs));
        }
    }

    pub fn set_cookie(name: &str, value: &str, max_age_secs: i64) {
        let cookie = cookie_text(&state(), name, value, max_age_secs);
        if let (Some(options), Ok(value)) =
            (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&cookie))
        {
            options.append_header(header::SET_COOKIE, value);
        }
    }

    /// Only a path of this site: never an open redirect. Browsers ignore tabs and line breaks
    /// in URLs and read `\\` as `/`, so `/\t/evil.example` would be `//evil.example`: the path
    /// must be visible ASCII without a backslash, start with one `/`, and parse as a path.
    pub fn safe_next(next: Option<&str>) -> String {
        let same_site = |p: &str| {
            p.starts_with('/')
                && !p.starts_with("//")
                && p.len() <= 2048
                && p.bytes().all(|b| (0x21..=0x7e).contains(&b) && b != b'\\')
                && p.parse::<axum::http::uri::PathAndQuery>().is_ok()
        };
        match next {
            Some(p) if same_site(p) => p.to_string(),
            _ => "/".to_string(),
        }
    }

    /// After a plain form post: back to the page the form was on (its path and query, so never
    /// another site), or home.
    pub async fn redirect_back() {
        let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok());
        let path = referer.and_then(|r| r.split_once("://")).and_then(|(_, rest)| rest.find('/').map(|i| &rest[i..]));
        leptos_axum::redirect(&safe_next(path));
    }

    /// The signed-in user's tenant, from the session, organization and mode cookies.
    pub async fn tenant() -> Result<(AppState, Tenant), AppError> {
        let (state, signed_in) = signed_in().await?;
        Ok((state, signed_in.tenant))
    }

    /// The signed-in user and their tenant. A page request was authorized once, before it is
    /// rendered ([`PageTenant`]): every server function of the page (the layout's and the page's
    /// own) shares that outcome.
    pub async fn signed_in() -> Result<(AppState, SignedIn), AppError> {
        let page = use_context::<Parts>().and_then(|parts| parts.extensions.get::<PageTenant>().cloned());
        match page {
            Some(PageTenant(outcome)) => outcome.map(|signed_in| (state(), signed_in)),
            None => signed_in_as(None, None).await,
        }
    }

    /// How a page request's authorization came out, in the request's extensions.
    #[derive(Clone)]
    pub struct PageTenant(pub Result<SignedIn, AppError>);

    /// Like [`tenant`], with an organization or mode asked for instead of the cookies' ones.
    pub async fn tenant_for(organization: Option<&str>, mode: Option<&str>) -> Result<(AppState, Tenant), AppError> {
        let (state, signed_in) = signed_in_as(organization, mode).await?;
        Ok((state, signed_in.tenant))
    }

    async fn signed_in_as(organization: Option<&str>, mode: Option<&str>) -> Result<(AppState, SignedIn), AppError> {
        let state = state();
        let headers: HeaderMap = leptos_axum::extract()
            .await
            .map_err(|e| AppError::internal_caused_by("the request's headers are unreadable", e))?;
        let client = client_address().await;
        let signed_in = authorize(&state, &headers, &client, organization, mode).await?;
        Ok((state, signed_in))
    }

    /// The tenant of a dashboard request's cookies (or of the organization or mode asked for),
    /// by the REST API's authorization path: throttles and rate limit included.
    pub async fn authorize(
        state: &AppState,
        headers: &HeaderMap,
        client: &str,
        organization: Option<&str>,
        mode: Option<&str>,
    ) -> Result<SignedIn, AppError> {
        let credential = cookie(headers, SESSION_COOKIE)
            .ok_or_else(|| AppError::Unauthorized("Your session has ended. Please sign in again.".into()))?;
        let chosen_org = organization.or_else(|| cookie(headers, ORG_COOKIE));
        let request = CredentialHeaders {
            credential: Some(credential),
            organization_id: chosen_org,
            mode: mode.or_else(|| cookie(headers, MODE_COOKIE)),
        };
        match state.authorize_user(&request, client).await {
            // A remembered organization the user has since left: fall back to their first one.
            Err(AppError::Forbidden(_) | AppError::Validation { .. })
                if organization.is_none() && chosen_org.is_some() =>
            {
                let request = CredentialHeaders { organization_id: None, ..request };
                state.authorize_user(&request, client).await
            }
            other => other,
        }
    }
}
