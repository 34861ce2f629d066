//! SQLite, the embedded default: STRICT tables, UUIDs as BLOBs, WAL.
//!
//! SQLite has one writer at a time, so this process has exactly one writer connection (a pool
//! of one: waiting for it is the in-process writer queue, first come first served) and a small
//! pool of readers (`query_only`), which in WAL mode read beside the writer. Write transactions
//! start with `BEGIN IMMEDIATE`, so they hold the write lock from the start and never fail
//! half-way on a stale snapshot; other processes sharing the file queue on the busy timeout.
//!
//! The file is watched: if it is removed or replaced while serving (its directory deleted,
//! say), writes would go on into a file nobody will ever open again, so they answer
//! `Unavailable` instead and readiness fails.

use async_trait::async_trait;
use kros_storage::held::{ErrorRules, HeldConnection, ReadOnlyFaults};
use kros_storage::*;
use sqlx::migrate::Migrator;
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteSynchronous,
};
use sqlx::{ConnectOptions, Connection, Sqlite, SqliteConnection, SqlitePool};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedRwLockReadGuard, RwLock};
use uuid::Uuid;

mod calls;
mod endpoints;
mod orders;
mod reservations;
mod webhooks;

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub struct SqliteStorage {
    /// The writer and the readers. Every statement holds a read guard on them while it runs, so
    /// that [`SqliteStorage::reset`] can close every connection at once.
    pools: Arc<RwLock<Pools>>,
    options: SqliteConnectOptions,
    settings: PoolSettings,
    /// The file as it was opened (none for an in-memory database, which is never reset).
    file: Option<WatchedFile>,
    /// The writes that found the database read-only...
    read_only: Arc<ReadOnlyFaults>,
    /// ... and how many of them this storage has reset after.
    faults_handled: AtomicU64,
    last_reset: Mutex<Option<std::time::Instant>>,
}

struct Pools {
    /// Exactly one connection: every write goes through it.
    writer: SqlitePool,
    /// The writer connection between two writes, out of its pool (see `held`); writers queue on
    /// its lock. Unused for an in-memory database, whose one connection readers share.
    writer_slot: Arc<Mutex<Option<PoolConnection<Sqlite>>>>,
    /// `query_only` connections for everything else.
    readers: SqlitePool,
}

type Gate = OwnedRwLockReadGuard<Pools>;

impl Pools {
    /// The pools, connecting lazily (a reset must not fail because the file cannot be opened).
    fn new(options: &SqliteConnectOptions, settings: &PoolSettings, in_memory: bool) -> Pools {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(settings.acquire_timeout)
            // A handle on a local file cannot go stale: no ping before each checkout.
            .test_before_acquire(false)
            .connect_lazy_with(options.clone());
        let readers = if in_memory {
            // An in-memory database exists per connection: the one connection does everything.
            writer.clone()
        } else {
            SqlitePoolOptions::new()
                .max_connections(settings.max_connections.unwrap_or_else(default_readers))
                .acquire_timeout(settings.acquire_timeout)
                .test_before_acquire(false)
                .connect_lazy_with(options.clone().pragma("query_only", "ON"))
        };
        Pools { writer, readers, writer_slot: Arc::new(Mutex::new(None)) }
    }
}

