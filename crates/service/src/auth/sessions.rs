//! Sessions that end when the user signs out.
//!
//! A built-in account's dashboard session is a row (`sessions`) and a token naming it; the token
//! is accepted only while the row is there, unexpired and not revoked, on both doors. A Supabase
//! session signed out through the dashboard is recorded as revoked too, so the access token the
//! dashboard held stops working here at once, not when it expires.

use super::tokens::{Issuer, Verified};
use super::Auth;
use crate::error::AppError;
use crate::Context;
use kros_storage::{self as storage, SessionRecord};
use uuid::Uuid;

/// How long a built-in session lasts.
pub const SESSION_SECS: i64 = 12 * 3600;

fn ended() -> AppError {
    AppError::Unauthorized("your session has ended (signed out or expired); sign in again".into())
}

/// Starts a built-in session for a user who just proved their password; returns its token.
pub async fn start(ctx: &Context, auth: &Auth, user_id: Uuid, email: &str) -> Result<String, AppError> {
    let now = storage::now();
    // Rows of sessions long over are of no use to anyone.
    ctx.store.forget_sessions_expired_before(now).await?;
    let session = SessionRecord {
        id: Uuid::new_v4(),
        user_id,
        created_at: now,
        expires_at: now + chrono::Duration::seconds(SESSION_SECS),
        revoked_at: None,
    };
    ctx.store.insert_session(&session).await?;
    auth.tokens.issue_session(user_id, email, session.id, SESSION_SECS)
}

/// Refuses a token whose session has ended: a built-in one must be live in `sessions`; a
/// Supabase one must not have been signed out here.
pub async fn ensure_live(ctx: &Context, token: &Verified) -> Result<(), AppError> {
    let Some(id) = token.claims.session_id else { return Ok(()) };
    let session = ctx.store.session(id).await?;
    let live = match (token.issuer, session) {
        (Issuer::Builtin, Some(s)) => {
            s.user_id == token.user_id && s.revoked_at.is_none() && s.expires_at > storage::now()
        }
        (Issuer::Builtin, None) => false,
        (Issuer::Supabase, Some(s)) => s.revoked_at.is_none(),
        (Issuer::Supabase, None) => true,
    };
    if live {
        Ok(())
    } else {
        Err(ended())
    }
}

/// Ends the token's session: from now on no token of it is accepted, on either door.
pub async fn end(ctx: &Context, token: &Verified) -> Result<(), AppError> {
    let Some(id) = token.claims.session_id else { return Ok(()) };
    if !crate::organizations::user_exists(ctx, token.user_id).await? {
        return Ok(()); // a user unknown here has no session here to end
    }
    let now = storage::now();
    // Kept until no token of the session could pass any more (its expiry plus the leeway).
    let expires_at = chrono::DateTime::from_timestamp(token.claims.exp + 120, 0).unwrap_or(now);
    let session = SessionRecord { id, user_id: token.user_id, created_at: now, expires_at, revoked_at: Some(now) };
    Ok(ctx.store.end_session(&session).await?)
}
