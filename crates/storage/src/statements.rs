//! The statements written once for both databases: each macro expands, in the backend crate
//! that uses it, to a `query!`/`query_as!` that sqlx checks against that crate's own database.
//!
//! They hold what is the same text on SQLite and PostgreSQL: the column lists of the wide
//! records, and the inserts and updates of every column. Parameters are written `$1`, which
//! SQLite reads as well as PostgreSQL. A column read names its Rust type (`"id: uuid::Uuid"`):
//! SQLite stores ids as BLOBs, flags as 0/1, times and JSON as text, and needs the name;
//! PostgreSQL has these types natively, and the override changes nothing there. An argument
//! `as _` is one whose type PostgreSQL cannot match by name (enum types, `jsonb`, an actor kept
//! as text): its encoding is still the type's own.
//!
//! The statements left in each crate differ in the SQL itself: clocks (`now()` against a time
//! bound from this process), JSON (`jsonb` operators against `json_each`), booleans (`available`
//! against `available = 1`), `FOR UPDATE` and `SKIP LOCKED`, id lists (`= ANY($1)` against one
//! bind per id), and each database's own housekeeping.

/// `query_as!` whose columns are a record's: `$head`, the columns, then `$tail` (which may add
/// columns first, like a page's total).
#[doc(hidden)]
#[macro_export]
macro_rules! query_with_columns {
    ($columns:literal; $record:ty, $head:literal, $tail:literal $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!($record, $head + $columns + $tail $(, $arg)*)
    };
}

/// `query_as!` reading [`crate::NumberRecord`]s: `numbers_query!(Record, "SELECT", " FROM ...", args)`.
#[macro_export]
macro_rules! numbers_query {
    ($($input:tt)*) => {
        $crate::query_with_columns!(
            r#" id AS "id!: uuid::Uuid", organization_id AS "organization_id!: uuid::Uuid",
            inventory_id AS "inventory_id!: uuid::Uuid", livemode AS "livemode!: bool", e164 AS "e164!", country AS "country!",
            number_type AS "number_type!: kros_domain::NumberType", status AS "status!: kros_domain::NumberStatus",
            endpoint_id AS "endpoint_id?: uuid::Uuid", allow_inbound AS "allow_inbound!: bool",
            allow_outbound AS "allow_outbound!: bool", sip_username AS "sip_username!", sip_password AS "sip_password!", setup_cost_cents AS "setup_cost_cents!",
            monthly_cost_cents AS "monthly_cost_cents!", currency AS "currency!", created_at AS "created_at!: kros_storage::Timestamp",
            updated_at AS "updated_at!: kros_storage::Timestamp", released_at AS "released_at?: kros_storage::Timestamp",
            friendly_name AS "friendly_name!", tags AS "tags!: sqlx::types::Json<Vec<String>>", deletion_locked AS "deletion_locked!: bool" "#;
            $($input)*
        )
    };
}

/// `query_as!` reading [`crate::InventoryRecord`]s (see [`numbers_query!`]).
#[macro_export]
macro_rules! inventory_query {
    ($($input:tt)*) => {
        $crate::query_with_columns!(
            r#" id AS "id!: uuid::Uuid", livemode AS "livemode!: bool", e164 AS "e164!", country AS "country!",
            number_type AS "number_type!: kros_domain::NumberType", setup_cost_cents AS "setup_cost_cents!", monthly_cost_cents AS "monthly_cost_cents!", currency AS "currency!",
            available AS "available!: bool", created_at AS "created_at!: kros_storage::Timestamp",
            held_by AS "held_by?: uuid::Uuid", held_until AS "held_until?: kros_storage::Timestamp" "#;
            $($input)*
        )
    };
}

