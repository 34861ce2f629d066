-- Kros Numbers schema (SQLite). Kept column-for-column equal to ../postgres: the service layer
-- runs the same SQL on both. Ids are UUID text; times are RFC 3339 UTC text with a fixed
-- width (microseconds), so they sort correctly as text. Flags are BIGINT 0/1: sqlx's Any driver
-- cannot decode SQLite's BOOLEAN, and 64-bit integers read back the same from both backends.

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

CREATE TABLE memberships (
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (user_id, organization_id)
);

CREATE TABLE api_keys (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    name            TEXT NOT NULL,
    public_id       TEXT NOT NULL UNIQUE,
    secret_hash     TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_used_at    TEXT,
    revoked_at      TEXT
);
CREATE INDEX api_keys_by_org ON api_keys (organization_id, created_at);

CREATE TABLE endpoints (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL
);
CREATE INDEX endpoints_by_org ON endpoints (organization_id, livemode, created_at, id);

CREATE TABLE inventory_numbers (
    id                 TEXT PRIMARY KEY,
    livemode           BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    e164               TEXT NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL,
    setup_cost_cents   BIGINT NOT NULL CHECK (setup_cost_cents >= 0),
    monthly_cost_cents BIGINT NOT NULL CHECK (monthly_cost_cents >= 0),
    currency           TEXT NOT NULL,
    available          BIGINT NOT NULL CHECK (available IN (0, 1)),
    created_at         TEXT NOT NULL,
    UNIQUE (livemode, e164)
);
CREATE INDEX inventory_search ON inventory_numbers (livemode, available, country, e164);

CREATE TABLE phone_numbers (
    id                 TEXT PRIMARY KEY,
    organization_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    inventory_id       TEXT NOT NULL REFERENCES inventory_numbers (id),
    livemode           BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    e164               TEXT NOT NULL,
    country            TEXT NOT NULL,
    number_type        TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
    endpoint_id        TEXT REFERENCES endpoints (id) ON DELETE SET NULL,
    allow_inbound      BIGINT NOT NULL CHECK (allow_inbound IN (0, 1)),
    allow_outbound     BIGINT NOT NULL CHECK (allow_outbound IN (0, 1)),
    sip_username       TEXT NOT NULL,
    sip_password       TEXT NOT NULL,
    setup_cost_cents   BIGINT NOT NULL,
    monthly_cost_cents BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    released_at        TEXT
);
-- The database, not only the code, makes a double sale impossible: one live owner per number.
CREATE UNIQUE INDEX phone_numbers_one_owner ON phone_numbers (inventory_id) WHERE released_at IS NULL;
CREATE INDEX phone_numbers_by_org ON phone_numbers (organization_id, livemode, created_at, id);

-- Idempotency-Key records: a key is scoped to (organization, mode). While response_status is
-- null the first request is still running.
CREATE TABLE idempotency_keys (
    organization_id TEXT NOT NULL,
    livemode        BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    idempotency_key TEXT NOT NULL,
    request_hash    TEXT NOT NULL,
    response_status BIGINT,
    response_body   TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (organization_id, livemode, idempotency_key)
);

-- Append-only; deliberately without foreign keys so that it outlives what it describes.
CREATE TABLE audit_log (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL,
    livemode        BIGINT NOT NULL CHECK (livemode IN (0, 1)),
    phone_number_id TEXT NOT NULL,
    action          TEXT NOT NULL,
    actor           TEXT NOT NULL,
    before_state    TEXT,
    after_state     TEXT,
    created_at      TEXT NOT NULL
);
CREATE INDEX audit_log_by_number ON audit_log (phone_number_id, created_at);
CREATE INDEX audit_log_by_org ON audit_log (organization_id, created_at);
