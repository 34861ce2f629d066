-- Events and webhooks (see src/service/events.rs and src/service/webhooks/).
--
-- The audit log is the event store: each entry is an event, written in the transaction of the
-- change it describes. Its webhook deliveries (the outbox) are written in that same transaction,
-- one per subscribed endpoint, and delivery workers in every `serve` process claim them
-- (`FOR UPDATE SKIP LOCKED`).

-- `GET /v1/events`: an organization's events in one mode, newest first.
CREATE INDEX audit_log_events ON audit_log (organization_id, livemode, created_at, id);

CREATE TYPE webhook_delivery_state AS ENUM ('pending', 'delivered', 'failed');

CREATE TABLE webhook_endpoints (
    id                         uuid PRIMARY KEY,
    organization_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode                   boolean NOT NULL,
    url                        text NOT NULL,
    description                text NOT NULL,
    -- NULL: every event type, including types added later; else a JSON array of type names.
    event_types                jsonb CHECK (event_types IS NULL OR jsonb_typeof(event_types) = 'array'),
    enabled                    boolean NOT NULL,
    disabled_reason            text,
    -- The signing secrets, sealed with the installation's encryption key; the previous one
    -- keeps signing beside the new one until it expires (a rotation).
    secret                     text NOT NULL,
    previous_secret            text,
    previous_secret_expires_at timestamptz,
    -- When the failures since the last successful attempt began (NULL: the last one succeeded).
    failing_since              timestamptz,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (organization_id, livemode, created_at, id);

-- The outbox: one row per event and endpoint.
CREATE TABLE webhook_deliveries (
    event_id        uuid NOT NULL REFERENCES audit_log (id),
    endpoint_id     uuid NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    state           webhook_delivery_state NOT NULL,
    attempts        integer NOT NULL CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL,
    -- A worker's claim: no other worker takes the row before this time.
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL,
    PRIMARY KEY (event_id, endpoint_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';

-- Every attempt, as the receiver answered it.
CREATE TABLE webhook_attempts (
    id              uuid PRIMARY KEY,
    event_id        uuid NOT NULL,
    endpoint_id     uuid NOT NULL,
    attempted_at    timestamptz NOT NULL,
    succeeded       boolean NOT NULL,
    response_status integer,
    latency_ms      bigint NOT NULL,
    response_body   text,
    error           text,
    FOREIGN KEY (event_id, endpoint_id) REFERENCES webhook_deliveries (event_id, endpoint_id) ON DELETE CASCADE
);
CREATE INDEX webhook_attempts_by_endpoint ON webhook_attempts (endpoint_id, attempted_at, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts (event_id, endpoint_id);