impl SqliteStorage {
    pub async fn open(url: &str, settings: &PoolSettings, if_missing: IfMissing) -> Result<Self, OpenError> {
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| OpenError::Config(format!("DATABASE_URL is not a valid SQLite URL: {e}")))?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5))
            .foreign_keys(true)
            .log_statements(tracing::log::LevelFilter::Trace);
        let path = options.get_filename().to_path_buf();
        if !in_memory {
            prepare_file(&path, if_missing)?;
        }
        let options = options.create_if_missing(if_missing == IfMissing::Create);
        migrate(&options).await?;
        let pools = Pools::new(&options, settings, in_memory);
        // Open the writer now, so that a database that cannot be opened stops the start.
        drop(pools.writer.acquire().await.map_err(OpenError::Connect)?);
        let file =
            if in_memory { None } else { Some(WatchedFile::new(&path).map_err(|e| OpenError::Config(e.to_string()))?) };
        Ok(SqliteStorage {
            pools: Arc::new(RwLock::new(pools)),
            options,
            settings: settings.clone(),
            file,
            read_only: Default::default(),
            faults_handled: AtomicU64::new(0),
            last_reset: Mutex::new(None),
        })
    }

    /// A read guard on the pools, for one statement or transaction.
    async fn gate(&self) -> Gate {
        self.pools.clone().read_owned().await
    }

    /// Runs one write on the writer, outside any transaction.
    async fn write<'q>(&self, query: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>) -> Result<SqliteQueryResult> {
        let (_gate, mut writer) = self.writer().await?;
        let outcome = query.execute(writer.conn()).await;
        writer.check(outcome)
    }

    /// The writer connection, once the file is known to be the one that was opened, and after a
    /// reset if a write found the database read-only since the last one.
    async fn writer(&self) -> Result<(Gate, Writer)> {
        if let Some(file) = &self.file {
            file.check()?;
        }
        self.reset_after_read_only_fault().await;
        let gate = self.gate().await;
        if self.file.is_none() {
            let conn = gate.writer.acquire().await.map_err(classify)?;
            return Ok((gate, Writer::new(conn, &ERROR_RULES, self.read_only.clone())));
        }
        let waited = tokio::time::timeout(self.settings.acquire_timeout, gate.writer_slot.clone().lock_owned()).await;
        let mut slot = waited.map_err(|_| StorageError::Unavailable("timed out waiting for the writer".into()))?;
        let conn = match slot.take() {
            Some(conn) => conn,
            None => gate.writer.acquire().await.map_err(classify)?,
        };
        Ok((gate, Writer::in_slot(slot, conn, &ERROR_RULES, self.read_only.clone())))
    }

    /// SQLite shares what it knows of a file among all of a process's connections to it (the
    /// `-shm` mapping, read-only or not, among them), so a database that was read-only stays so
    /// for as long as any connection is open, even after its permissions are restored. After a
    /// read-only fault the next write therefore closes every connection (waiting for those in
    /// use), and new ones are opened on demand. At most once a second.
    async fn reset_after_read_only_fault(&self) {
        let faults = self.read_only.count();
        if self.file.is_none() || faults == self.faults_handled.load(Ordering::Relaxed) {
            return;
        }
        let mut last_reset = self.last_reset.lock().await;
        if last_reset.is_some_and(|at| at.elapsed() < Duration::from_secs(1)) {
            return; // still read-only, most likely: the next write after the second resets
        }
        let mut pools = self.pools.write().await;
        self.faults_handled.store(faults, Ordering::Relaxed);
        drop(pools.writer_slot.lock().await.take());
        pools.writer.close().await;
        pools.readers.close().await;
        *pools = Pools::new(&self.options, &self.settings, false);
        *last_reset = Some(std::time::Instant::now());
        tracing::warn!("the database was read-only: every connection was closed, new ones are opened");
    }
}

/// Readers: two per core. Each connection runs its statements on a thread of its own, and a
/// statement's time is mostly the hand-off to that thread and back, so a second connection per
/// core keeps the cores busy; more only queue (`make bench` on 2 cores: get one 9.9k req/s with
/// 2 readers, 11.3k with 4, 10.5k with 8, 5.1k with 16; see BENCHMARKS.md).
fn default_readers() -> u32 {
    std::thread::available_parallelism().map(|n| 2 * n.get() as u32).unwrap_or(4).clamp(2, 16)
}

/// Appends ` AND id IN (?, ?, ...)`, one bind per id: built at run time, since SQLite has no array
/// parameter (PostgreSQL's statements take `= ANY($1)`).
fn push_id_in<'b, 'q>(
    query: &'b mut sqlx::QueryBuilder<'q, Sqlite>,
    ids: &[Uuid],
) -> &'b mut sqlx::QueryBuilder<'q, Sqlite> {
    query.push(" AND id IN (");
    let mut each = query.separated(", ");
    for id in ids {
        each.push_bind(*id);
    }
    query.push(")")
}

/// `serve` refuses a database that does not exist; `migrate` creates it and its folder.
fn prepare_file(path: &Path, if_missing: IfMissing) -> Result<(), OpenError> {
    if path.exists() {
        return Ok(());
    }
    match if_missing {
        IfMissing::Refuse => Err(OpenError::Config(format!(
            "the SQLite database {} does not exist; create it with `kros-numbers migrate` \
             (serve never creates an empty database in place of a missing one)",
            path.display()
        ))),
        IfMissing::Create => match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
                .map_err(|e| OpenError::Config(format!("cannot create {}: {e}", parent.display()))),
            _ => Ok(()),
        },
    }
}

