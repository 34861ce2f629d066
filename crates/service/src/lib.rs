//! The service layer: every operation of the product and every rule, written once, on the
//! storage interface (`kros_storage`), whichever database is below it.
//!
//! The REST handlers (`crate::api`) and the dashboard's server functions (`crate::pages`) are
//! thin doors onto these functions: they parse, authenticate, call, and map the result.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod calls;
pub mod endpoints;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod inventory;
pub mod network;
pub mod orders;
pub mod organizations;
pub mod phone_numbers;
pub mod reservations;
pub mod secrets;
pub mod settings;
pub mod webhooks;

use kros_domain::{Actor, Mode};
use kros_storage::{Scope, Storage};
use std::sync::Arc;
use uuid::Uuid;

/// What every operation needs: the storage and the installation's settings.
#[derive(Clone)]
pub struct Context {
    /// The database, whichever it is (chosen once, at start: see `storage::open`).
    pub store: Arc<dyn Storage>,
    /// The domain of SIP URIs and credentials (`KROS_SIP_DOMAIN`).
    pub sip_domain: String,
    /// The server secret that API-key hashes are keyed with.
    pub api_key_pepper: String,
    /// The pepper keys created before `KROS_API_KEY_PEPPER` was set were hashed with (they are
    /// moved to the new one the first time they are used).
    pub legacy_api_key_pepper: Option<String>,
    /// Signs the built-in sessions, unless `KROS_SESSION_SECRET` is set (see `auth::Auth`).
    pub session_secret: String,
    /// Seals SIP passwords and webhook signing secrets at rest.
    pub secret_cipher: Arc<secrets::SecretCipher>,
    /// How webhook endpoints are checked and deliveries made.
    pub webhooks: Arc<webhooks::WebhookSettings>,
    /// How long reservations hold numbers.
    pub reservations: reservations::ReservationSettings,
    /// How calls are routed and where they may go.
    pub calls: Arc<calls::CallSettings>,
    /// Tells the SIP servers what to forget when a number's credentials change.
    pub sip_servers: calls::sip_servers::SipServers,
    /// Records each number's routing decisions for its page.
    pub call_log: calls::decision_log::DecisionLog,
}

/// Who is acting, for which organization, in which mode: the result of authentication.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub organization_id: Uuid,
    pub mode: Mode,
    pub actor: Actor,
}

impl Tenant {
    pub fn livemode(&self) -> bool {
        self.mode.is_live()
    }

    /// The slice of the database this tenant may see.
    pub fn scope(&self) -> Scope {
        Scope { organization_id: self.organization_id, livemode: self.livemode() }
    }
}

/// Random text from an alphabet, for secrets and generated names.
pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
