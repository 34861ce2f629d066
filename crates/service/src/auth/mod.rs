//! Authentication and tenancy: a credential plus the optional `x-organization-id` and
//! `x-kros-mode` headers become a [`Tenant`], or a 401/403.
//!
//! A credential is an API key (`super::api_keys`) or a session token: a Supabase project's
//! (HS256 with its shared secret, or ES256/RS256 against its JWKS) or a built-in account's
//! dashboard session, which signing out ends ([`sessions`]). [`supabase`] is the client of the
//! project's Auth API that the dashboard signs in through.

mod jwks;
pub mod sessions;
pub mod supabase;
mod tokens;

pub use tokens::{Claims, Issuer, Verified};

use super::{api_keys, organizations, Context, Tenant};
use crate::error::AppError;
use kros_domain::Actor;
use kros_domain::Mode;
use std::time::Duration;
use uuid::Uuid;

/// How session tokens are checked and where the dashboard signs in (flags or environment).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// `SUPABASE_URL`: the project. Its tokens' `iss` must be `<url>/auth/v1`, and its JWKS is
    /// `<url>/auth/v1/.well-known/jwks.json` (unless `jwks_url` says otherwise).
    pub supabase_url: Option<String>,
    /// `SUPABASE_JWKS_URL`: the JWKS, when it is not at the project's usual place.
    pub jwks_url: Option<String>,
    /// `SUPABASE_JWT_SECRET`: legacy HS256 tokens; unset, they are refused.
    pub jwt_secret: Option<String>,
    /// `SUPABASE_PUBLISHABLE_KEY` (or `SUPABASE_ANON_KEY`): with `supabase_url`, the dashboard
    /// signs in through the project.
    pub publishable_key: Option<String>,
    /// `KROS_SESSION_SECRET`: signs the built-in sessions; unset, one is generated once and kept
    /// in the database (so every process shares it).
    pub session_secret: Option<String>,
    /// Create users seen for the first time in a valid token (they have no organization).
    pub auto_create_users: bool,
    /// The longest a token may be valid for (`exp - iat`).
    pub max_token_lifetime: Duration,
    /// How long fetched JWKS keys are trusted before they are fetched again.
    pub jwks_ttl: Duration,
    /// The least time between two JWKS fetches (unknown `kid`s wait for it).
    pub jwks_refetch_interval: Duration,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            supabase_url: None,
            jwks_url: None,
            jwt_secret: None,
            publishable_key: None,
            session_secret: None,
            auto_create_users: false,
            max_token_lifetime: Duration::from_secs(24 * 3600),
            jwks_ttl: Duration::from_secs(10 * 60),
            jwks_refetch_interval: Duration::from_secs(30),
        }
    }
}

/// The server's authentication, built once at start from [`AuthSettings`].
pub struct Auth {
    tokens: tokens::TokenVerifier,
    /// Set when the dashboard signs in through a Supabase project.
    pub supabase: Option<supabase::SupabaseAuthClient>,
    auto_create_users: bool,
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl Auth {
    pub fn new(ctx: &Context, settings: &AuthSettings) -> Auth {
        let project = non_empty(&settings.supabase_url).map(|u| u.trim_end_matches('/').to_string());
        let jwks_url = non_empty(&settings.jwks_url)
            .map(str::to_string)
            .or_else(|| project.as_ref().map(|p| format!("{p}/auth/v1/.well-known/jwks.json")));
        let jwks = jwks_url.map(|url| jwks::Jwks::new(url, settings.jwks_ttl, settings.jwks_refetch_interval));
        let session_secret = non_empty(&settings.session_secret).unwrap_or(&ctx.session_secret);
        let supabase = match (&project, non_empty(&settings.publishable_key)) {
            (Some(project), Some(key)) => Some(supabase::SupabaseAuthClient::new(project, key.to_string())),
            _ => None,
        };
        let tokens = tokens::TokenVerifier::new(
            non_empty(&settings.jwt_secret),
            jwks,
            project.map(|p| format!("{p}/auth/v1")),
            session_secret,
            settings.max_token_lifetime.as_secs().min(i64::MAX as u64) as i64,
        );
        Auth { tokens, supabase, auto_create_users: settings.auto_create_users }
    }

    /// The token's signature and claims (no database; its session may have ended).
    pub async fn verify(&self, token: &str) -> Result<Verified, AppError> {
        self.tokens.verify(token).await
    }

    /// A session token whose session is still live.
    pub async fn verify_session(&self, ctx: &Context, token: &str) -> Result<Verified, AppError> {
        let verified = self.verify(token).await?;
        sessions::ensure_live(ctx, &verified).await?;
        Ok(verified)
    }
}

/// The request's credential and tenancy headers, as sent.
#[derive(Debug, Default, Clone)]
pub struct CredentialHeaders<'a> {
    /// From `Authorization: Bearer` or `x-api-key`.
    pub credential: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub mode: Option<&'a str>,
}

