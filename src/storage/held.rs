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

use super::{Result, StorageError};
use sqlx::pool::PoolConnection;
use sqlx::{Database, Executor};

/// How a backend reads its errors.
pub(super) struct ErrorRules {
    /// Does this error leave the connection suspect (I/O, disk, file)? It is then closed.
    pub poisons_connection: fn(&sqlx::Error) -> bool,
    pub classify: fn(sqlx::Error) -> StorageError,
}

pub(super) struct HeldConnection<DB: Database>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    conn: Option<PoolConnection<DB>>,
    in_transaction: bool,
    rules: &'static ErrorRules,
}

impl<DB: Database> HeldConnection<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    pub fn new(conn: PoolConnection<DB>, rules: &'static ErrorRules) -> Self {
        HeldConnection { conn: Some(conn), in_transaction: false, rules }
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
            (self.rules.classify)(err)
        })
    }

    fn discard(&mut self) {
        if let Some(conn) = self.conn.as_mut() {
            conn.close_on_drop();
        }
        self.in_transaction = false;
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
        if outcome.is_err() {
            self.discard();
        }
        outcome.map(|_| ()).map_err(self.rules.classify)
    }
}

impl<DB: Database> Drop for HeldConnection<DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    fn drop(&mut self) {
        if !self.in_transaction {
            return;
        }
        let Some(mut conn) = self.conn.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(rollback_or_close(conn));
            }
            Err(_) => conn.close_on_drop(),
        }
    }
}

/// Ends an abandoned transaction before the connection goes back to the pool.
async fn rollback_or_close<DB: Database>(mut conn: PoolConnection<DB>)
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
{
    let rolled_back = (&mut *conn).execute("ROLLBACK").await;
    if rolled_back.is_err() {
        conn.close_on_drop();
    }
}
