//! A pooled connection held for writing, on either database.
//!
//! Transactions are begun and ended here with plain `BEGIN`/`COMMIT`/`ROLLBACK`, not with sqlx's
//! `Transaction`, for two failures found in service:
//! - a request cancelled during `BEGIN` (the client hung up) must not hand the pool a connection
//!   inside a transaction: the transaction counts as open from before `BEGIN` is sent, and a
//!   drop rolls it back, on a task of its own, before the connection is used again;
//! - a connection whose `COMMIT` or `ROLLBACK` failed (disk full, read-only file) is in a state
//!   nobody knows: it is closed, never returned to the pool (sqlx 0.8 returned it, still counting
//!   a transaction, and every later `BEGIN` on it failed until a restart).
//!
//! A held connection goes back to its pool when it is done (sqlx pings it on the way), or, for
//! SQLite's one writer, into a [`Slot`] that the next writer takes it from as it is: the writers'
//! queue is the slot's lock, and no round trip is spent between two writes.

use super::{Result, StorageError};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Executor};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::OwnedMutexGuard;

/// A connection kept out of its pool between uses, and the lock that makes its users queue.
pub type Slot<DB> = OwnedMutexGuard<Option<PoolConnection<DB>>>;

/// How a backend reads its errors.
pub struct ErrorRules {
    /// Does this error leave the connection suspect (I/O, disk, file)? It is then closed.
    pub poisons_connection: fn(&sqlx::Error) -> bool,
    /// Did the write find the database read-only (a read-only file, a standby)?
    pub is_read_only: fn(&sqlx::Error) -> bool,
    pub classify: fn(sqlx::Error) -> StorageError,
}

/// The writes of one storage that found the database read-only: how many, and when the last did
/// (each backend recovers from it in its own way: SQLite reopens its connections, PostgreSQL
/// retires the sessions older than it). One per storage, so that a fault in one never resets
/// another's connections.
#[derive(Debug, Default)]
pub struct ReadOnlyFaults {
    count: AtomicU64,
    last_ms: AtomicU64,
}

impl ReadOnlyFaults {
    fn noted(&self) {
        self.last_ms.store(now_ms(), Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }

    /// Was a connection of this age opened before the last fault?
    pub fn predate(&self, age: Duration) -> bool {
        let opened = now_ms().saturating_sub(age.as_millis() as u64);
        opened <= self.last_ms.load(Ordering::Relaxed)
    }
}

/// Whether writes have recently failed for want of resources (a full disk, say): readiness says
/// no while they do, even when its own tiny write still fits in a page that has room.
#[derive(Debug, Default)]
pub struct WriteHealth {
    /// When a write last failed as unavailable (ms since the epoch); 0 once a commit succeeded.
    failed_at_ms: AtomicU64,
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(1)
}

impl WriteHealth {
    fn failed(&self) {
        self.failed_at_ms.store(now_ms(), Ordering::Relaxed);
    }

    fn succeeded(&self) {
        self.failed_at_ms.store(0, Ordering::Relaxed);
    }

    /// Did a write fail within `window`, with no commit succeeding since?
    pub fn failing_within(&self, window: Duration) -> bool {
        let at = self.failed_at_ms.load(Ordering::Relaxed);
        at != 0 && now_ms().saturating_sub(at) < window.as_millis() as u64
    }
}

pub struct HeldConnection<DB: Database>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    conn: Option<PoolConnection<DB>>,
    /// Where the connection goes when done; none: back to its pool.
    slot: Option<Slot<DB>>,
    in_transaction: bool,
    /// Closed on drop, never reused.
    discarded: bool,
    rules: &'static ErrorRules,
    /// Told of every write that finds the database read-only.
    read_only: Arc<ReadOnlyFaults>,
    /// Told of every write failure that is an unavailability, and of every commit.
    health: Option<Arc<WriteHealth>>,
}

impl<DB: Database> HeldConnection<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    pub fn new(conn: PoolConnection<DB>, rules: &'static ErrorRules, read_only: Arc<ReadOnlyFaults>) -> Self {
        HeldConnection {
            conn: Some(conn),
            slot: None,
            in_transaction: false,
            discarded: false,
            rules,
            read_only,
            health: None,
        }
    }

    /// Reports failures and commits to `health`.
    pub fn watched_by(mut self, health: Arc<WriteHealth>) -> Self {
        self.health = Some(health);
        self
    }

    /// A connection that goes back into `slot` when done (unless it was discarded).
    pub fn in_slot(
        slot: Slot<DB>,
        conn: PoolConnection<DB>,
        rules: &'static ErrorRules,
        read_only: Arc<ReadOnlyFaults>,
    ) -> Self {
        let mut held = Self::new(conn, rules, read_only);
        held.slot = Some(slot);
        held
    }

    pub fn conn(&mut self) -> &mut DB::Connection {
        self.conn.as_mut().expect("the connection is held until the holder is dropped")
    }

    /// The outcome of a statement: an error that poisons the connection closes it (which also
    /// ends its transaction).
    pub fn check<T>(&mut self, outcome: std::result::Result<T, sqlx::Error>) -> Result<T> {
        outcome.map_err(|err| {
            if (self.rules.poisons_connection)(&err) {
                self.discard();
            }
            self.note(err)
        })
    }

    /// The error as the service sees it, once the storage's health has heard of it.
    fn note(&self, err: sqlx::Error) -> StorageError {
        if (self.rules.is_read_only)(&err) {
            self.read_only.noted();
        }
        let err = (self.rules.classify)(err);
        if let (StorageError::Unavailable(_), Some(health)) = (&err, &self.health) {
            health.failed();
        }
        err
    }

    fn discard(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.close_on_drop();
        }
        self.in_transaction = false;
        self.discarded = true;
    }

    pub async fn begin(mut self, statement: &'static str) -> Result<Self> {
        // Marked first: if this request is cancelled during BEGIN, the drop still rolls back.
        self.in_transaction = true;
        let begun = self.conn().execute(statement).await;
        self.check(begun)?;
        Ok(self)
    }

    /// `COMMIT` or `ROLLBACK`. If it fails, the connection is closed.
    pub async fn finish(mut self, statement: &'static str) -> Result<()> {
        let outcome = self.conn().execute(statement).await;
        self.in_transaction = false;
        match outcome {
            Ok(_) => {
                if let (Some(health), "COMMIT") = (&self.health, statement) {
                    health.succeeded();
                }
                Ok(())
            }
            Err(err) => {
                self.discard();
                Err(self.note(err))
            }
        }
    }
}

impl<DB: Database> Drop for HeldConnection<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else { return };
        let slot = self.slot.take();
        if !self.in_transaction {
            if let (Some(mut slot), false) = (slot, self.discarded) {
                *slot = Some(conn);
            }
            return; // otherwise dropped: back to the pool, or closed if discarded
        }
        match tokio::runtime::Handle::try_current() {
            // The slot's lock goes with it: the next writer waits for the rollback.
            Ok(runtime) => {
                runtime.spawn(rollback_or_close(conn, slot));
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

/// Ends an abandoned transaction before the connection is used again.
async fn rollback_or_close<DB: Database>(mut conn: PoolConnection<DB>, slot: Option<Slot<DB>>)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    match ((&mut *conn).execute("ROLLBACK").await, slot) {
        (Ok(_), Some(mut slot)) => *slot = Some(conn),
        (Ok(_), None) => {}
        (Err(_), _) => conn.close_on_drop(),
    }
}