/// `query_as!` reading [`crate::AuditRecord`]s, the events (see [`numbers_query!`]).
#[macro_export]
macro_rules! audit_query {
    ($($input:tt)*) => {
        $crate::query_with_columns!(
            r#" id AS "id!: uuid::Uuid", organization_id AS "organization_id!: uuid::Uuid", livemode AS "livemode!: bool",
            phone_number_id AS "phone_number_id?: uuid::Uuid", action AS "action!: kros_storage::AuditAction",
            actor AS "actor!: kros_domain::Actor",
            before_state AS "before_state?: sqlx::types::Json<serde_json::Value>",
            after_state AS "after_state?: sqlx::types::Json<serde_json::Value>",
            created_at AS "created_at!: kros_storage::Timestamp" "#;
            $($input)*
        )
    };
}

/// `query_as!` reading [`crate::WebhookEndpointRecord`]s (see [`numbers_query!`]).
#[macro_export]
macro_rules! webhook_endpoints_query {
    ($($input:tt)*) => {
        $crate::query_with_columns!(
            r#" id AS "id!: uuid::Uuid", organization_id AS "organization_id!: uuid::Uuid", livemode AS "livemode!: bool",
            url AS "url!", description AS "description!", event_types AS "event_types?: sqlx::types::Json<Vec<kros_domain::EventType>>",
            enabled AS "enabled!: bool", disabled_reason AS "disabled_reason?", secret AS "secret!", previous_secret AS "previous_secret?",
            previous_secret_expires_at AS "previous_secret_expires_at?: kros_storage::Timestamp",
            failing_since AS "failing_since?: kros_storage::Timestamp", created_at AS "created_at!: kros_storage::Timestamp",
            updated_at AS "updated_at!: kros_storage::Timestamp" "#;
            $($input)*
        )
    };
}

/// Inserts a phone number, every column of `$n` (a `&NumberRecord`).
#[macro_export]
macro_rules! insert_number {
    ($n:expr) => {
        sqlx::query!(
            "INSERT INTO phone_numbers (id, organization_id, inventory_id, livemode, e164, country, number_type, \
             status, endpoint_id, allow_inbound, allow_outbound, sip_username, sip_password, setup_cost_cents, \
             monthly_cost_cents, currency, created_at, updated_at, released_at, friendly_name, tags, deletion_locked) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
            $n.id,
            $n.organization_id,
            $n.inventory_id,
            $n.livemode,
            $n.e164,
            $n.country,
            $n.number_type as _,
            $n.status as _,
            $n.endpoint_id,
            $n.allow_inbound,
            $n.allow_outbound,
            $n.sip_username,
            $n.sip_password,
            $n.setup_cost_cents,
            $n.monthly_cost_cents,
            $n.currency,
            $n.created_at,
            $n.updated_at,
            $n.released_at,
            $n.friendly_name,
            $n.tags as _,
            $n.deletion_locked
        )
    };
}

/// Writes every column of `$n` (a `&NumberRecord`) a number's life may change.
#[macro_export]
macro_rules! update_number {
    ($n:expr) => {
        sqlx::query!(
            "UPDATE phone_numbers SET endpoint_id = $2, allow_inbound = $3, allow_outbound = $4, status = $5, \
             updated_at = $6, released_at = $7, sip_password = $8, friendly_name = $9, tags = $10, \
             deletion_locked = $11 WHERE id = $1",
            $n.id,
            $n.endpoint_id,
            $n.allow_inbound,
            $n.allow_outbound,
            $n.status as _,
            $n.updated_at,
            $n.released_at,
            $n.sip_password,
            $n.friendly_name,
            $n.tags as _,
            $n.deletion_locked
        )
    };
}

/// Adds `$n` (a `&InventoryRecord`, without its hold) to the inventory, unless its number is there.
#[macro_export]
macro_rules! insert_inventory {
    ($n:expr) => {
        sqlx::query!(
            "INSERT INTO inventory_numbers (id, livemode, e164, country, number_type, setup_cost_cents, \
             monthly_cost_cents, currency, available, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (livemode, e164) DO NOTHING",
            $n.id,
            $n.livemode,
            $n.e164,
            $n.country,
            $n.number_type as _,
            $n.setup_cost_cents,
            $n.monthly_cost_cents,
            $n.currency,
            $n.available,
            $n.created_at
        )
    };
}

