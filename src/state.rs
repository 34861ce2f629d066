//! The state every request of both doors reads: the service context, the authentication
//! settings, the throttles and the dashboard's options. Below the REST handlers, the dashboard's
//! server functions and the router that serves both (`server`), which all import it.

use crate::client::{self, PublicOrigin};
use crate::domain::Actor;
use crate::error::AppError;
use crate::rate_limit::{FailureThrottle, RateLimit};
use crate::service::auth::{self, Auth, CredentialHeaders, SignedIn};
use crate::service::{Context, Tenant};
use axum::extract::FromRef;
use axum::http::HeaderName;
use leptos::config::LeptosOptions;

/// What every request needs; cloned for each one (axum's `State`), so it is one `Arc`.
#[derive(Clone)]
pub struct AppState(std::sync::Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(std::sync::Arc::new(shared))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub ctx: Context,
    pub auth: Auth,
    pub rate_limit: RateLimit,
    pub leptos_options: LeptosOptions,
    pub public_origin: PublicOrigin,
    pub sign_in_failures: SignInThrottle,
    /// Failed API-key and token authentications, per client address (both doors).
    pub auth_failures: FailureThrottle,
    pub client_ip_header: Option<HeaderName>,
}

/// Failed sign-ins, per account and per client address.
pub struct SignInThrottle {
    pub per_account: FailureThrottle,
    pub per_address: FailureThrottle,
}

impl Shared {
    /// The one authorization path of both doors: a client address with too many failed
    /// authentications is refused (429), the credential is checked (a failure counts against the
    /// address), and the credential's rate limit applies.
    pub async fn authorize(&self, request: &CredentialHeaders<'_>, client: &str) -> Result<Tenant, AppError> {
        let authentication = auth::authenticate(&self.ctx, &self.auth, request);
        self.guarded(client, authentication, |tenant| &tenant.actor).await
    }

    /// [`Self::authorize`] for the dashboard: a session token's user, with who they are.
    pub async fn authorize_user(&self, request: &CredentialHeaders<'_>, client: &str) -> Result<SignedIn, AppError> {
        let authentication = auth::authenticate_user(&self.ctx, &self.auth, request);
        self.guarded(client, authentication, |signed_in| &signed_in.tenant.actor).await
    }

    async fn guarded<T>(
        &self,
        client: &str,
        authentication: impl std::future::Future<Output = Result<T, AppError>>,
        actor: impl Fn(&T) -> &Actor,
    ) -> Result<T, AppError> {
        self.auth_failures.check(client)?;
        let authenticated = match authentication.await {
            Err(err @ AppError::Unauthorized(_)) => {
                self.auth_failures.failed(client);
                return Err(err);
            }
            other => other?,
        };
        self.rate_limit.check(actor(&authenticated))?;
        Ok(authenticated)
    }

    /// The client's address (see [`client::client_address`]).
    pub fn client_address(&self, headers: &axum::http::HeaderMap, extensions: &axum::http::Extensions) -> String {
        client::client_address(headers, extensions, self.client_ip_header.as_ref())
    }

    /// Forgets idle counters (every minute).
    pub(crate) fn forget_idle(&self) {
        self.rate_limit.forget_idle();
        self.auth_failures.forget_idle();
        self.sign_in_failures.per_account.forget_idle();
        self.sign_in_failures.per_address.forget_idle();
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
