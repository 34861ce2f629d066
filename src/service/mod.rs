//! The service layer: every operation of the product, written once on sqlx.
//!
//! The REST handlers (`crate::api`) and the dashboard's server functions (`crate::pages`) are
//! thin doors onto these functions: they parse, authenticate, call, and map the result.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod endpoints;
pub mod idempotency;
pub mod inventory;
pub mod organizations;
pub mod phone_numbers;
pub mod settings;

use crate::db::{Backend, Db, Tx};
use crate::domain::Mode;
use crate::error::AppError;
use uuid::Uuid;

/// What every operation needs: the pool and the installation's settings.
#[derive(Clone)]
pub struct Context {
    pub db: Db,
    pub backend: Backend,
    /// The domain of SIP URIs and credentials (`KROS_SIP_DOMAIN`).
    pub sip_domain: String,
    /// The server secret that API-key hashes are keyed with.
    pub api_key_pepper: String,
}

impl Context {
    /// Opens a transaction that will write. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so that two writers queue on the busy timeout instead of one failing
    /// when it upgrades a read snapshot that went stale.
    pub async fn begin_write(&self) -> Result<Tx, AppError> {
        let tx = match self.backend {
            Backend::Sqlite => self.db.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.db.begin().await?,
        };
        Ok(tx)
    }

    /// The row-lock clause for a `SELECT` inside a write transaction: PostgreSQL locks the row;
    /// SQLite already holds the database write lock (see [`Context::begin_write`]).
    pub fn for_update(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE",
        }
    }
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
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    ApiKey(Uuid),
    User(Uuid),
    /// The operator CLI.
    Operator,
}

impl Actor {
    /// How the audit log names the actor.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::ApiKey(id) => format!("api_key:{id}"),
            Actor::User(id) => format!("user:{id}"),
            Actor::Operator => "operator".to_string(),
        }
    }
}

/// Reads a UUID stored as text. A malformed stored id is a bug, never the client's fault.
pub(crate) fn uuid_column(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw).map_err(|_| AppError::internal(format!("malformed id in database: {raw}")))
}

/// Random text from an alphabet, for secrets and generated names.
pub(crate) fn random_string(len: usize, alphabet: &[u8]) -> String {
    use rand::Rng;
    let mut rng = rand::rngs::OsRng;
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub(crate) const LOWER_ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
