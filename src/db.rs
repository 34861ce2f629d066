//! The database: one `sqlx::Any` pool for SQLite or PostgreSQL, chosen by `DATABASE_URL`.
//!
//! Why `Any`: every operation is written once in portable SQL (`$1` placeholders, `RETURNING`,
//! partial unique indexes), and the backend is a run-time choice. Values cross the pool as text,
//! integers and booleans only (ids are UUID text, times RFC 3339 text), which both backends
//! store the same way.

use crate::error::AppError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, ConnectOptions, Executor};
use std::str::FromStr;
use std::time::Duration;

pub type Db = AnyPool;
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend, AppError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Backend::Postgres)
        } else {
            Err(AppError::config("DATABASE_URL must start with sqlite: or postgres:"))
        }
    }
}

/// Pool settings (flags or environment, see `cli`).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_connections: 16, acquire_timeout: Duration::from_secs(3) }
    }
}

/// Opens the pool (creating a SQLite file and its folder if missing) and applies migrations.
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<Db, AppError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::of_url(url)?;
    if backend == Backend::Sqlite {
        create_sqlite_parent_dir(url)?;
    }
    let options = AnyConnectOptions::from_str(&with_sqlite_create_mode(url, backend))
        .map_err(|e| AppError::config(format!("DATABASE_URL is not valid: {e}")))?
        .log_statements(tracing::log::LevelFilter::Trace);
    let is_memory = url.contains(":memory:") || url.contains("mode=memory");
    let pool = AnyPoolOptions::new()
        // An in-memory SQLite database exists per connection: keep exactly one.
        .max_connections(if is_memory { 1 } else { settings.max_connections })
        .acquire_timeout(settings.acquire_timeout)
        // A pooled SQLite connection is a handle on a local file: it cannot go stale, so skip the
        // ping before every checkout (a round trip to the connection's worker thread each time).
        // PostgreSQL connections can drop with the server, so there the ping stays.
        .test_before_acquire(backend != Backend::Sqlite)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // WAL lets readers run beside the one writer; the busy timeout makes writers
                    // queue instead of failing; foreign keys are off by default in SQLite.
                    conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .map_err(AppError::from)?;
    migrate(&pool, backend).await?;
    Ok(pool)
}

/// Applies pending migrations. On PostgreSQL sqlx holds an advisory lock meanwhile, so several
/// processes starting at once do not race.
pub async fn migrate(pool: &Db, backend: Backend) -> Result<(), AppError> {
    let migrator = match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator
        .run(pool)
        .await
        .map_err(|e| AppError::internal(format!("migration failed: {e}")))
}

fn with_sqlite_create_mode(url: &str, backend: Backend) -> String {
    if backend == Backend::Sqlite && !url.contains("mode=") && !url.contains(":memory:") {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}mode=rwc")
    } else {
        url.to_string()
    }
}

fn create_sqlite_parent_dir(url: &str) -> Result<(), AppError> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or("");
    if path.is_empty() || path.contains(":memory:") {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .map_err(|e| AppError::config(format!("cannot create {}: {e}", parent.display())))?;
        }
    }
    Ok(())
}

/// The current time as stored: RFC 3339 UTC with microseconds, fixed width so it sorts as text.
pub fn now() -> String {
    format_time(chrono::Utc::now())
}

pub fn format_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Is this error a unique-constraint violation (a lost race for a unique row)?
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// A boolean as stored: 0 or 1 (see the migrations for why).
pub fn flag(value: bool) -> i64 {
    value as i64
}
