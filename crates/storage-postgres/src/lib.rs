//! PostgreSQL, for many app processes on one database: `uuid`, `timestamptz`, `boolean`, enum
//! types and `jsonb`; a write transaction locks the rows it changes (`FOR UPDATE`), and time
//! arithmetic uses the database's clock (`now()`), which every process shares.

use async_trait::async_trait;
use kros_storage::held::{ErrorRules, HeldConnection, ReadOnlyFaults, WriteHealth};
use kros_storage::*;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgQueryResult};
use sqlx::{ConnectOptions, PgConnection, PgPool, Postgres};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

mod calls;
mod endpoints;
mod orders;
mod reservations;
mod webhooks;

static MIGRATIONS: Migrator = sqlx::migrate!("./migrations");

pub struct PgStorage {
    pool: PgPool,
    /// Recent write failures (see [`PgStorage::probe_write`]).
    health: Arc<WriteHealth>,
    /// Writes that met a read-only session: the sessions opened before the last are retired.
    read_only: Arc<ReadOnlyFaults>,
}

/// After a write failed as unavailable, readiness says no for this long (unless a commit
/// succeeds first): a probe's own write may fit where the application's do not.
const UNREADY_AFTER_WRITE_FAILURE: Duration = Duration::from_secs(5);

impl PgStorage {
    pub async fn open(url: &str, settings: &PoolSettings) -> Result<Self, OpenError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| OpenError::Config(format!("DATABASE_URL is not a valid PostgreSQL URL: {e}")))?
            .log_statements(tracing::log::LevelFilter::Trace);
        let read_only = Arc::new(ReadOnlyFaults::default());
        let seen_read_only = read_only.clone();
        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.unwrap_or(16))
            .acquire_timeout(settings.acquire_timeout)
            // Connections drop with the server: each is pinged before use (a dead one is
            // replaced), so a process serves again by itself once the database is back, and no
            // request fails on a connection that died while it sat in the pool.
            .test_before_acquire(true)
            // Sessions opened before the database was last found read-only may still be
            // read-only by default (a session's default is fixed when it connects): they are not
            // handed out again.
            .before_acquire(move |_conn, meta| {
                let retired = seen_read_only.predate(meta.age);
                Box::pin(async move { Ok(!retired) })
            })
            .connect_with(options)
            .await
            .map_err(OpenError::Connect)?;
        // sqlx holds an advisory lock meanwhile: processes starting at once do not race.
        MIGRATIONS.run(&pool).await.map_err(OpenError::Migrate)?;
        Ok(PgStorage { pool, health: Default::default(), read_only })
    }

    /// A connection for the application's writes, whose failures and commits `health` hears of.
    async fn held(&self) -> Result<Held> {
        Ok(self.unwatched().await?.watched_by(self.health.clone()))
    }

    /// A connection whose outcome `health` does not hear of (the readiness probe's: its own
    /// failures must not keep it failing after the database is back).
    async fn unwatched(&self) -> Result<Held> {
        let conn = self.pool.acquire().await.map_err(classify)?;
        Ok(Held::new(conn, &ERROR_RULES, self.read_only.clone()))
    }

    /// Runs one write on a connection of its own, outside any transaction: a connection the
    /// write finds read-only is closed (see [`poisons_connection`]).
    async fn write(&self, query: sqlx::query::Query<'_, Postgres, PgArguments>) -> Result<PgQueryResult> {
        let mut held = self.held().await?;
        let outcome = query.execute(held.conn()).await;
        held.check(outcome)
    }
}

/// Sorts PostgreSQL's SQLSTATEs.
fn classify(err: sqlx::Error) -> StorageError {
    use sqlx::Error as E;
    match &err {
        E::PoolTimedOut | E::PoolClosed | E::Io(_) | E::Tls(_) | E::WorkerCrashed => {
            StorageError::Unavailable(err.into())
        }
        E::Database(db) if db.is_unique_violation() => StorageError::UniqueViolation(err),
        E::Database(db) if db.code().as_deref().is_some_and(is_transient) => StorageError::Unavailable(err.into()),
        _ => StorageError::Failed(err.into()),
    }
}

