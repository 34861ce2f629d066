-- Events and webhooks (see src/service/events.rs and src/service/webhooks/).
--
-- The audit log is the event store: each entry is an event, written in the transaction of the
-- change it describes. Its webhook deliveries (the outbox) are written in that same transaction,
-- one per subscribed endpoint, and delivery workers in every `serve` process claim them.

-- `GET /v1/events`: an organization's events in one mode, newest first.
CREATE INDEX audit_log_events ON audit_log (organization_id, livemode, created_at, id);

CREATE TABLE webhook_endpoints (
    id                         BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id            BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode                   INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    url                        TEXT NOT NULL,
    description                TEXT NOT NULL,
    -- NULL: every event type, including types added later; else a JSON array of type names.
    event_types                TEXT CHECK (event_types IS NULL OR json_valid(event_types)),
    enabled                    INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    disabled_reason            TEXT,
    -- The signing secrets, sealed with the installation's encryption key; the previous one
    -- keeps signing beside the new one until it expires (a rotation).
    secret                     TEXT NOT NULL,
    previous_secret            TEXT,
    previous_secret_expires_at TEXT,
    -- When the failures since the last successful attempt began (NULL: the last one succeeded).
    failing_since              TEXT,
    created_at                 TEXT NOT NULL,
    updated_at                 TEXT NOT NULL
) STRICT;
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (organization_id, livemode, created_at, id);

-- The outbox: one row per event and endpoint.
CREATE TABLE webhook_deliveries (
    event_id        BLOB NOT NULL REFERENCES audit_log (id),
    endpoint_id     BLOB NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    state           TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL CHECK (attempts >= 0),
    next_attempt_at TEXT NOT NULL,
    -- A worker's claim: no other worker takes the row before this time.
    locked_until    TEXT,
    created_at      TEXT NOT NULL,
    PRIMARY KEY (event_id, endpoint_id)
) STRICT;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

-- Every attempt, as the receiver answered it.
CREATE TABLE webhook_attempts (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    event_id        BLOB NOT NULL,
    endpoint_id     BLOB NOT NULL,
    attempted_at    TEXT NOT NULL,
    succeeded       INTEGER NOT NULL CHECK (succeeded IN (0, 1)),
    response_status INTEGER,
    latency_ms      INTEGER NOT NULL,
    response_body   TEXT,
    error           TEXT,
    FOREIGN KEY (event_id, endpoint_id) REFERENCES webhook_deliveries (event_id, endpoint_id) ON DELETE CASCADE
) STRICT;
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, attempted_at, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (event_id, endpoint_id);