/// What a request asks for: its credential, and the organization and mode it names (if any).
struct Requested<'a> {
    credential: &'a str,
    organization: Option<Uuid>,
    mode: Option<Mode>,
}

fn requested<'a>(headers: &CredentialHeaders<'a>) -> Result<Requested<'a>, AppError> {
    let credential = headers.credential.map(str::trim).filter(|c| !c.is_empty()).ok_or_else(|| {
        AppError::Unauthorized("missing credentials: send Authorization: Bearer <key> or x-api-key".into())
    })?;
    let organization = headers
        .organization_id
        .map(|raw| {
            Uuid::parse_str(raw.trim())
                .map_err(|_| AppError::validation("x-organization-id", "x-organization-id must be a UUID"))
        })
        .transpose()?;
    let mode = headers.mode.map(|raw| kros_domain::parse::parse_enum::<Mode>("x-kros-mode", raw.trim())).transpose()?;
    Ok(Requested { credential, organization, mode })
}

/// An API key's or a session token's tenant: the REST API's authentication.
pub async fn authenticate(ctx: &Context, auth: &Auth, headers: &CredentialHeaders<'_>) -> Result<Tenant, AppError> {
    let requested = requested(headers)?;
    if !api_keys::is_api_key(requested.credential) {
        return Ok(user_tenant(ctx, auth, requested).await?.tenant);
    }
    let tenant = api_keys::authenticate(ctx, requested.credential).await?;
    if requested.organization.is_some_and(|org| org != tenant.organization_id) {
        return Err(AppError::Forbidden("this API key belongs to another organization".into()));
    }
    if requested.mode.is_some_and(|mode| mode != tenant.mode) {
        return Err(AppError::Forbidden(format!("this is a {} mode key", tenant.mode)));
    }
    Ok(tenant)
}

/// A signed-in user: their tenant, and who they are (what the dashboard's layout shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub tenant: Tenant,
    pub account: organizations::Account,
}

/// A session token's user (never an API key's): the dashboard's authentication.
pub async fn authenticate_user(
    ctx: &Context,
    auth: &Auth,
    headers: &CredentialHeaders<'_>,
) -> Result<SignedIn, AppError> {
    user_tenant(ctx, auth, requested(headers)?).await
}

/// Two queries: the session (still live?) and the user with their organizations.
async fn user_tenant(ctx: &Context, auth: &Auth, requested: Requested<'_>) -> Result<SignedIn, AppError> {
    let token = auth.verify_session(ctx, requested.credential).await?;
    let user_id = token.user_id;
    let account = match organizations::account_of(ctx, user_id).await? {
        Some(account) => account,
        None if auth.auto_create_users && token.issuer == Issuer::Supabase => {
            organizations::create_external_user(ctx, user_id, token.claims.email.as_deref()).await?;
            organizations::account_of(ctx, user_id)
                .await?
                .ok_or_else(|| AppError::Unauthorized("unknown user".into()))?
        }
        None => return Err(AppError::Unauthorized("unknown user".into())),
    };
    let orgs = &account.organizations;
    let organization_id = match requested.organization {
        Some(org) if orgs.iter().any(|o| o.id == org) => org,
        Some(_) => return Err(AppError::Forbidden("you are not a member of this organization".into())),
        None => orgs
            .first()
            .map(|o| o.id)
            .ok_or_else(|| AppError::Forbidden("you are not a member of any organization".into()))?,
    };
    let tenant = Tenant { organization_id, mode: requested.mode.unwrap_or(Mode::Live), actor: Actor::User(user_id) };
    Ok(SignedIn { tenant, account })
}
