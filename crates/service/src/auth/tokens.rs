//! Session tokens (JWTs): which key verifies a token, and the claim rules every token meets.
//!
//! Three kinds are accepted, each only with its own algorithm and key:
//! - the built-in accounts' dashboard sessions: HS256 with the installation's session secret,
//!   header `kid: kros-session`, issuer `kros-numbers`;
//! - Supabase tokens signed with the project's asymmetric keys: ES256 or RS256, the key chosen by
//!   the token's `kid` from the project's JWKS, and only the algorithm that key is for;
//! - legacy Supabase tokens: HS256 with `SUPABASE_JWT_SECRET`.

use super::jwks::{Jwks, KeyError};
use crate::error::AppError;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `kid` of the built-in sessions' tokens.
pub const SESSION_KID: &str = "kros-session";
/// The `iss` of the built-in sessions' tokens.
pub const SESSION_ISSUER: &str = "kros-numbers";
/// Leeway for `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: u64 = 60;

/// The claims Kros reads from a session token (Supabase's names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub aud: serde_json::Value,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The session the token belongs to (Supabase sets it; so do the built-in sessions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<Uuid>,
}

/// Who signed a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Issuer {
    /// This installation (a built-in account's dashboard session).
    Builtin,
    /// The Supabase project.
    Supabase,
}

/// A token whose signature and claims are good (its session may still have ended: see
/// `super::sessions`).
#[derive(Debug, Clone)]
pub struct Verified {
    pub user_id: Uuid,
    pub claims: Claims,
    pub issuer: Issuer,
}

pub struct TokenVerifier {
    /// `SUPABASE_JWT_SECRET`: legacy HS256 Supabase tokens.
    shared_secret: Option<DecodingKey>,
    /// The project's signing keys (`SUPABASE_URL` or `SUPABASE_JWKS_URL`).
    jwks: Option<Jwks>,
    /// `<SUPABASE_URL>/auth/v1`: the `iss` Supabase tokens must carry, when known.
    supabase_issuer: Option<String>,
    session_signing: EncodingKey,
    session_verifying: DecodingKey,
    /// The longest `exp - iat` accepted, in seconds.
    max_lifetime_secs: i64,
}

fn refused(why: &str) -> AppError {
    AppError::Unauthorized(format!("invalid session token: {why}"))
}

impl TokenVerifier {
    pub fn new(
        shared_secret: Option<&str>,
        jwks: Option<Jwks>,
        supabase_issuer: Option<String>,
        session_secret: &str,
        max_lifetime_secs: i64,
    ) -> TokenVerifier {
        TokenVerifier {
            shared_secret: shared_secret.map(|s| DecodingKey::from_secret(s.as_bytes())),
            jwks,
            supabase_issuer,
            session_signing: EncodingKey::from_secret(session_secret.as_bytes()),
            session_verifying: DecodingKey::from_secret(session_secret.as_bytes()),
            max_lifetime_secs,
        }
    }

    /// Checks the signature (with the one key and algorithm the token may use) and the claims.
    pub async fn verify(&self, token: &str) -> Result<Verified, AppError> {
        let header = decode_header(token).map_err(|_| refused("malformed"))?;
        if header.kid.as_deref() == Some(SESSION_KID) {
            let claims = self.check(token, &self.session_verifying, Algorithm::HS256, Some(SESSION_ISSUER))?;
            return verified(claims, Issuer::Builtin);
        }
        let issuer = self.supabase_issuer.as_deref();
        let claims =
            match header.alg {
                Algorithm::HS256 => {
                    let secret = self.shared_secret.as_ref().ok_or_else(|| {
                        refused("HS256 tokens are not accepted here (SUPABASE_JWT_SECRET is not set)")
                    })?;
                    self.check(token, secret, Algorithm::HS256, issuer)?
                }
                Algorithm::ES256 | Algorithm::RS256 => {
                    let jwks = self.jwks.as_ref().ok_or_else(|| {
                        refused("ES256 and RS256 tokens are not accepted here (SUPABASE_URL is not set)")
                    })?;
                    let kid = header.kid.as_deref().ok_or_else(|| refused("the token names no signing key (kid)"))?;
                    let key = jwks.key(kid).await.map_err(|e| match e {
                        KeyError::UnknownKid => refused("unknown signing key (kid)"),
                        KeyError::Unreachable(why) => AppError::Unavailable {
                            message: "the Supabase project's signing keys cannot be fetched; retry later".into(),
                            cause: Some(std::sync::Arc::new(KeyError::Unreachable(why))),
                        },
                    })?;
                    if key.algorithm != header.alg {
                        return Err(refused("the token's algorithm is not the one of its signing key"));
                    }
                    self.check(token, &key.key, key.algorithm, issuer)?
                }
                _ => return Err(refused("algorithm not accepted")),
            };
        verified(claims, Issuer::Supabase)
    }