/// Connection loss, shutdown, no resources (disk full, too many connections), a read-only
/// server, serialization failures and deadlocks: the transaction rolled back, a retry may work.
fn is_transient(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || code.starts_with("58")
        || matches!(code, "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "25006")
}

/// A broken link, or a session that is read-only (a failover to a standby, or
/// `default_transaction_read_only` set): such a connection is closed, so that the next one, opened
/// once the database takes writes again, does.
fn poisons_connection(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) if db.code().as_deref() == Some("25006") => true,
        _ => false,
    }
}

fn is_read_only(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("25006"))
}

static ERROR_RULES: ErrorRules = ErrorRules { poisons_connection, is_read_only, classify };

type Held = HeldConnection<Postgres>;

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[async_trait]
impl Storage for PgStorage {
    async fn probe_write(&self) -> Result<()> {
        // A full tablespace fails the application's inserts long before this one-row update,
        // which fits in its page: writes that failed just now count too.
        if self.health.failing_within(UNREADY_AFTER_WRITE_FAILURE) {
            return Err(StorageError::Unavailable("writes are failing (see the log)".into()));
        }
        let mut held = self.unwatched().await?;
        let outcome = sqlx::query!(
            "INSERT INTO settings (name, value) VALUES ('readiness_probe', now()::text) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value"
        )
        .execute(held.conn())
        .await;
        held.check(outcome)?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }

    async fn begin_write(&self) -> Result<Box<dyn WriteTx>> {
        Ok(Box::new(PgWriteTx { held: self.held().await?.begin("BEGIN").await? }))
    }

