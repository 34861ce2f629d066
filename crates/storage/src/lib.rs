//! Storage: one interface, one implementation per database, each in its own terms.
//!
//! The service layer (`kros-service`) decides every rule (tenancy, the price guard, the purchase
//! claim, idempotency, release and delete, the audit log) and reaches the database only through
//! [`Storage`] and [`WriteTx`]. What differs per database lives below them, in a crate each:
//!
//! - `kros-storage-sqlite`: STRICT tables, UUIDs as 16-byte BLOBs, one writer connection (`BEGIN
//!   IMMEDIATE`) plus a small read pool, WAL; the file is watched so that a removed database is
//!   noticed;
//! - `kros-storage-postgres`: `uuid`, `timestamptz`, `boolean`, enum types and `jsonb`, row locks
//!   with `FOR UPDATE`, one pool.
//!
//! The app chooses the backend once, by the URL. Rows decode into [`records`] (native Rust types,
//! decoded by sqlx itself) and errors into [`StorageError`], which keeps its cause.

/// Defines a record and its page row: the record's columns and the total the page's filter
/// matches (what a checked `query_as!` of a page reads into: it cannot flatten a record), which
/// becomes a [`WithTotal`] of the record.
macro_rules! record_with_page_row {
    (
        $(#[$meta:meta])*
        pub struct $Record:ident, paged as $Row:ident {
            $( $(#[$field_meta:meta])* pub $field:ident: $ty:ty, )*
        }
    ) => {
        $(#[$meta])*
        pub struct $Record { $( $(#[$field_meta])* pub $field: $ty, )* }

        #[doc = concat!("A row of a page of [`", stringify!($Record), "`]s, with the total its filter matches.")]
        #[derive(Debug)]
        pub struct $Row { $( pub $field: $ty, )* pub total: i64 }

        impl From<$Row> for $crate::WithTotal<$Record> {
            fn from(row: $Row) -> Self {
                $crate::WithTotal { row: $Record { $( $field: row.$field, )* }, total: row.total }
            }
        }
    };
}

pub mod calls;
pub mod endpoints;
pub mod held;
pub mod orders;
pub mod records;
pub mod reservations;
pub mod statements;
pub mod webhooks;

pub use calls::*;
pub use endpoints::*;
pub use orders::*;
pub use records::*;
pub use reservations::*;
pub use webhooks::*;

use async_trait::async_trait;
use std::time::Duration;
use uuid::Uuid;

/// A storage failure. Each backend sorts its own error codes into these.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The database cannot serve now (down, busy, disk full, read-only, file removed): a retry
    /// later may work, and nothing was written.
    #[error("the database is unavailable")]
    Unavailable(#[source] BoxError),
    /// A unique constraint refused the row (a lost race for a unique value).
    #[error("a unique constraint refused the row")]
    UniqueViolation(#[source] sqlx::Error),
    /// Anything else: a bug or a damaged database.
    #[error("database error")]
    Failed(#[source] BoxError),
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// How the pools are sized (flags or environment, see `cli`).
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// PostgreSQL: the pool's size (16 if unset). SQLite: the read pool's size (two per core
    /// if unset, 2 to 16; there is always one writer).
    pub max_connections: Option<u32>,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_connections: None, acquire_timeout: Duration::from_secs(3) }
    }
}

/// Whether [`open`] may create a SQLite database that does not exist yet. `serve` never does:
/// an empty database in place of a missing one would answer every key with 401 and lose sight
/// of every sale (creating it is `migrate`'s job).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfMissing {
    Create,
    Refuse,
}

/// Why the database could not be opened (reported at start, never over HTTP).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{0}")]
    Config(String),
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[source] sqlx::migrate::MigrateError),
}

/// Who a read or write is for: an organization's data in one mode. Every query on tenant data
/// takes one, so no query can forget the tenancy filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub organization_id: Uuid,
    pub livemode: bool,
}

/// A page of rows and the total the filter matches.
#[derive(Debug, Clone)]
pub struct Counted<T> {
    pub rows: Vec<T>,
    pub total: i64,
}

impl<T> Counted<T> {
    /// The rows with a total already known (their own totals are not read).
    pub fn known(rows: Vec<WithTotal<T>>, total: i64) -> Self {
        Counted { rows: rows.into_iter().map(|r| r.row).collect(), total }
    }
}

/// A page's rows (each with the filter's total) as a [`Counted`]. Past the end no row carries
/// the total: then `first_row`, the same statement for [`Window::FIRST_ROW`], tells it.
pub async fn counted<T, R: Into<WithTotal<T>>>(
    rows: Vec<R>,
    window: Window,
    first_row: impl std::future::Future<Output = std::result::Result<Vec<R>, sqlx::Error>>,
    classify: fn(sqlx::Error) -> StorageError,
) -> Result<Counted<T>> {
    let rows: Vec<WithTotal<T>> = rows.into_iter().map(Into::into).collect();
    let total = match rows.first() {
        Some(first) => first.total,
        None if window.offset == 0 => 0,
        None => first_row.await.map_err(classify)?.into_iter().next().map_or(0, |row| row.into().total),
    };
    Ok(Counted::known(rows, total))
}

/// Reads a page and its total: `read_page!(window, classify, |w| <the page's statement for
/// window w, as a future of its rows>)`. The statement is written once and expanded twice: for
/// the page, and for [`Window::FIRST_ROW`] should the page be past the end (see [`counted`]).
#[macro_export]
macro_rules! read_page {
    ($window:expr, $classify:expr, |$w:ident| $page:expr) => {{
        let window: $crate::Window = $window;
        let rows = {
            let $w = window;
            $page.await.map_err($classify)?
        };
        let $w = $crate::Window::FIRST_ROW;
        $crate::counted(rows, window, $page, $classify).await
    }};
}

/// Limit and offset, already validated.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
}

impl Window {
    /// The first row alone: what a page past the end reads its total from.
    pub const FIRST_ROW: Window = Window { limit: 1, offset: 0 };
}

/// A list request's page, as the storage reads it.
impl From<kros_domain::parse::PageRequest> for Window {
    fn from(page: kros_domain::parse::PageRequest) -> Self {
        Window { limit: page.limit, offset: page.offset }
    }
}

/// How old an Idempotency-Key record may be (see `service::idempotency`): the database compares
/// with its own clock.
#[derive(Debug, Clone, Copy)]
pub struct KeyAges {
    /// A record this old is expired, answered or not.
    pub keep: Duration,
    /// A record this old without an answer belongs to a request that died.
    pub stale: Duration,
}

/// Everything the service layer asks of a database, outside write transactions (events and
/// webhooks in [`WebhookStorage`], reservations in [`ReservationStorage`], orders in
/// [`OrderStorage`]).
#[async_trait]
pub trait Storage:
    EndpointStorage + CallStorage + WebhookStorage + ReservationStorage + OrderStorage + Send + Sync
{
    /// Readiness: can the database take a write right now? (A tiny write, really done.)
    async fn probe_write(&self) -> Result<()>;
    /// Closes every connection; later calls answer `Unavailable`.
    async fn close(&self);
    /// Starts a write transaction (see [`WriteTx`]).
    async fn begin_write(&self) -> Result<Box<dyn WriteTx>>;

    // Installation settings
    /// The named value, inserting `fresh` first if there is none (the first writer wins).
    async fn setting_or_insert(&self, name: &str, fresh: &str) -> Result<String>;

    // Organizations, users, memberships
    async fn insert_organization(&self, org: &OrganizationRecord) -> Result<()>;
    async fn organization_exists(&self, id: Uuid) -> Result<bool>;
    /// A user and their first membership, together.
    async fn insert_user(&self, user: &UserRecord, organization_id: Uuid) -> Result<()>;
    /// A user known only by id (a JWT `sub`); an existing one is left alone.
    async fn insert_user_if_absent(&self, user: &UserRecord) -> Result<()>;
    async fn insert_membership(&self, user_id: Uuid, organization_id: Uuid) -> Result<()>;
    async fn user_by_id(&self, id: Uuid) -> Result<Option<UserRecord>>;
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>>;
    /// The user's email and organizations (oldest membership first), in one query.
    async fn account(&self, user_id: Uuid) -> Result<Option<AccountRecord>>;

    // Dashboard sessions
    async fn insert_session(&self, session: &SessionRecord) -> Result<()>;
    async fn session(&self, id: Uuid) -> Result<Option<SessionRecord>>;
    /// Records the session as revoked at `session.revoked_at` (inserting it if it is not known:
    /// a Supabase session); an earlier revocation stands.
    async fn end_session(&self, session: &SessionRecord) -> Result<()>;
    async fn forget_sessions_expired_before(&self, at: Timestamp) -> Result<()>;

    // API keys
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    async fn api_key_by_id(&self, id: Uuid) -> Result<Option<ApiKeyRecord>>;
    async fn api_key_by_public_id(&self, public_id: &str) -> Result<Option<ApiKeyRecord>>;
    /// The organization's keys, newest first.
    async fn api_keys_of(&self, organization_id: Uuid) -> Result<Vec<ApiKeyRecord>>;
    /// Sets `revoked_at` unless already set.
    async fn revoke_api_key(&self, id: Uuid, at: Timestamp) -> Result<()>;
    /// Replaces a key's stored hash (moving it to a new pepper).
    async fn set_api_key_hash(&self, id: Uuid, secret_hash: &str) -> Result<()>;
    /// Sets `last_used_at = at` unless it is already later than `unless_after`.
    async fn touch_api_key(&self, id: Uuid, at: Timestamp, unless_after: Timestamp) -> Result<()>;

    // Inventory
    async fn inventory_by_id(&self, livemode: bool, id: Uuid) -> Result<Option<InventoryRecord>>;
    /// Those of `ids` in the mode's inventory, in one query (in no particular order).
    async fn inventory_by_ids(&self, livemode: bool, ids: &[Uuid]) -> Result<Vec<InventoryRecord>>;
    async fn inventory_by_e164(&self, livemode: bool, e164: &str) -> Result<Option<InventoryRecord>>;
    /// Numbers for sale, by E.164.
    async fn search_inventory(&self, filter: &InventoryFilter, window: Window) -> Result<Counted<InventoryRecord>>;
    /// Adds numbers in one transaction, skipping those already in the mode's inventory;
    /// `progress` is told how many were written so far. Returns how many were added.
    async fn add_inventory(&self, numbers: &[InventoryRecord], progress: &mut (dyn FnMut(usize) + Send))
        -> Result<u64>;
    /// The countries with numbers for sale in a mode, alphabetically.
    async fn inventory_countries(&self, livemode: bool) -> Result<Vec<String>>;

    // Phone numbers
    /// The scope's numbers that are not released, newest first. `known_total`: the filter's total
    /// when the caller has it already (the numbers page, from its owned groups), so it is not counted.
    async fn assigned_numbers(
        &self,
        scope: Scope,
        filter: &AssignedFilter,
        window: Window,
        known_total: Option<i64>,
    ) -> Result<Counted<NumberRecord>>;
    async fn number(&self, scope: Scope, id: Uuid) -> Result<Option<NumberRecord>>;
    /// The scope's numbers that are not released, counted by country, type and currency.
    async fn owned_groups(&self, scope: Scope) -> Result<Vec<kros_domain::OwnedGroup>>;
    /// The stored SIP passwords that do not start with `prefix` (those in clear text or sealed
    /// under an old key, to be sealed again).
    async fn sip_passwords_without_prefix(&self, prefix: &str) -> Result<Vec<(Uuid, String)>>;
    /// Replaces the stored SIP password with the same password sealed again, if it is still
    /// `seen` (a new password set meanwhile, by a release, wins). True if replaced.
    async fn reseal_sip_password(&self, id: Uuid, seen: &str, sealed: &str) -> Result<bool>;

    // Audit log
    /// One number's history, oldest first.
    async fn audit_history(&self, phone_number_id: Uuid) -> Result<Vec<AuditRecord>>;

    // Idempotency keys
    /// Inserts the key's record unless one exists; true if this call inserted it.
    async fn claim_idempotency_key(&self, scope: Scope, key: &str, request_hash: &str) -> Result<bool>;
    async fn idempotency_key(&self, scope: Scope, key: &str, ages: KeyAges) -> Result<Option<IdempotencyRecord>>;
    /// Removes the key's record if it is still expired, or still stale and unanswered.
    async fn remove_expired_idempotency_key(&self, scope: Scope, key: &str, ages: KeyAges) -> Result<()>;
    async fn complete_idempotency_key(&self, scope: Scope, key: &str, status: u16, body: &str) -> Result<()>;
    /// Removes the key's record if it has no answer yet.
    async fn abandon_idempotency_key(&self, scope: Scope, key: &str) -> Result<()>;
}

/// A write transaction. Dropped without [`WriteTx::commit`], it rolls back; a connection whose
/// `COMMIT` or `ROLLBACK` failed is closed, never handed out again.
#[async_trait]
pub trait WriteTx: Send {
    /// Reads the scope's number and holds it until the end of the transaction.
    async fn number_for_update(&mut self, scope: Scope, id: Uuid) -> Result<Option<NumberRecord>>;
    /// Takes the inventory number `seen` off sale for `buyer`, if it is still for sale at exactly
    /// the price `seen` has and no other organization holds it. A hold of the buyer's is consumed
    /// (its reservation records the purchase). True if this transaction won it.
    async fn claim_inventory(&mut self, buyer: Scope, seen: &InventoryRecord) -> Result<bool>;
    /// Puts an inventory number back on sale.
    async fn return_inventory(&mut self, id: Uuid) -> Result<()>;
    async fn insert_number(&mut self, number: &NumberRecord) -> Result<()>;
    /// Writes the number's changeable columns (endpoint, flags, status, times, SIP password).
    async fn update_number(&mut self, number: &NumberRecord) -> Result<()>;
    async fn delete_number(&mut self, id: Uuid) -> Result<()>;
    async fn append_audit(&mut self, entry: &AuditRecord) -> Result<()>;
    /// The outbox: a pending delivery of the event, due now, for each enabled endpoint of the
    /// scope subscribed to `event_type`. Returns how many.
    async fn enqueue_deliveries(&mut self, scope: Scope, event_id: Uuid, event_type: &str) -> Result<u64>;
    async fn complete_idempotency_key(&mut self, scope: Scope, key: &str, status: u16, body: &str) -> Result<()>;

    // Reservations (see [`reservations`])
    /// Inserts a reservation of the scope's that ends `hold` from now, by the database's clock.
    async fn insert_reservation(&mut self, scope: Scope, id: Uuid, hold: Duration) -> Result<ReservationRecord>;
    /// Holds every one of `inventory_ids` (of the scope's mode) for the reservation until it
    /// ends, and records them as its items in this order; a hold of the scope's own on one of
    /// them moves to this reservation. Stops at the first number that is sold, held by another
    /// organization or not in the mode's inventory, and returns it (the caller rolls back).
    async fn hold_inventory(&mut self, reservation: &ReservationRecord, inventory_ids: &[Uuid])
        -> Result<Option<Uuid>>;
    /// Up to `quantity` numbers matching `filter`, for sale and held by nobody, by E.164; each is
    /// locked until the transaction ends, and those other transactions have locked are skipped.
    async fn unheld_inventory_for_update(
        &mut self,
        filter: &InventoryFilter,
        quantity: i64,
    ) -> Result<Vec<InventoryRecord>>;
    /// Frees the holds of the scope's reservation and removes it. False if the scope has no such
    /// reservation.
    async fn delete_reservation(&mut self, scope: Scope, id: Uuid) -> Result<bool>;

    // Orders (see [`orders`])
    async fn insert_order(&mut self, order: &OrderRecord) -> Result<()>;

    // Webhook endpoints (see [`webhooks`])
    /// The scope's webhook endpoints, counted; no other transaction adds one to the scope until
    /// this one ends (so a limit checked on the count holds when this transaction inserts).
    async fn count_webhook_endpoints_locked(&mut self, scope: Scope) -> Result<i64>;
    async fn insert_webhook_endpoint(&mut self, endpoint: &WebhookEndpointRecord) -> Result<()>;

    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;
}