/// Applies pending migrations on a connection of its own with foreign keys off: rebuilding a
/// table (SQLite's way to change a column's type) needs them off, and a PRAGMA cannot switch
/// them inside the migration's transaction. The keys are checked before the connection closes.
async fn migrate(options: &SqliteConnectOptions) -> Result<(), OpenError> {
    let mut conn = options.clone().foreign_keys(false).connect().await.map_err(OpenError::Connect)?;
    MIGRATIONS.run(&mut conn).await.map_err(OpenError::Migrate)?;
    // Unchecked: sqlx cannot describe a pragma's table (it is no table of the schema).
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut conn)
        .await
        .map_err(OpenError::Connect)?;
    if let Some((table,)) = broken.first() {
        return Err(OpenError::Config(format!("the database has rows in {table} whose foreign key names no row")));
    }
    conn.close().await.map_err(OpenError::Connect)
}

/// The database file's identity (device and inode) when it was opened.
struct WatchedFile {
    path: PathBuf,
    identity: (u64, u64),
}

impl WatchedFile {
    fn new(path: &Path) -> std::io::Result<Self> {
        let path = std::fs::canonicalize(path)?;
        let identity = file_identity(&path)?;
        Ok(WatchedFile { path, identity })
    }

    fn check(&self) -> Result<()> {
        match file_identity(&self.path) {
            Ok(identity) if identity == self.identity => Ok(()),
            _ => Err(StorageError::Unavailable(
                format!("the database file {} was removed or replaced while serving", self.path.display()).into(),
            )),
        }
    }
}

#[cfg(unix)]
fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_identity(path: &Path) -> std::io::Result<(u64, u64)> {
    std::fs::metadata(path).map(|_| (0, 0))
}

/// Sorts SQLite's result codes (the primary code is the low byte of the extended one).
fn classify(err: sqlx::Error) -> StorageError {
    use sqlx::Error as E;
    match &err {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::WorkerCrashed => StorageError::Unavailable(err.into()),
        E::Database(db) if db.is_unique_violation() => StorageError::UniqueViolation(err),
        E::Database(_) if primary_code(&err).is_some_and(|c| matches!(c, 5 | 6) || is_fault_code(c)) => {
            StorageError::Unavailable(err.into())
        }
        _ => StorageError::Failed(err.into()),
    }
}

fn primary_code(err: &sqlx::Error) -> Option<i32> {
    match err {
        sqlx::Error::Database(db) => db.code().and_then(|c| c.parse::<i32>().ok()).map(|c| c & 0xff),
        _ => None,
    }
}

/// READONLY, IOERR, FULL, CANTOPEN: the file or its disk failed under this connection; it may
/// be stuck in a transaction or opened read-only, so it is closed, and a fresh one is opened
/// once the disk recovers.
fn is_fault_code(code: i32) -> bool {
    matches!(code, 8 | 10 | 13 | 14)
}

fn is_read_only(err: &sqlx::Error) -> bool {
    primary_code(err) == Some(SQLITE_READONLY)
}

fn poisons_connection(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed) || primary_code(err).is_some_and(is_fault_code)
}

const SQLITE_READONLY: i32 = 8;

static ERROR_RULES: ErrorRules = ErrorRules { poisons_connection, is_read_only, classify };

/// The writer connection, checked out (see [`HeldConnection`]).
type Writer = HeldConnection<Sqlite>;

#[async_trait]
impl Storage for SqliteStorage {
    async fn probe_write(&self) -> Result<()> {
        let at = now().to_rfc3339();
        self.write(sqlx::query!(
            "INSERT INTO settings (name, value) VALUES ('readiness_probe', ?1) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            at
        ))
        .await?;
        Ok(())
    }

    async fn close(&self) {
        let pools = self.pools.read().await;
        drop(pools.writer_slot.lock().await.take());
        pools.readers.close().await;
        pools.writer.close().await;
    }

    async fn begin_write(&self) -> Result<Box<dyn WriteTx>> {
        let (gate, writer) = self.writer().await?;
        Ok(Box::new(SqliteWriteTx { writer: writer.begin("BEGIN IMMEDIATE").await?, _gate: gate }))
    }

    async fn setting_or_insert(&self, name: &str, fresh: &str) -> Result<String> {
        // Read first: a server whose database is read-only still starts (and says it is not ready).
        let existing = sqlx::query_scalar!("SELECT value FROM settings WHERE name = ?1", name)
            .fetch_optional(&self.pools.read().await.readers)
            .await
            .map_err(classify)?;
        if let Some(value) = existing {
            return Ok(value);
        }
        self.write(sqlx::query!(
            "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
            name,
            fresh
        ))
        .await?;
        sqlx::query_scalar!("SELECT value FROM settings WHERE name = ?1", name)
            .fetch_one(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn insert_organization(&self, org: &OrganizationRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO organizations (id, name, created_at) VALUES (?1, ?2, ?3)",
            org.id,
            org.name,
            org.created_at
        ))
        .await?;
        Ok(())
    }