    async fn setting_or_insert(&self, name: &str, fresh: &str) -> Result<String> {
        // Read first: a server whose database is read-only still starts (and says it is not ready).
        let existing = sqlx::query_scalar!("SELECT value FROM settings WHERE name = $1", name)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)?;
        if let Some(value) = existing {
            return Ok(value);
        }
        self.write(sqlx::query!(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            name,
            fresh
        ))
        .await?;
        sqlx::query_scalar!("SELECT value FROM settings WHERE name = $1", name)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn insert_organization(&self, org: &OrganizationRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)",
            org.id,
            org.name,
            org.created_at
        ))
        .await?;
        Ok(())
    }

    async fn organization_exists(&self, id: Uuid) -> Result<bool> {
        sqlx::query_scalar!(r#"SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1) AS "exists!""#, id)
            .fetch_one(&self.pool)
            .await
            .map_err(classify)
    }

    async fn insert_user(&self, user: &UserRecord, organization_id: Uuid) -> Result<()> {
        // One statement, so the user and the membership exist together without a transaction.
        self.write(sqlx::query!(
            "WITH new_user AS (INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             RETURNING id, created_at) \
             INSERT INTO memberships (user_id, organization_id, created_at) SELECT id, $5, created_at FROM new_user",
            user.id,
            user.email,
            user.password_hash,
            user.created_at,
            organization_id
        ))
        .await?;
        Ok(())
    }

    async fn insert_user_if_absent(&self, user: &UserRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            user.id,
            user.email,
            user.password_hash,
            user.created_at
        ))
        .await?;
        Ok(())
    }

    async fn insert_membership(&self, user_id: Uuid, organization_id: Uuid) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO memberships (user_id, organization_id, created_at) VALUES ($1, $2, now()) \
             ON CONFLICT DO NOTHING",
            user_id,
            organization_id
        ))
        .await?;
        Ok(())
    }

    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>> {
        sqlx::query_as!(UserRecord, "SELECT id, email, password_hash, created_at FROM users WHERE id = $1", id)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>> {
        sqlx::query_as!(UserRecord, "SELECT id, email, password_hash, created_at FROM users WHERE email = $1", email)
            .fetch_optional(&self.pool)
            .await
            .map_err(classify)
    }

    async fn account(&self, user_id: Uuid) -> Result<Option<AccountRecord>> {
        let rows = sqlx::query_as!(
            AccountRow,
            r#"SELECT u.email, o.id AS "organization_id?", o.name AS "organization_name?",
             o.created_at AS "organization_created_at?" FROM users u
             LEFT JOIN memberships m ON m.user_id = u.id LEFT JOIN organizations o ON o.id = m.organization_id
             WHERE u.id = $1 ORDER BY m.created_at, o.id"#,
            user_id
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)?;
        Ok(AccountRecord::from_rows(rows))
    }

    async fn insert_session(&self, session: &SessionRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5)",
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
            "SELECT id, user_id, created_at, expires_at, revoked_at FROM sessions WHERE id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn end_session(&self, session: &SessionRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5) \
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
        self.write(sqlx::query!("DELETE FROM sessions WHERE expires_at < $1", at)).await?;
        Ok(())
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<()> {
        self.write(sqlx::query!(
            "INSERT INTO api_keys (id, organization_id, livemode, name, public_id, secret_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
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
            "SELECT id, organization_id, livemode, name, public_id, secret_hash, created_at, last_used_at, revoked_at \
             FROM api_keys WHERE id = $1",
            id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyRecord>> {
        sqlx::query_as!(
            ApiKeyRecord,
            "SELECT id, organization_id, livemode, name, public_id, secret_hash, created_at, last_used_at, revoked_at \
             FROM api_keys WHERE public_id = $1",
            public_id
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn api_keys_of(&self, organization_id: Uuid) -> Result<Vec<ApiKeyRecord>> {
        sqlx::query_as!(
            ApiKeyRecord,
            "SELECT id, organization_id, livemode, name, public_id, secret_hash, created_at, last_used_at, revoked_at \
             FROM api_keys WHERE organization_id = $1 ORDER BY created_at DESC, id DESC",
            organization_id
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn revoke_api_key(&self, id: Uuid, at: Timestamp) -> Result<()> {
        self.write(sqlx::query!("UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", at, id))
            .await?;
        Ok(())
    }

    async fn set_api_key_hash(&self, id: Uuid, secret_hash: &str) -> Result<()> {
        self.write(sqlx::query!("UPDATE api_keys SET secret_hash = $1 WHERE id = $2", secret_hash, id)).await?;
        Ok(())
    }

    async fn sip_passwords_without_prefix(&self, prefix: &str) -> Result<Vec<(Uuid, String)>> {
        let rows =
            sqlx::query!("SELECT id, sip_password FROM phone_numbers WHERE NOT starts_with(sip_password, $1)", prefix)
                .fetch_all(&self.pool)
                .await
                .map_err(classify)?;
        Ok(rows.into_iter().map(|row| (row.id, row.sip_password)).collect())
    }

    async fn reseal_sip_password(&self, id: Uuid, seen: &str, sealed: &str) -> Result<bool> {
        let resealed = self
            .write(sqlx::query!(
                "UPDATE phone_numbers SET sip_password = $1 WHERE id = $2 AND sip_password = $3",
                sealed,
                id,
                seen
            ))
            .await?;
        Ok(resealed.rows_affected() == 1)
    }

    async fn touch_api_key(&self, id: Uuid, at: Timestamp, unless_after: Timestamp) -> Result<()> {
        self.write(sqlx::query!(
            "UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
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
            " FROM inventory_numbers WHERE id = $1 AND livemode = $2",
            id,
            livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn inventory_by_ids(&self, livemode: bool, ids: &[Uuid]) -> Result<Vec<InventoryRecord>> {
        inventory_query!(
            InventoryRecord,
            "SELECT",
            " FROM inventory_numbers WHERE id = ANY($1) AND livemode = $2",
            ids,
            livemode
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn inventory_by_e164(&self, livemode: bool, e164: &str) -> Result<Option<InventoryRecord>> {
        inventory_query!(
            InventoryRecord,
            "SELECT",
            " FROM inventory_numbers WHERE e164 = $1 AND livemode = $2",
            e164,
            livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn search_inventory(&self, filter: &InventoryFilter, window: Window) -> Result<Counted<InventoryRecord>> {
        // Another organization's valid hold takes a number off sale to this viewer.
        read_page!(window, classify, |w| {
            inventory_query!(
                InventoryPageRow,
                "SELECT",
                r#", (SELECT COUNT(*) FROM inventory_numbers WHERE livemode = $1 AND available AND country = $2
              AND ($3::number_type IS NULL OR number_type = $3) AND ($4::text IS NULL OR e164 LIKE '%' || $4 || '%')
              AND (held_until IS NULL OR held_until <= now() OR held_by = $5)) AS "total!"
             FROM inventory_numbers WHERE livemode = $1 AND available AND country = $2
             AND ($3::number_type IS NULL OR number_type = $3) AND ($4::text IS NULL OR e164 LIKE '%' || $4 || '%')
             AND (held_until IS NULL OR held_until <= now() OR held_by = $5)
             ORDER BY e164 LIMIT $6 OFFSET $7"#,
                filter.livemode,
                filter.country,
                filter.number_type as _,
                filter.contains,
                filter.viewer,
                w.limit,
                w.offset
            )
            .fetch_all(&self.pool)
        })
    }

    async fn add_inventory(
        &self,
        numbers: &[InventoryRecord],
        progress: &mut (dyn FnMut(usize) + Send),
    ) -> Result<u64> {
        let mut tx = self.held().await?.begin("BEGIN").await?;
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
            "SELECT DISTINCT country FROM inventory_numbers WHERE livemode = $1 AND available ORDER BY country",
            livemode
        )
        .fetch_all(&self.pool)
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
        let (digits, name_part) = filter.search_parts();
        let count_it = known_total.is_none();
        // One statement for the page and its total (an uncorrelated subquery: an InitPlan, run
        // once, and only if CASE asks for it: not when the total is known).
        let mut page: Counted<NumberRecord> = read_page!(window, classify, |w| {
            numbers_query!(
                NumberPageRow,
                "SELECT",
                r#", CASE WHEN $10 THEN (SELECT COUNT(*) FROM phone_numbers
              WHERE organization_id = $1 AND livemode = $2 AND released_at IS NULL
              AND ($3::text IS NULL OR country = $3) AND ($4::number_type IS NULL OR number_type = $4)
              AND ($5::text IS NULL OR tags @> jsonb_build_array($5::text))
              AND ($6::text IS NULL OR e164 LIKE '%' || $6 || '%')
              AND ($7::text IS NULL OR lower(friendly_name) LIKE '%' || $7 || '%')) ELSE 0 END AS "total!"
             FROM phone_numbers WHERE organization_id = $1 AND livemode = $2 AND released_at IS NULL
             AND ($3::text IS NULL OR country = $3) AND ($4::number_type IS NULL OR number_type = $4)
             AND ($5::text IS NULL OR tags @> jsonb_build_array($5::text))
             AND ($6::text IS NULL OR e164 LIKE '%' || $6 || '%')
             AND ($7::text IS NULL OR lower(friendly_name) LIKE '%' || $7 || '%')
             ORDER BY created_at DESC, id DESC LIMIT $8 OFFSET $9"#,
                scope.organization_id,
                scope.livemode,
                filter.country,
                filter.number_type as _,
                filter.tag,
                digits,
                name_part,
                w.limit,
                w.offset,
                count_it
            )
            .fetch_all(&self.pool)
        })?;
        // The page's rows carry no total when it was known.
        if let Some(total) = known_total {
            page.total = total;
        }
        Ok(page)
    }

    async fn owned_groups(&self, scope: Scope) -> Result<Vec<kros_domain::OwnedGroup>> {
        // SUM of a bigint is a numeric in PostgreSQL: back to bigint (cents fit).
        sqlx::query_as!(
            kros_domain::OwnedGroup,
            r#"SELECT country, number_type AS "number_type: kros_domain::NumberType", currency, COUNT(*) AS "count!",
             SUM(monthly_cost_cents)::bigint AS "monthly_cost_cents!"
             FROM phone_numbers WHERE organization_id = $1 AND livemode = $2 AND released_at IS NULL
             GROUP BY country, number_type, currency ORDER BY country, number_type, currency"#,
            scope.organization_id,
            scope.livemode
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn number(&self, scope: Scope, id: Uuid) -> Result<Option<NumberRecord>> {
        numbers_query!(
            NumberRecord,
            "SELECT",
            " FROM phone_numbers WHERE id = $1 AND organization_id = $2 AND livemode = $3",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn audit_history(&self, phone_number_id: Uuid) -> Result<Vec<AuditRecord>> {
        audit_query!(
            AuditRecord,
            "SELECT",
            " FROM audit_log WHERE phone_number_id = $1 ORDER BY created_at, id",
            phone_number_id
        )
        .fetch_all(&self.pool)
        .await
        .map_err(classify)
    }

    async fn claim_idempotency_key(&self, scope: Scope, key: &str, request_hash: &str) -> Result<bool> {
        let inserted = self
            .write(sqlx::query!(
                "INSERT INTO idempotency_keys (organization_id, livemode, idempotency_key, request_hash) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (organization_id, livemode, idempotency_key) DO NOTHING",
                scope.organization_id,
                scope.livemode,
                key,
                request_hash
            ))
            .await?;
        Ok(inserted.rows_affected() == 1)
    }

    async fn idempotency_key(&self, scope: Scope, key: &str, ages: KeyAges) -> Result<Option<IdempotencyRecord>> {
        sqlx::query_as!(
            IdempotencyRecord,
            r#"SELECT request_hash, response_status, response_body,
             created_at <= now() - make_interval(secs => $4) AS "expired!",
             created_at <= now() - make_interval(secs => $5) AS "stale!"
             FROM idempotency_keys WHERE organization_id = $1 AND livemode = $2 AND idempotency_key = $3"#,
            scope.organization_id,
            scope.livemode,
            key,
            seconds(ages.keep),
            seconds(ages.stale)
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(classify)
    }

    async fn remove_expired_idempotency_key(&self, scope: Scope, key: &str, ages: KeyAges) -> Result<()> {
        self.write(sqlx::query!(
            "DELETE FROM idempotency_keys WHERE organization_id = $1 AND livemode = $2 AND idempotency_key = $3 \
             AND (created_at <= now() - make_interval(secs => $4) \
                  OR (response_status IS NULL AND created_at <= now() - make_interval(secs => $5)))",
            scope.organization_id,
            scope.livemode,
            key,
            seconds(ages.keep),
            seconds(ages.stale)
        ))
        .await?;
        Ok(())
    }

    async fn complete_idempotency_key(&self, scope: Scope, key: &str, status: u16, body: &str) -> Result<()> {
        let mut held = self.held().await?;
        let outcome = complete_key(held.conn(), scope, key, status, body).await;
        held.check(outcome)
    }

    async fn abandon_idempotency_key(&self, scope: Scope, key: &str) -> Result<()> {
        self.write(sqlx::query!(
            "DELETE FROM idempotency_keys WHERE organization_id = $1 AND livemode = $2 AND idempotency_key = $3 \
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
    conn: &mut PgConnection,
    scope: Scope,
    key: &str,
    status: u16,
    body: &str,
) -> std::result::Result<(), sqlx::Error> {
    sqlx::query!(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2 \
         WHERE organization_id = $3 AND livemode = $4 AND idempotency_key = $5",
        i32::from(status),
        body,
        scope.organization_id,
        scope.livemode,
        key
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A write transaction; the rows it reads to change are locked (`FOR UPDATE`) until it ends.
struct PgWriteTx {
    held: Held,
}

#[async_trait]
impl WriteTx for PgWriteTx {
    async fn number_for_update(&mut self, scope: Scope, id: Uuid) -> Result<Option<NumberRecord>> {
        let found = numbers_query!(
            NumberRecord,
            "SELECT",
            " FROM phone_numbers WHERE id = $1 AND organization_id = $2 AND livemode = $3 FOR UPDATE",
            id,
            scope.organization_id,
            scope.livemode
        )
        .fetch_optional(self.held.conn())
        .await;
        self.held.check(found)
    }

    async fn claim_inventory(&mut self, buyer: Scope, seen: &InventoryRecord) -> Result<bool> {
        let id = seen.id;
        // Locks the row, then judges the sale and the hold on it as they are.
        let own_hold = reservations::own_hold(&mut self.held, buyer.organization_id, id).await?;
        let claimed = sqlx::query!(
            "UPDATE inventory_numbers SET available = false, held_by = NULL, held_until = NULL, hold_id = NULL \
             WHERE id = $1 AND available AND setup_cost_cents = $2 AND monthly_cost_cents = $3 \
             AND (held_until IS NULL OR held_until <= now() OR held_by = $4)",
            id,
            seen.setup_cost_cents,
            seen.monthly_cost_cents,
            buyer.organization_id
        )
        .execute(self.held.conn())
        .await;
        let won = self.held.check(claimed)?.rows_affected() == 1;
        if let (true, Some(reservation_id)) = (won, own_hold) {
            reservations::mark_purchased(&mut self.held, reservation_id, id).await?;
        }
        Ok(won)
    }

    async fn return_inventory(&mut self, id: Uuid) -> Result<()> {
        let returned = sqlx::query!("UPDATE inventory_numbers SET available = true WHERE id = $1", id)
            .execute(self.held.conn())
            .await;
        self.held.check(returned)?;
        Ok(())
    }

    async fn insert_number(&mut self, n: &NumberRecord) -> Result<()> {
        let inserted = insert_number!(n).execute(self.held.conn()).await;
        self.held.check(inserted)?;
        Ok(())
    }

    async fn update_number(&mut self, n: &NumberRecord) -> Result<()> {
        let updated = update_number!(n).execute(self.held.conn()).await;
        self.held.check(updated)?;
        Ok(())
    }

    async fn delete_number(&mut self, id: Uuid) -> Result<()> {
        let deleted = sqlx::query!("DELETE FROM phone_numbers WHERE id = $1", id).execute(self.held.conn()).await;
        self.held.check(deleted)?;
        Ok(())
    }

    async fn append_audit(&mut self, e: &AuditRecord) -> Result<()> {
        let appended = insert_audit!(e).execute(self.held.conn()).await;
        self.held.check(appended)?;
        Ok(())
    }

    async fn enqueue_deliveries(&mut self, scope: Scope, event_id: Uuid, event_type: &str) -> Result<u64> {
        let enqueued = webhooks::enqueue(self.held.conn(), scope, event_id, event_type, None).await;
        Ok(self.held.check(enqueued)?.len() as u64)
    }

    async fn complete_idempotency_key(&mut self, scope: Scope, key: &str, status: u16, body: &str) -> Result<()> {
        let outcome = complete_key(self.held.conn(), scope, key, status, body).await;
        self.held.check(outcome)
    }

    async fn insert_reservation(&mut self, scope: Scope, id: Uuid, hold: Duration) -> Result<ReservationRecord> {
        reservations::insert_reservation(&mut self.held, scope, id, hold).await
    }

    async fn hold_inventory(
        &mut self,
        reservation: &ReservationRecord,
        inventory_ids: &[Uuid],
    ) -> Result<Option<Uuid>> {
        reservations::hold_inventory(&mut self.held, reservation, inventory_ids).await
    }

    async fn unheld_inventory_for_update(
        &mut self,
        filter: &InventoryFilter,
        quantity: i64,
    ) -> Result<Vec<InventoryRecord>> {
        reservations::unheld_inventory(&mut self.held, filter, quantity).await
    }

    async fn delete_reservation(&mut self, scope: Scope, id: Uuid) -> Result<bool> {
        reservations::delete_reservation(&mut self.held, scope, id).await
    }

    async fn insert_order(&mut self, order: &OrderRecord) -> Result<()> {
        orders::insert_order(&mut self.held, order).await
    }

    async fn count_webhook_endpoints_locked(&mut self, scope: Scope) -> Result<i64> {
        webhooks::count_endpoints_locked(&mut self.held, scope).await
    }

    async fn insert_webhook_endpoint(&mut self, endpoint: &WebhookEndpointRecord) -> Result<()> {
        webhooks::insert_endpoint(&mut self.held, endpoint).await
    }

    async fn commit(self: Box<Self>) -> Result<()> {
        self.held.finish("COMMIT").await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.held.finish("ROLLBACK").await
    }
}

#[cfg(test)]
mod tests {
    use super::is_transient;

    #[test]
    fn sqlstates_that_a_retry_may_cure_are_transient() {
        // Connection loss, no resources (disk full, too many connections), system errors,
        // shutdown, serialization failure, deadlock, a read-only transaction.
        for code in ["08006", "08001", "53100", "53300", "58030", "57P01", "57P03", "40001", "40P01", "25006"] {
            assert!(is_transient(code), "{code}");
        }
        // The request's own faults: a unique or check violation, a syntax error, a missing table.
        for code in ["23505", "23514", "42601", "42P01", "22P02"] {
            assert!(!is_transient(code), "{code}");
        }
    }
}
