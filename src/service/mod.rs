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
    ///
    /// On SQLite, this process's writers also queue in memory (FIFO) before they take a
    /// connection: the database has one writer at a time anyway, and SQLite's busy handler makes
    /// a waiting writer sleep and poll (1, 2, 5, ... 100 ms), which under concurrent writes cost
    /// most of the throughput and made the p99 of purchases and updates hundreds of milliseconds
    /// (see BENCHMARKS.md). Other processes sharing the file still queue on the busy timeout.
    ///
    /// The `BEGIN` itself runs in a task of its own, so that it completes even when the request
    /// is cancelled (the client hung up): sqlx 0.8's SQLite `begin_with` has an await point after
    /// the worker has begun the transaction and before the `Transaction` that would roll it back
    /// exists; a cancellation there returned the connection to the pool inside a transaction,
    /// holding the write lock, and every later write on it failed with a 500 ("attempted to call
    /// begin_with at non-zero transaction depth"). `make bench` hit this when wrk closed its
    /// connections at the end of a run (see BENCHMARKS.md).
    pub async fn begin_write(&self) -> Result<WriteTx, AppError> {
        let db = self.db.clone();
        match self.backend {
            Backend::Sqlite => {
                let turn = sqlite_write_queue(&self.db).lock_owned().await;
                let tx = run_to_completion(async move { db.begin_with("BEGIN IMMEDIATE").await }).await?;
                Ok(WriteTx { tx, _turn: Some(turn) })
            }
            Backend::Postgres => {
                let tx = run_to_completion(async move { db.begin().await }).await?;
                Ok(WriteTx { tx, _turn: None })
            }
        }
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

/// A write transaction (see [`Context::begin_write`]): a [`Tx`] that, on SQLite, also holds this
/// process's writer turn until it commits, rolls back or is dropped.
pub struct WriteTx {
    // Declared first so that it is dropped (rolled back) before the turn is given up.
    tx: Tx,
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl WriteTx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, _turn } = self;
        tx.commit().await
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        let WriteTx { tx, _turn } = self;
        tx.rollback().await
    }
}

impl std::ops::Deref for WriteTx {
    type Target = Tx;
    fn deref(&self) -> &Tx {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut Tx {
        &mut self.tx
    }
}

/// Runs a future on its own task: dropping the caller's future no longer cancels it (an abandoned
/// result, such as a `Transaction`, is dropped normally, which rolls it back).
async fn run_to_completion<T: Send + 'static>(
    work: impl std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'static,
) -> Result<T, AppError> {
    match tokio::spawn(work).await {
        Ok(result) => Ok(result?),
        Err(join_error) => Err(AppError::internal(format!("database task failed: {join_error}"))),
    }
}

/// The writer queue of one SQLite pool (found by the identity of the pool's connect options, so
/// several databases in one process, as in the tests, each have their own).
fn sqlite_write_queue(db: &Db) -> std::sync::Arc<tokio::sync::Mutex<()>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static QUEUES: OnceLock<Mutex<HashMap<usize, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    let options = db.connect_options();
    let key = Arc::as_ptr(&options) as *const () as usize;
    let mut queues = QUEUES.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner());
    queues.entry(key).or_default().clone()
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
