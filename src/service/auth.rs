//! Authentication and tenancy: a credential plus the optional `x-organization-id` and
//! `x-kros-mode` headers become a [`Tenant`], or a 401/403.

use super::{api_keys, organizations, Actor, Context, Tenant};
use crate::domain::Mode;
use crate::error::AppError;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// How JWTs (Supabase Auth format) are checked.
#[derive(Clone)]
pub struct JwtSettings {
    secret: Option<String>,
    /// `SUPABASE_URL`: when set, `iss` must be `<url>/auth/v1`.
    issuer: Option<String>,
    /// Create unknown users on first sight (with no organization, so they get 403).
    pub auto_create_users: bool,
}

impl JwtSettings {
    pub fn new(secret: Option<String>, supabase_url: Option<String>, auto_create_users: bool) -> Self {
        let secret = secret.filter(|s| !s.is_empty());
        let issuer = supabase_url.filter(|u| !u.is_empty()).map(|u| format!("{}/auth/v1", u.trim_end_matches('/')));
        JwtSettings { secret, issuer, auto_create_users }
    }

    pub fn is_configured(&self) -> bool {
        self.secret.is_some()
    }
}

/// The claims Kros reads from a Supabase session token.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub aud: serde_json::Value,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Leeway for `exp` (and `nbf`), in seconds.
const LEEWAY_SECS: u64 = 60;

impl JwtSettings {
    /// Verifies signature, algorithm, audience, role, expiry and issuer; returns the user id.
    pub fn verify(&self, token: &str) -> Result<Claims, AppError> {
        let refused = |why: &str| AppError::Unauthorized(format!("invalid session token: {why}"));
        let Some(secret) = &self.secret else {
            return Err(refused("this server does not accept session tokens (SUPABASE_JWT_SECRET is not set)"));
        };
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&["authenticated"]);
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        validation.leeway = LEEWAY_SECS;
        if let Some(issuer) = &self.issuer {
            // `set_issuer` alone lets a token without `iss` through: require the claim too.
            validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
            validation.set_issuer(&[issuer]);
        }
        let data = decode::<Claims>(token, &DecodingKey::from_secret(secret.as_bytes()), &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => refused("expired"),
                K::InvalidAudience => refused("wrong audience"),
                K::InvalidIssuer => refused("wrong issuer"),
                K::MissingRequiredClaim(claim) => refused(&format!("missing {claim}")),
                K::InvalidSignature => refused("bad signature"),
                K::InvalidAlgorithm => refused("algorithm not accepted"),
                _ => refused("malformed"),
            }
        })?;
        if data.claims.role.as_deref() != Some("authenticated") {
            return Err(refused("not a user session (role must be authenticated)"));
        }
        Ok(data.claims)
    }

    /// Issues a session token for a signed-in user (the dashboard's cookie).
    pub fn issue(&self, user_id: Uuid, email: &str, lifetime_secs: i64) -> Result<String, AppError> {
        let secret = self.secret.as_ref().ok_or_else(|| AppError::internal("SUPABASE_JWT_SECRET is not set"))?;
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            aud: serde_json::Value::String("authenticated".into()),
            exp: now + lifetime_secs,
            iat: Some(now),
            role: Some("authenticated".into()),
            iss: self.issuer.clone(),
            email: Some(email.to_string()),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))
            .map_err(|e| AppError::internal(e.to_string()))
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

pub async fn authenticate(ctx: &Context, jwt: &JwtSettings, headers: &CredentialHeaders<'_>) -> Result<Tenant, AppError> {
    let credential = headers
        .credential
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| AppError::Unauthorized("missing credentials: send Authorization: Bearer <key> or x-api-key".into()))?;
    let requested_org = headers
        .organization_id
        .map(|raw| {
            Uuid::parse_str(raw.trim())
                .map_err(|_| AppError::validation("x-organization-id", "x-organization-id must be a UUID"))
        })
        .transpose()?;
    let requested_mode = headers
        .mode
        .map(|raw| crate::domain::parse::parse_enum::<Mode>("x-kros-mode", raw.trim()))
        .transpose()?;

    if api_keys::is_api_key(credential) {
        let tenant = api_keys::authenticate(ctx, credential).await?;
        if requested_org.is_some_and(|org| org != tenant.organization_id) {
            return Err(AppError::Forbidden("this API key belongs to another organization".into()));
        }
        if requested_mode.is_some_and(|mode| mode != tenant.mode) {
            return Err(AppError::Forbidden(format!("this is a {} mode key", tenant.mode)));
        }
        return Ok(tenant);
    }

    let claims = jwt.verify(credential)?;
    let user_id = Uuid::parse_str(&claims.sub)
        .map_err(|_| AppError::Unauthorized("invalid session token: sub is not a user id".into()))?;
    if !organizations::user_exists(ctx, user_id).await? {
        if !jwt.auto_create_users {
            return Err(AppError::Unauthorized("unknown user".into()));
        }
        organizations::create_external_user(ctx, user_id, claims.email.as_deref()).await?;
    }
    let orgs = organizations::organizations_of(ctx, user_id).await?;
    let organization_id = match requested_org {
        Some(org) if orgs.iter().any(|o| o.id == org) => org,
        Some(_) => return Err(AppError::Forbidden("you are not a member of this organization".into())),
        None => orgs.first().map(|o| o.id).ok_or_else(|| AppError::Forbidden("you are not a member of any organization".into()))?,
    };
    Ok(Tenant { organization_id, mode: requested_mode.unwrap_or(Mode::Live), actor: Actor::User(user_id) })
}
