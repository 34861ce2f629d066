//! The client of a Supabase project's Auth API (GoTrue) that the dashboard signs in through:
//! the password grant, the refresh grant, and sign-out, as documented by Supabase
//! (`POST /auth/v1/token?grant_type=password|refresh_token`, `POST /auth/v1/logout`, each with
//! the project's publishable key in the `apikey` header).

use serde::Deserialize;
use std::time::Duration;

pub struct SupabaseAuthClient {
    /// `<SUPABASE_URL>/auth/v1`.
    base: String,
    /// The project's publishable (anon) key.
    publishable_key: String,
    http: reqwest::Client,
}

/// A session as the token endpoint answers it (the fields Kros uses).
#[derive(Debug, Clone, Deserialize)]
pub struct TokenSession {
    pub access_token: String,
    pub refresh_token: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthApiError {
    /// The project said no (wrong password, a used or revoked refresh token): its message.
    #[error("{0}")]
    Refused(String),
    /// The project could not be reached or failed.
    #[error("the Supabase Auth API is unavailable: {0}")]
    Unavailable(String),
}

/// An error body of the Auth API: `{"code", "error_code", "msg"}` today, `{"error",
/// "error_description"}` from older versions.
#[derive(Deserialize, Default)]
struct ErrorBody {
    msg: Option<String>,
    error_description: Option<String>,
    message: Option<String>,
}

impl SupabaseAuthClient {
    pub fn new(supabase_url: &str, publishable_key: String) -> SupabaseAuthClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        let base = format!("{}/auth/v1", supabase_url.trim_end_matches('/'));
        SupabaseAuthClient { base, publishable_key, http }
    }

    pub async fn sign_in_with_password(&self, email: &str, password: &str) -> Result<TokenSession, AuthApiError> {
        self.token("password", serde_json::json!({ "email": email, "password": password })).await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Result<TokenSession, AuthApiError> {
        self.token("refresh_token", serde_json::json!({ "refresh_token": refresh_token })).await
    }

    /// Ends this session at the project (its refresh tokens stop working); other sessions of the
    /// user stay signed in (`scope=local`).
    pub async fn sign_out(&self, access_token: &str) -> Result<(), AuthApiError> {
        let response = self
            .http
            .post(format!("{}/logout?scope=local", self.base))
            .header("apikey", &self.publishable_key)
            .bearer_auth(access_token)
            .send()
            .await
            .map_err(unavailable)?;
        match response.status().as_u16() {
            200..=299 => Ok(()),
            // The session is gone already: signed out is what was wanted.
            401 | 403 | 404 => Ok(()),
            _ => Err(refusal(response).await),
        }
    }

    async fn token(&self, grant_type: &str, body: serde_json::Value) -> Result<TokenSession, AuthApiError> {
        let response = self
            .http
            .post(format!("{}/token?grant_type={grant_type}", self.base))
            .header("apikey", &self.publishable_key)
            .json(&body)
            .send()
            .await
            .map_err(unavailable)?;
        if !response.status().is_success() {
            return Err(refusal(response).await);
        }
        response.json().await.map_err(|e| AuthApiError::Unavailable(format!("unexpected answer: {e}")))
    }
}

fn unavailable(err: reqwest::Error) -> AuthApiError {
    AuthApiError::Unavailable(err.to_string())
}

/// A 4xx is the project's refusal; anything else means it is not working.
async fn refusal(response: reqwest::Response) -> AuthApiError {
    let status = response.status();
    let body: ErrorBody = response.json().await.unwrap_or_default();
    let message = body.msg.or(body.error_description).or(body.message).unwrap_or_else(|| status.to_string());
    if status.is_client_error() && status.as_u16() != 429 {
        AuthApiError::Refused(message)
    } else {
        AuthApiError::Unavailable(format!("{status}: {message}"))
    }
}