/// Appends `$e` (a `&AuditRecord`) to the audit log.
#[macro_export]
macro_rules! insert_audit {
    ($e:expr) => {
        sqlx::query!(
            "INSERT INTO audit_log (id, organization_id, livemode, phone_number_id, action, actor, \
             before_state, after_state, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            $e.id,
            $e.organization_id,
            $e.livemode,
            $e.phone_number_id,
            $e.action as _,
            $e.actor as _,
            $e.before_state as _,
            $e.after_state as _,
            $e.created_at
        )
    };
}

/// Records `$a` (a `&AttemptRecord`), one delivery attempt.
#[macro_export]
macro_rules! insert_attempt {
    ($a:expr) => {
        sqlx::query!(
            "INSERT INTO webhook_attempts (id, event_id, endpoint_id, attempted_at, succeeded, response_status, \
             latency_ms, response_body, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            $a.id,
            $a.event_id,
            $a.endpoint_id,
            $a.attempted_at,
            $a.succeeded,
            $a.response_status,
            $a.latency_ms,
            $a.response_body,
            $a.error
        )
    };
}

/// Inserts a webhook endpoint, every column of `$e` (a `&WebhookEndpointRecord`).
#[macro_export]
macro_rules! insert_webhook_endpoint {
    ($e:expr) => {
        sqlx::query!(
            "INSERT INTO webhook_endpoints (id, organization_id, livemode, url, description, event_types, enabled, \
             disabled_reason, secret, previous_secret, previous_secret_expires_at, failing_since, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            $e.id,
            $e.organization_id,
            $e.livemode,
            $e.url,
            $e.description,
            $e.event_types as _,
            $e.enabled,
            $e.disabled_reason,
            $e.secret,
            $e.previous_secret,
            $e.previous_secret_expires_at,
            $e.failing_since,
            $e.created_at,
            $e.updated_at
        )
    };
}

/// Inserts a bulk order, every column of `$o` (a `&OrderRecord`).
#[macro_export]
macro_rules! insert_order {
    ($o:expr) => {
        sqlx::query!(
            "INSERT INTO number_orders (id, organization_id, livemode, total_cost_cents, currency, numbers, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            $o.id,
            $o.organization_id,
            $o.livemode,
            $o.total_cost_cents,
            $o.currency,
            $o.numbers as _,
            $o.created_at
        )
    };
}

/// `query_as!` reading [`crate::EndpointRecord`]s (see [`numbers_query!`]).
#[macro_export]
macro_rules! endpoints_query {
    ($($input:tt)*) => {
        $crate::query_with_columns!(
            r#" id AS "id!: uuid::Uuid", livemode AS "livemode!: bool", name AS "name!",
            targets AS "targets!: sqlx::types::Json<Vec<String>>", failover_timeout_secs AS "failover_timeout_secs!",
            created_at AS "created_at!: kros_storage::Timestamp", updated_at AS "updated_at!: kros_storage::Timestamp" "#;
            $($input)*
        )
    };
}

/// Inserts `$e` (a `&EndpointRecord`) for `$scope`.
#[macro_export]
macro_rules! insert_endpoint {
    ($scope:expr, $e:expr) => {
        sqlx::query!(
            "INSERT INTO endpoints (id, organization_id, livemode, name, targets, failover_timeout_secs, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            $e.id,
            $scope.organization_id,
            $scope.livemode,
            $e.name,
            $e.targets as _,
            $e.failover_timeout_secs,
            $e.created_at,
            $e.updated_at
        )
    };
}

