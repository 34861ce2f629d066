-- The schema in SQLite's own terms, rebuilt in place from the portable one of the first two
-- migrations (the data of existing installations is kept):
--   STRICT tables; ids are UUIDs as 16-byte BLOBs (what sqlx stores for a `Uuid`); times are
--   RFC 3339 UTC text with a `+00:00` offset (what sqlx stores for a `DateTime<Utc>`; they sort as
--   text); flags are INTEGER 0/1 (sqlx's `bool`); the enums are TEXT limited by CHECK.
--
-- SQLite cannot change a column's type: each table is rebuilt (create new, copy, drop, rename),
-- as SQLite's documentation describes. That needs foreign keys off, which a PRAGMA cannot change
-- inside the migration's transaction, so `storage::sqlite` runs migrations on a connection
-- opened with foreign keys off, and runs `PRAGMA foreign_key_check` before it is done.

CREATE TABLE settings_new (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO settings_new SELECT name, value FROM settings;

CREATE TABLE organizations_new (
    id         BLOB PRIMARY KEY CHECK (length(id) = 16),
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
INSERT INTO organizations_new
    SELECT unhex(replace(id, '-', '')), name, replace(created_at, 'Z', '+00:00') FROM organizations;

CREATE TABLE users_new (
    id            BLOB PRIMARY KEY CHECK (length(id) = 16),
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at    TEXT NOT NULL
) STRICT;
INSERT INTO users_new
    SELECT unhex(replace(id, '-', '')), email, password_hash, replace(created_at, 'Z', '+00:00') FROM users;

CREATE TABLE memberships_new (
    user_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, organization_id)
) STRICT;
INSERT INTO memberships_new
    SELECT unhex(replace(user_id, '-', '')), unhex(replace(organization_id, '-', '')),
           replace(created_at, 'Z', '+00:00')
    FROM memberships;

CREATE TABLE api_keys_new (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    name            TEXT NOT NULL,
    public_id       TEXT NOT NULL UNIQUE,
    secret_hash     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
) STRICT;
INSERT INTO api_keys_new
    SELECT unhex(replace(id, '-', '')), unhex(replace(organization_id, '-', '')), livemode, name,
           public_id, secret_hash, replace(created_at, 'Z', '+00:00'),
           replace(last_used_at, 'Z', '+00:00'), replace(revoked_at, 'Z', '+00:00')
    FROM api_keys;

CREATE TABLE endpoints_new (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL
) STRICT;
INSERT INTO endpoints_new
    SELECT unhex(replace(id, '-', '')), unhex(replace(organization_id, '-', '')), livemode, name,
           replace(created_at, 'Z', '+00:00')
    FROM endpoints;

CREATE TABLE inventory_numbers_new (
    id                 BLOB PRIMARY KEY CHECK (length(id) = 16),
    livemode           INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    e164               TEXT NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL CHECK (number_type IN ('local', 'mobile', 'toll_free', 'national')),
    setup_cost_cents   INTEGER NOT NULL CHECK (setup_cost_cents >= 0),
    monthly_cost_cents INTEGER NOT NULL CHECK (monthly_cost_cents >= 0),
    currency           TEXT NOT NULL,
    available          INTEGER NOT NULL CHECK (available IN (0, 1)),
    created_at         TEXT NOT NULL,
    UNIQUE (livemode, e164)
) STRICT;
INSERT INTO inventory_numbers_new
    SELECT unhex(replace(id, '-', '')), livemode, e164, country, number_type, setup_cost_cents,
           monthly_cost_cents, currency, available, replace(created_at, 'Z', '+00:00')
    FROM inventory_numbers;

CREATE TABLE phone_numbers_new (
    id                 BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id    BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    inventory_id       BLOB NOT NULL REFERENCES inventory_numbers (id),
    livemode           INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    e164               TEXT NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL CHECK (number_type IN ('local', 'mobile', 'toll_free', 'national')),
    status             TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    endpoint_id        BLOB REFERENCES endpoints (id) ON DELETE SET NULL,
    allow_inbound      INTEGER NOT NULL CHECK (allow_inbound IN (0, 1)),
    allow_outbound     INTEGER NOT NULL CHECK (allow_outbound IN (0, 1)),
    sip_username       TEXT NOT NULL,
    sip_password       TEXT NOT NULL,
    setup_cost_cents   INTEGER NOT NULL,
    monthly_cost_cents INTEGER NOT NULL,
    currency           TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    released_at        TEXT
) STRICT;
INSERT INTO phone_numbers_new
    SELECT unhex(replace(id, '-', '')), unhex(replace(organization_id, '-', '')),
           unhex(replace(inventory_id, '-', '')), livemode, e164, country, number_type, status,
           unhex(replace(endpoint_id, '-', '')), allow_inbound, allow_outbound, sip_username,
           sip_password, setup_cost_cents, monthly_cost_cents, currency,
           replace(created_at, 'Z', '+00:00'), replace(updated_at, 'Z', '+00:00'),
           replace(released_at, 'Z', '+00:00')
    FROM phone_numbers;

-- While response_status is null the first request is still running.
CREATE TABLE idempotency_keys_new (
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status INTEGER,
    response_body   TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, livemode, idempotency_key)
) STRICT;
INSERT INTO idempotency_keys_new
    SELECT unhex(replace(organization_id, '-', '')), livemode, idempotency_key, request_hash,
           response_status, response_body, replace(created_at, 'Z', '+00:00')
    FROM idempotency_keys;

-- Append-only; deliberately without foreign keys so that it outlives what it describes.
CREATE TABLE audit_log_new (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id BLOB NOT NULL,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    phone_number_id BLOB NOT NULL,
    action          TEXT NOT NULL CHECK (action IN ('purchase', 'update', 'release', 'delete')),
    actor           TEXT NOT NULL,
    before_state    TEXT CHECK (before_state IS NULL OR json_valid(before_state)),
    after_state     TEXT CHECK (after_state IS NULL OR json_valid(after_state)),
    created_at      TEXT NOT NULL
) STRICT;
INSERT INTO audit_log_new
    SELECT unhex(replace(id, '-', '')), unhex(replace(organization_id, '-', '')), livemode,
           unhex(replace(phone_number_id, '-', '')), action, actor, before_state, after_state,
           replace(created_at, 'Z', '+00:00')
    FROM audit_log;

DROP TABLE audit_log;
DROP TABLE idempotency_keys;
DROP TABLE phone_numbers;
DROP TABLE inventory_numbers;
DROP TABLE endpoints;
DROP TABLE api_keys;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE organizations;
DROP TABLE settings;

ALTER TABLE settings_new RENAME TO settings;
ALTER TABLE organizations_new RENAME TO organizations;
ALTER TABLE users_new RENAME TO users;
ALTER TABLE memberships_new RENAME TO memberships;
ALTER TABLE api_keys_new RENAME TO api_keys;
ALTER TABLE endpoints_new RENAME TO endpoints;
ALTER TABLE inventory_numbers_new RENAME TO inventory_numbers;
ALTER TABLE phone_numbers_new RENAME TO phone_numbers;
ALTER TABLE idempotency_keys_new RENAME TO idempotency_keys;
ALTER TABLE audit_log_new RENAME TO audit_log;

CREATE INDEX api_keys_by_org ON api_keys (organization_id, created_at);
CREATE INDEX endpoints_by_org ON endpoints (organization_id, livemode, created_at, id);
-- Available numbers: the count and the page (ordered by e164) never leave the index.
CREATE INDEX inventory_search ON inventory_numbers (livemode, available, country, e164, number_type);
-- The database, not only the code, makes a double sale impossible: one live owner per number.
CREATE UNIQUE INDEX phone_numbers_one_owner ON phone_numbers (inventory_id) WHERE released_at IS NULL;
CREATE INDEX phone_numbers_by_org ON phone_numbers (organization_id, livemode, created_at, id);
-- Assigned numbers, in list order, covering the filter (see BENCHMARKS.md).
CREATE INDEX phone_numbers_assigned
    ON phone_numbers (organization_id, livemode, created_at, id, country, number_type, released_at)
    WHERE released_at IS NULL;
CREATE INDEX audit_log_by_number ON audit_log (phone_number_id, created_at);
CREATE INDEX audit_log_by_org ON audit_log (organization_id, created_at);