    /// Verifies with exactly `algorithm` and `key`, then checks audience, role, times and issuer.
    fn check(
        &self,
        token: &str,
        key: &DecodingKey,
        algorithm: Algorithm,
        issuer: Option<&str>,
    ) -> Result<Claims, AppError> {
        let mut validation = Validation::new(algorithm);
        validation.set_audience(&["authenticated"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp", "sub", "aud"]);
        if let Some(issuer) = issuer {
            // `set_issuer` alone lets a token without `iss` through: require the claim too.
            validation.set_required_spec_claims(&["exp", "sub", "aud", "iss"]);
            validation.set_issuer(&[issuer]);
        }
        let claims = decode::<Claims>(token, key, &validation).map_err(|e| describe(e.kind()))?.claims;
        if claims.role.as_deref() != Some("authenticated") {
            return Err(refused("not a user session (role must be authenticated)"));
        }
        let now = chrono::Utc::now().timestamp();
        if claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
            return Err(refused("issued in the future"));
        }
        let lifetime = claims.exp - claims.iat.unwrap_or(now);
        if lifetime > self.max_lifetime_secs {
            return Err(refused(&format!("valid for longer than {} s", self.max_lifetime_secs)));
        }
        Ok(claims)
    }

    /// A built-in session's token.
    pub fn issue_session(
        &self,
        user_id: Uuid,
        email: &str,
        session_id: Uuid,
        lifetime_secs: i64,
    ) -> Result<String, AppError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_string(),
            aud: serde_json::Value::String("authenticated".into()),
            exp: now + lifetime_secs,
            iat: Some(now),
            nbf: None,
            role: Some("authenticated".into()),
            iss: Some(SESSION_ISSUER.into()),
            email: Some(email.to_string()),
            session_id: Some(session_id),
        };
        let header = Header { kid: Some(SESSION_KID.into()), ..Header::new(Algorithm::HS256) };
        encode(&header, &claims, &self.session_signing)
            .map_err(|e| AppError::internal_caused_by("cannot sign a session", e))
    }
}

fn verified(claims: Claims, issuer: Issuer) -> Result<Verified, AppError> {
    let user_id = Uuid::parse_str(&claims.sub).map_err(|_| refused("sub is not a user id"))?;
    if issuer == Issuer::Builtin && claims.session_id.is_none() {
        return Err(refused("no session id"));
    }
    Ok(Verified { user_id, claims, issuer })
}

fn describe(kind: &ErrorKind) -> AppError {
    match kind {
        ErrorKind::ExpiredSignature => refused("expired"),
        ErrorKind::ImmatureSignature => refused("not valid yet (nbf)"),
        ErrorKind::InvalidAudience => refused("wrong audience"),
        ErrorKind::InvalidIssuer => refused("wrong issuer"),
        ErrorKind::MissingRequiredClaim(claim) => refused(&format!("missing {claim}")),
        ErrorKind::InvalidSignature => refused("bad signature"),
        ErrorKind::InvalidAlgorithm => refused("algorithm not accepted"),
        _ => refused("malformed"),
    }
}