    async fn organization_exists(&self, id: Uuid) -> Result<bool> {
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?1) AS "exists!: bool""#, id)
            .fetch_one(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn insert_user(&self, user: &UserRecord, organization_id: Uuid) -> Result<()> {
        let (_gate, writer) = self.writer().await?;
        let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
        let inserted = sqlx::query!(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            user.id,
            user.email,
            user.password_hash,
            user.created_at
        )
        .execute(tx.conn())
        .await;
        tx.check(inserted)?;
        let joined = sqlx::query!(
            "INSERT INTO memberships (user_id, organization_id, created_at) VALUES (?1, ?2, ?3)",
            user.id,
            organization_id,
            user.created_at
        )
        .execute(tx.conn())
        .await;
        tx.check(joined)?;
        tx.finish("COMMIT").await
    }

    async fn insert_user_if_absent(&self, user: &UserRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            user.id,
            user.email,
            user.password_hash,
            user.created_at
        ))
        .await?;
        Ok(())
    }

    async fn insert_membership(&self, user_id: Uuid, organization_id: Uuid) -> Result<()> {
        let joined_at = now();
        self.write(sqlx::query!(
            "INSERT INTO memberships (user_id, organization_id, created_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            user_id,
            organization_id,
            joined_at
        ))
        .await?;
        Ok(())
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>> {
        sqlx::query_as!(UserRecord, r#"SELECT id AS "id: Uuid", email, password_hash, created_at AS "created_at: Timestamp" FROM users WHERE id = ?1"#, id)
            .fetch_optional(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        sqlx::query_as!(UserRecord, r#"SELECT id AS "id: Uuid", email, password_hash, created_at AS "created_at: Timestamp" FROM users WHERE email = ?1"#, email)
            .fetch_optional(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn account(&self, user_id: Uuid) -> Result<Option<AccountRecord>> {
        let rows = sqlx::query_as!(
            AccountRow,
            r#"SELECT u.email, o.id AS "organization_id?: Uuid", o.name AS "organization_name?",
             o.created_at AS "organization_created_at?: Timestamp" FROM users u
             LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN organizations o ON o.id = m.organization_id
             WHERE u.id = ?1 ORDER BY m.created_at, o.id"#,
            user_id
        )
        .fetch_all(&self.pools.read().await.readers)
        .await
        .map_err(classify)?;
        Ok(AccountRecord::from_rows(rows))
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            session.id,
            session.user_id,
            session.created_at,
            session.expires_at,
            session.revoked_at
        ))
        .await?;
        Ok(())
    }

    async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>> {
        sqlx::query_as!(
            SessionRecord,
            r#"SELECT id AS "id: Uuid", user_id AS "user_id: Uuid", created_at AS "created_at: Timestamp",
             expires_at AS "expires_at: Timestamp", revoked_at AS "revoked_at: Timestamp" FROM sessions WHERE id = ?1"#,
            id
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn end_session(&self, session: &SessionRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (id) DO UPDATE SET revoked_at = COALESCE(sessions.revoked_at, excluded.revoked_at)",
            session.id,
            session.user_id,
            session.created_at,
            session.expires_at,
            session.revoked_at
        ))
        .await?;
        Ok(())
    }

    async fn forget_sessions_expired_before(&self, at: Timestamp) -> Result<()> {
        self.write(sqlx::query!("DELETE FROM sessions WHERE expires_at < ?1", at)).await?;
        Ok(())
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO api_keys (id, organization_id, livemode, name, public_id, secret_hash, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            key.id,
            key.organization_id,
            key.livemode,
            key.name,
            key.public_id,
            key.secret_hash,
            key.created_at
        ))
        .await?;
        Ok(())
    }

    async fn api_key_by_id(&self, id: Uuid) -> Result<Option<ApiKeyRecord>> {
        sqlx::query_as!(
            ApiKeyRecord,
            r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool", name, public_id, secret_hash, created_at AS "created_at: Timestamp", last_used_at AS "last_used_at: Timestamp", revoked_at AS "revoked_at: Timestamp" FROM api_keys WHERE id = ?1"#,
            id
        )
            .fetch_optional(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyRecord>> {
        sqlx::query_as!(
            ApiKeyRecord,
            r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool", name, public_id, secret_hash, created_at AS "created_at: Timestamp", last_used_at AS "last_used_at: Timestamp", revoked_at AS "revoked_at: Timestamp" FROM api_keys WHERE public_id = ?1"#,
            public_id
        )
            .fetch_optional(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn api_keys_of(&self, organization_id: Uuid) -> Result<Vec<ApiKeyRecord>> {
        sqlx::query_as!(
            ApiKeyRecord,
            r#"SELECT id AS "id: Uuid", organization_id AS "organization_id: Uuid", livemode AS "livemode: bool", name, public_id, secret_hash, created_at AS "created_at: Timestamp", last_used_at AS "last_used_at: Timestamp", revoked_at AS "revoked_at: Timestamp" FROM api_keys WHERE organization_id = ?1 ORDER BY created_at DESC, id DESC"#,
            organization_id
        )
            .fetch_all(&self.pools.read().await.readers)
            .await
            .map_err(classify)
    }

    async fn revoke_api_key(&self, id: Uuid, at: Timestamp) -> Result<()> {
        self.write(sqlx::query!("UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL", at, id))
            .await?;
        Ok(())
    }

    async fn set_api_key_hash(&self, id: Uuid, secret_hash: &str) -> Result<()> {
        self.write(sqlx::query!("UPDATE api_keys SET secret_hash = ?1 WHERE id = ?2", secret_hash, id)).await?;
        Ok(())
    }

    async fn sip_passwords_without_prefix(&self, prefix: &str) -> Result<Vec<(Uuid, String)>> {
        let rows = sqlx::query!(
            r#"SELECT id AS "id: Uuid", sip_password FROM phone_numbers WHERE substr(sip_password, 1, length(?1)) <> ?1"#,
            prefix
        )
        .fetch_all(&self.pools.read().await.readers)
        .await
        .map_err(classify)?;
        Ok(rows.into_iter().map(|row| (row.id, row.sip_password)).collect())
    }

    async fn reseal_sip_password(&self, id: Uuid, seen: &str, sealed: &str) -> Result<bool> {
        let resealed = self
            .write(sqlx::query!(
                "UPDATE phone_numbers SET sip_password = ?1 WHERE id = ?2 AND sip_password = ?3",
                sealed,
                id,
                seen
            ))
            .await?;
        Ok(resealed.rows_affected() == 1)
    }

    async fn touch_api_key(&self, id: Uuid, at: Timestamp, unless_after: Timestamp) -> Result<()> {
        self.write(sqlx::query!(
            "UPDATE api_keys SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at <= ?3)",
            at,
            id,
            unless_after
        ))
        .await?;
        Ok(())
    }

    async fn inventory_by_id(&self, livemode: bool, id: Uuid) -> Result<Option<InventoryRecord>> {
        inventory_query!(
            InventoryRecord,
            "SELECT",
            " FROM inventory_numbers WHERE id = ?1 AND livemode = ?2",
            id,
            livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn inventory_by_ids(&self, livemode: bool, ids: &[Uuid]) -> Result<Vec<InventoryRecord>> {
        // Built at run time: one bind per id (SQLite has no array to bind).
        let mut query = sqlx::QueryBuilder::new(
            "SELECT id, livemode, e164, country, number_type, setup_cost_cents, monthly_cost_cents, currency, \
             available, created_at, held_by, held_until FROM inventory_numbers WHERE livemode = ",
        );
        query.push_bind(livemode);
        push_id_in(&mut query, ids).build_query_as().fetch_all(&self.pools.read().await.readers).await.map_err(classify)
    }

    async fn inventory_by_e164(&self, livemode: bool, e164: &str) -> Result<Option<InventoryRecord>> {
        inventory_query!(
            InventoryRecord,
            "SELECT",
            " FROM inventory_numbers WHERE e164 = ?1 AND livemode = ?2",
            e164,
            livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn search_inventory(&self, filter: &InventoryFilter, window: Window) -> Result<Counted<InventoryRecord>> {
        let pools = self.pools.read().await;
        let at = now();
        // Another organization's valid hold takes a number off sale to this viewer.
        read_page!(window, classify, |w| {
            inventory_query!(
                InventoryPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM inventory_numbers WHERE livemode = ?1 AND available = 1 AND country = ?2
              AND (?3 IS NULL OR number_type = ?3) AND (?4 IS NULL OR e164 LIKE '%' || ?4 || '%')
              AND (held_until IS NULL OR held_until <= ?5 OR held_by = ?6)) AS "total!: i64"
             FROM inventory_numbers WHERE livemode = ?1 AND available = 1 AND country = ?2
             AND (?3 IS NULL OR number_type = ?3) AND (?4 IS NULL OR e164 LIKE '%' || ?4 || '%')
             AND (held_until IS NULL OR held_until <= ?5 OR held_by = ?6)
             ORDER BY e164 LIMIT ?7 OFFSET ?8"#,
                filter.livemode,
                filter.country,
                filter.number_type,
                filter.contains,
                at,
                filter.viewer,
                w.limit,
                w.offset
            )
            .fetch_all(&pools.readers)
        })
    }

    async fn add_inventory(
        &self,
        numbers: &[InventoryRecord],
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<u64> {
        let (_gate, writer) = self.writer().await?;
        let mut tx = writer.begin("BEGIN IMMEDIATE").await?;
        let mut added = 0;
        for (i, n) in numbers.iter().enumerate() {
            let inserted = insert_inventory!(n).execute(tx.conn()).await;
            added += tx.check(inserted)?.rows_affected();
            progress(i + 1);
        }
        tx.finish("COMMIT").await?;
        Ok(added)
    }

    async fn inventory_countries(&self, livemode: bool) -> Result<Vec<String>> {
        sqlx::query_scalar!(
            "SELECT DISTINCT country FROM inventory_numbers WHERE livemode = ?1 AND available = 1 ORDER BY country",
            livemode
        )
        .fetch_all(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn assigned_numbers(
        &self,
        scope: Scope,
        filter: &AssignedFilter,
        window: Window,
        known_total: Option<i64>,
    ) -> Result<Counted<NumberRecord>> {
        let pools = self.pools.read().await;
        let (digits, name_part) = filter.search_parts();
        let count_it = known_total.is_none();
        // One statement for the page and its total (an uncorrelated subquery, computed once), or
        // the page alone when its total is known (CASE evaluates the subquery only if asked).
        let mut page: Counted<NumberRecord> = read_page!(window, classify, |w| {
            numbers_query!(
                NumberPageRow,
                "SELECT",
                r#", CASE WHEN ?10 THEN (SELECT COUNT(*) FROM phone_numbers
              WHERE organization_id = ?1 AND livemode = ?2 AND released_at IS NULL
              AND (?3 IS NULL OR country = ?3) AND (?4 IS NULL OR number_type = ?4)
              AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?5))
              AND (?6 IS NULL OR e164 LIKE '%' || ?6 || '%')
              AND (?7 IS NULL OR lower(friendly_name) LIKE '%' || ?7 || '%' ESCAPE '\')) ELSE 0 END
             AS "total!: i64"
             FROM phone_numbers WHERE organization_id = ?1 AND livemode = ?2 AND released_at IS NULL
             AND (?3 IS NULL OR country = ?3) AND (?4 IS NULL OR number_type = ?4)
             AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(tags) WHERE value = ?5))
             AND (?6 IS NULL OR e164 LIKE '%' || ?6 || '%')
             AND (?7 IS NULL OR lower(friendly_name) LIKE '%' || ?7 || '%' ESCAPE '\')
             ORDER BY created_at DESC, id DESC LIMIT ?8 OFFSET ?9"#,
                scope.organization_id,
                scope.livemode,
                filter.country,
                filter.number_type,
                filter.tag,
                digits,
                name_part,
                w.limit,
                w.offset,
                count_it
            )
            .fetch_all(&pools.readers)
        })?;
        // The page's rows carry no total when it was known.
        if let Some(total) = known_total {
            page.total = total;
        }
        Ok(page)
    }

    async fn owned_groups(&self, scope: Scope) -> Result<Vec<kros_domain::OwnedGroup>> {
        // Kept by triggers on phone_numbers (migration owned_number_groups): a few rows, however
        // many numbers are owned. An emptied group stays at count 0.
        sqlx::query_as!(
            kros_domain::OwnedGroup,
            r#"SELECT country, number_type AS "number_type: kros_domain::NumberType", currency, count,
             monthly_cost_cents FROM owned_number_groups
             WHERE organization_id = ?1 AND livemode = ?2 AND count > 0 ORDER BY country, number_type, currency"#,
            scope.organization_id,
            scope.livemode
        )
        .fetch_all(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn number(&self, scope: Scope, id: Uuid) -> Result<Option<NumberRecord>> {
        numbers_query!(
            NumberRecord,
            "SELECT",
            " FROM phone_numbers WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn audit_history(&self, phone_number_id: Uuid) -> Result<Vec<AuditRecord>> {
        audit_query!(
            AuditRecord,
            "SELECT",
            " FROM audit_log WHERE phone_number_id = ?1 ORDER BY created_at, id",
            phone_number_id
        )
        .fetch_all(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn claim_idempotency_key(&self, scope: Scope, key: &str, request_hash: &str) -> Result<bool> {
        let inserted = self
            .write(sqlx::query!(
                "INSERT INTO idempotency_keys (organization_id, livemode, idempotency_key, request_hash, created_at) \
                 VALUES (?1, ?2, ?3, ?4, strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')) \
                 ON CONFLICT (organization_id, livemode, idempotency_key) DO NOTHING",
                scope.organization_id,
                scope.livemode,
                key,
                request_hash
            ))
            .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn idempotency_key(&self, scope: Scope, key: &str, ages: KeyAges) -> Result<Option<IdempotencyRecord>> {
        let (keep, stale) = (ages.keep.as_secs_f64(), ages.stale.as_secs_f64());
        sqlx::query_as!(
            IdempotencyRecord,
            r#"SELECT request_hash, response_status AS "response_status: i32", response_body,
             unixepoch('now', 'subsec') - unixepoch(created_at, 'subsec') >= ?4 AS "expired!: bool",
             unixepoch('now', 'subsec') - unixepoch(created_at, 'subsec') >= ?5 AS "stale!: bool"
             FROM idempotency_keys WHERE organization_id = ?1 AND livemode = ?2 AND idempotency_key = ?3"#,
            scope.organization_id,
            scope.livemode,
            key,
            keep,
            stale
        )
        .fetch_optional(&self.pools.read().await.readers)
        .await
        .map_err(classify)
    }

    async fn remove_expired_idempotency_key(&self, scope: Scope, key: &str, ages: KeyAges) -> Result<()> {
        let (keep, stale) = (ages.keep.as_secs_f64(), ages.stale.as_secs_f64());
        self.write(sqlx::query!(
            "DELETE FROM idempotency_keys WHERE organization_id = ?1 AND livemode = ?2 AND idempotency_key = ?3 \
             AND (unixepoch('now', 'subsec') - unixepoch(created_at, 'subsec') >= ?4 \
                  OR (response_status IS NULL AND unixepoch('now', 'subsec') - unixepoch(created_at, 'subsec') >= ?5))",
            scope.organization_id,
            scope.livemode,
            key,
            keep,
            stale
        ))
        .await?;
        Ok(())
    }

    async fn complete_idempotency_key(&self, scope: Scope, key: &str, status: u16, body: &str) -> Result<()> {
        let (_gate, mut writer) = self.writer().await?;
        let outcome = complete_key(writer.conn(), scope, key, status, body).await;
        writer.check(outcome)
    }

    async fn abandon_idempotency_key(&self, scope: Scope, key: &str) -> Result<()> {
        self.write(sqlx::query!(
            "DELETE FROM idempotency_keys WHERE organization_id = ?1 AND livemode = ?2 AND idempotency_key = ?3 \
             AND response_status IS NULL",
            scope.organization_id,
            scope.livemode,
            key
        ))
        .await?;
        Ok(())
    }
}

async fn complete_key(
    conn: &mut SqliteConnection,
    scope: Scope,
    key: &str,
    status: u16,
    body: &str,
) -> std::result::Result<(), sqlx::Error> {
    let status = i32::from(status);
    sqlx::query!(
        "UPDATE idempotency_keys SET response_status = ?1, response_body = ?2 \
         WHERE organization_id = ?3 AND livemode = ?4 AND idempotency_key = ?5",
        status,
        body,
        scope.organization_id,
        scope.livemode,
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A write transaction on the writer connection (`BEGIN IMMEDIATE`: the write lock is held from
/// the start, so `number_for_update` needs no row lock).
struct SqliteWriteTx {
    // Dropped first: an abandoned transaction's rollback is under way before the gate opens.
    writer: Writer,
    _gate: Gate,
}

#[async_trait]
impl WriteTx for SqliteWriteTx {
    async fn number_for_update(&mut self, scope: Scope, id: Uuid) -> Result<Option<NumberRecord>> {
        // The writer's `BEGIN IMMEDIATE` already keeps every other writer out: no lock to take.
        let found = numbers_query!(
            NumberRecord,
            "SELECT",
            " FROM phone_numbers WHERE id = ?1 AND organization_id = ?2 AND livemode = ?3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(self.writer.conn())
        .await;
        self.writer.check(found)
    }

    async fn claim_inventory(&mut self, buyer: Scope, seen: &InventoryRecord) -> Result<bool> {
        let id = seen.id;
        let own_hold = reservations::own_hold(&mut self.writer, buyer.organization_id, id).await?;
        let at = now();
        let claimed = sqlx::query!(
            "UPDATE inventory_numbers SET available = 0, held_by = NULL, held_until = NULL, hold_id = NULL \
             WHERE id = ?1 AND available = 1 AND setup_cost_cents = ?2 AND monthly_cost_cents = ?3 \
             AND (held_until IS NULL OR held_until <= ?4 OR held_by = ?5)",
            id,
            seen.setup_cost_cents,
            seen.monthly_cost_cents,
            at,
            buyer.organization_id
        )
        .execute(self.writer.conn())
        .await;
        let won = self.writer.check(claimed)?.rows_affected() == 1;
        if let (true, Some(reservation_id)) = (won, own_hold) {
            reservations::mark_purchased(&mut self.writer, reservation_id, id).await?;
        }
        Ok(won)
    }

    async fn return_inventory(&mut self, id: Uuid) -> Result<()> {
        let returned = sqlx::query!("UPDATE inventory_numbers SET available = 1 WHERE id = ?1", id)
            .execute(self.writer.conn())
            .await;
        self.writer.check(returned)?;
        Ok(())
    }

    async fn insert_number(&mut self, n: &NumberRecord) -> Result<()> {
        let inserted = insert_number!(n).execute(self.writer.conn()).await;
        self.writer.check(inserted)?;
        Ok(())
    }

    async fn update_number(&mut self, n: &NumberRecord) -> Result<()> {
        let updated = update_number!(n).execute(self.writer.conn()).await;
        self.writer.check(updated)?;
        Ok(())
    }

    async fn delete_number(&mut self, id: Uuid) -> Result<()> {
        let deleted = sqlx::query!("DELETE FROM phone_numbers WHERE id = ?1", id).execute(self.writer.conn()).await;
        self.writer.check(deleted)?;
        Ok(())
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> Result<()> {
        let appended = insert_audit!(e).execute(self.writer.conn()).await;
        self.writer.check(appended)?;
        Ok(())
    }

    async fn enqueue_deliveries(&mut self, scope: Scope, event_id: Uuid, event_type: &str) -> Result<u64> {
        let enqueued = webhooks::enqueue(self.writer.conn(), scope, event_id, event_type, None).await;
        Ok(self.writer.check(enqueued)?.len() as u64)
    }

    async fn complete_idempotency_key(&mut self, scope: Scope, key: &str, status: u16, body: &str) -> Result<()> {
        let outcome = complete_key(self.writer.conn(), scope, key, status, body).await;
        self.writer.check(outcome)
    }

    async fn insert_reservation(&mut self, scope: Scope, id: Uuid, hold: Duration) -> Result<ReservationRecord> {
        reservations::insert_reservation(&mut self.writer, scope, id, hold).await
    }

    async fn hold_inventory(
        &mut self,
        reservation: &ReservationRecord,
        inventory_ids: &[Uuid],
    ) -> Result<Option<Uuid>> {
        reservations::hold_inventory(&mut self.writer, reservation, inventory_ids).await
    }

    async fn unheld_inventory_for_update(
        &mut self,
        filter: &InventoryFilter,
        quantity: i64,
    ) -> Result<Vec<InventoryRecord>> {
        reservations::unheld_inventory(&mut self.writer, filter, quantity).await
    }

    async fn delete_reservation(&mut self, scope: Scope, id: Uuid) -> Result<bool> {
        reservations::delete_reservation(&mut self.writer, scope, id).await
    }

    async fn insert_order(&mut self, order: &OrderRecord) -> Result<()> {
        orders::insert_order(&mut self.writer, order).await
    }

    async fn count_webhook_endpoints_locked(&mut self, scope: Scope) -> Result<i64> {
        webhooks::count_endpoints_locked(&mut self.writer, scope).await
    }

    async fn insert_webhook_endpoint(&mut self, endpoint: &WebhookEndpointRecord) -> Result<()> {
        webhooks::insert_endpoint(&mut self.writer, endpoint).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        let SqliteWriteTx { writer, _gate } = *self;
        writer.finish("COMMIT").await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        let SqliteWriteTx { writer, _gate } = *self;
        writer.finish("ROLLBACK").await
    }
}
