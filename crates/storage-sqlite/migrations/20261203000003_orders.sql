-- Bulk orders (POST /v1/number-orders): every number bought in one transaction, or none. An
-- order is kept as it was answered: its numbers as the API showed them when bought.
CREATE TABLE number_orders (
    id               BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id  BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode         INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    total_cost_cents INTEGER NOT NULL CHECK (total_cost_cents >= 0),
    currency         TEXT NOT NULL,
    numbers          TEXT NOT NULL CHECK (json_valid(numbers) AND json_type(numbers) = 'array'),
    created_at       TEXT NOT NULL
) STRICT;
CREATE INDEX number_orders_by_org ON number_orders (organization_id, livemode, created_at, id);

-- The audit log (the event store) records orders too (`number_order.completed`), an entry that
-- names no single number. SQLite cannot change a CHECK or a NOT NULL in place, so the table is
-- rebuilt (create, copy, drop, rename; foreign keys are off while migrations run).
CREATE TABLE audit_log_new (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    organization_id BLOB NOT NULL,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    -- NULL for an order's entry.
    phone_number_id BLOB,
    action          TEXT NOT NULL CHECK (action IN ('purchase', 'update', 'release', 'delete', 'order')),
    actor           TEXT NOT NULL,
    before_state    TEXT CHECK (before_state IS NULL OR json_valid(before_state)),
    after_state     TEXT CHECK (after_state IS NULL OR json_valid(after_state)),
    created_at      TEXT NOT NULL
) STRICT;
INSERT INTO audit_log_new
    SELECT id, organization_id, livemode, phone_number_id, action, actor, before_state, after_state, created_at
    FROM audit_log;
DROP TABLE audit_log;
ALTER TABLE audit_log_new RENAME TO audit_log;
CREATE INDEX audit_log_by_number ON audit_log (phone_number_id, created_at);
CREATE INDEX audit_log_by_org ON audit_log (organization_id, created_at);
CREATE INDEX audit_log_events ON audit_log (organization_id, livemode, created_at, id);
