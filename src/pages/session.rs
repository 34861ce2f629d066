//! Signing in and out, and which organization and mode the dashboard shows.
//!
//! The session is a Supabase-format HS256 JWT (the same claims and secret the REST API accepts)
//! in an HttpOnly, SameSite=Lax cookie; the organization and mode choices are cookies too, read
//! by the same `service::auth::authenticate` as the REST API's headers.

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
    use crate::service::{organizations, Actor};
    let (state, tenant) = server::tenant().await?;
    let Actor::User(user_id) = tenant.actor else {
        return Err(crate::error::AppError::Unauthorized("Please sign in.".into()).into());
    };
    let organizations = organizations::organizations_of(&state.ctx, user_id)
        .await?
        .into_iter()
        .map(|o| OrganizationChoice { id: o.id, name: o.name })
        .collect();
    Ok(SessionInfo {
        email: organizations::email_of(&state.ctx, user_id).await?,
        organizations,
        organization_id: tenant.organization_id,
        mode: tenant.mode,
    })
}

/// The sign-in form's handler. It always answers with a redirect: to `next` (same-site paths
/// only) once signed in, or back to the sign-in page with `failed=1`, the same whether or not
/// the email exists.
#[server]
pub async fn sign_in(email: String, password: String, next: Option<String>) -> Result<(), ErrorDetail> {
    use crate::service::organizations;
    let state = server::state();
    let next = server::safe_next(next.as_deref());
    let Some(user_id) = organizations::verify_login(&state.ctx, &email, &password).await? else {
        let query = serde_urlencoded::to_string([("next", next.as_str()), ("failed", "1")]).unwrap_or_default();
        leptos_axum::redirect(&format!("/sign-in?{query}"));
        return Ok(());
    };
    let token = state.jwt.issue(user_id, email.trim(), server::SESSION_SECS)?;
    server::set_cookie(server::SESSION_COOKIE, &token, server::SESSION_SECS);
    leptos_axum::redirect(&next);
    Ok(())
}

#[server]
pub async fn sign_out() -> Result<(), ErrorDetail> {
    for name in [server::SESSION_COOKIE, server::ORG_COOKIE, server::MODE_COOKIE] {
        server::set_cookie(name, "", 0);
    }
    leptos_axum::redirect("/sign-in");
    Ok(())
}

#[server]
pub async fn switch_organization(organization_id: String) -> Result<(), ErrorDetail> {
    // Checked like the REST API's x-organization-id: a non-member organization is refused.
    server::tenant_for(Some(&organization_id), None).await?;
    server::set_cookie(server::ORG_COOKIE, organization_id.trim(), server::SESSION_SECS);
    server::redirect_back().await;
    Ok(())
}

#[server]
pub async fn switch_mode(mode: String) -> Result<(), ErrorDetail> {
    server::tenant_for(None, Some(&mode)).await?;
    server::set_cookie(server::MODE_COOKIE, mode.trim(), server::SESSION_SECS);
    server::redirect_back().await;
    Ok(())
}

/// Server-side helpers for every dashboard server function.
#[cfg(feature = "ssr")]
pub mod server {
    use crate::domain::ErrorDetail;
    use crate::error::AppError;
    use crate::server::AppState;
    use crate::service::auth::{self, CredentialHeaders};
    use crate::service::Tenant;
    use axum::http::{header, HeaderMap, HeaderValue};
    use leptos::prelude::*;

    pub const SESSION_COOKIE: &str = "kros_session";
    pub const ORG_COOKIE: &str = "kros_org";
    pub const MODE_COOKIE: &str = "kros_mode";
    /// A dashboard session lasts 12 hours.
    pub const SESSION_SECS: i64 = 12 * 3600;

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

    pub fn set_cookie(name: &str, value: &str, max_age_secs: i64) {
        let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}");
        if let (Some(options), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&cookie)) {
            options.append_header(header::SET_COOKIE, value);
        }
    }

    /// Only same-site paths: never an open redirect.
    pub fn safe_next(next: Option<&str>) -> String {
        match next {
            Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_string(),
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
    pub async fn tenant() -> Result<(AppState, Tenant), ErrorDetail> {
        tenant_for(None, None).await
    }

    /// Like [`tenant`], with an organization or mode asked for instead of the cookies' ones.
    pub async fn tenant_for(organization: Option<&str>, mode: Option<&str>) -> Result<(AppState, Tenant), ErrorDetail> {
        let state = state();
        let headers: HeaderMap = leptos_axum::extract().await.map_err(|e| AppError::internal(e.to_string()))?;
        let credential = cookie(&headers, SESSION_COOKIE)
            .ok_or_else(|| AppError::Unauthorized("Your session has ended. Please sign in again.".into()))?;
        let chosen_org = organization.or_else(|| cookie(&headers, ORG_COOKIE));
        let request = CredentialHeaders {
            credential: Some(credential),
            organization_id: chosen_org,
            mode: mode.or_else(|| cookie(&headers, MODE_COOKIE)),
        };
        let tenant = match auth::authenticate(&state.ctx, &state.jwt, &request).await {
            // A remembered organization the user has since left: fall back to their first one.
            Err(AppError::Forbidden(_) | AppError::Validation { .. }) if organization.is_none() && chosen_org.is_some() => {
                let request = CredentialHeaders { organization_id: None, ..request };
                auth::authenticate(&state.ctx, &state.jwt, &request).await?
            }
            other => other?,
        };
        Ok((state, tenant))
    }
}