/// Writes the fields `$changes` (a `&EndpointChanges`) gives of the scope's endpoint `$id`, and
/// reads it back.
#[macro_export]
macro_rules! change_endpoint {
    ($scope:expr, $id:expr, $changes:expr, $at:expr) => {
        $crate::endpoints_query!(
            kros_storage::EndpointRecord,
            "UPDATE endpoints SET name = COALESCE($4, name), targets = COALESCE($5, targets), \
             failover_timeout_secs = COALESCE($6, failover_timeout_secs), updated_at = $7 \
             WHERE id = $1 AND organization_id = $2 AND livemode = $3 RETURNING",
            "",
            $id,
            $scope.organization_id,
            $scope.livemode,
            $changes.name,
            $changes.targets as _,
            $changes.failover_timeout_secs,
            $at
        )
    };
}

/// `query_as!` of the [`crate::InboundRouteRecord`] of a call to `$e164` in `$livemode`.
#[macro_export]
macro_rules! inbound_route_query {
    ($e164:expr, $livemode:expr) => {
        sqlx::query_as!(
            kros_storage::InboundRouteRecord,
            r#"SELECT n.id AS "number_id!: uuid::Uuid", n.organization_id AS "organization_id!: uuid::Uuid",
             n.e164 AS "e164!", n.livemode AS "livemode!: bool", n.status AS "status!: kros_domain::NumberStatus",
             n.allow_inbound AS "allow_inbound!: bool", n.sip_username AS "sip_username!",
             e.targets AS "targets?: sqlx::types::Json<Vec<String>>", e.failover_timeout_secs AS "failover_timeout_secs?: i64"
             FROM phone_numbers n LEFT JOIN endpoints e ON e.id = n.endpoint_id
             WHERE n.e164 = $1 AND n.livemode = $2 AND n.released_at IS NULL"#,
            $e164,
            $livemode
        )
    };
}

/// `query_as!` of the [`crate::SipAccountRecord`] of the SIP user name `$username`.
#[macro_export]
macro_rules! sip_account_query {
    ($username:expr) => {
        sqlx::query_as!(
            kros_storage::SipAccountRecord,
            r#"SELECT id AS "number_id!: uuid::Uuid", organization_id AS "organization_id!: uuid::Uuid", e164 AS "e164!",
             livemode AS "livemode!: bool", status AS "status!: kros_domain::NumberStatus",
             allow_outbound AS "allow_outbound!: bool", sip_username AS "sip_username!",
             sip_password AS "sip_password!", released_at AS "released_at?: kros_storage::Timestamp"
             FROM phone_numbers WHERE sip_username = $1"#,
            $username
        )
    };
}

/// Inserts `$d` (a `&CallDecisionRecord`).
#[macro_export]
macro_rules! insert_call_decision {
    ($d:expr) => {
        sqlx::query!(
            "INSERT INTO call_decisions (id, number_id, organization_id, livemode, decided_at, caller, decision, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            $d.id,
            $d.number_id,
            $d.organization_id,
            $d.livemode,
            $d.decided_at,
            $d.caller,
            $d.decision,
            $d.detail
        )
    };
}

/// `query_as!` of the latest `$limit` decisions of `$scope`'s number `$number_id`, newest first.
#[macro_export]
macro_rules! call_decisions_query {
    ($scope:expr, $number_id:expr, $limit:expr) => {
        sqlx::query_as!(
            kros_storage::CallDecisionRecord,
            r#"SELECT id AS "id!: uuid::Uuid", number_id AS "number_id!: uuid::Uuid",
             organization_id AS "organization_id!: uuid::Uuid", livemode AS "livemode!: bool",
             decided_at AS "decided_at!: kros_storage::Timestamp", caller AS "caller!", decision AS "decision!",
             detail AS "detail!"
             FROM call_decisions WHERE number_id = $1 AND organization_id = $2 AND livemode = $3
             ORDER BY decided_at DESC, id DESC LIMIT $4"#,
            $number_id,
            $scope.organization_id,
            $scope.livemode,
            $limit
        )
    };
}
