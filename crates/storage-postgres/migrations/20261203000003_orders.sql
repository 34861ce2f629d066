-- Bulk orders (POST /v1/number-orders): every number bought in one transaction, or none. An
-- order is kept as it was answered: its numbers as the API showed them when bought.
CREATE TABLE number_orders (
    id               uuid PRIMARY KEY,
    organization_id  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode         boolean NOT NULL,
    total_cost_cents bigint NOT NULL CHECK (total_cost_cents >= 0),
    currency         text NOT NULL,
    numbers          jsonb NOT NULL CHECK (jsonb_typeof(numbers) = 'array'),
    created_at       timestamptz NOT NULL
);
CREATE INDEX number_orders_by_org ON number_orders (organization_id, livemode, created_at, id);

-- The audit log (the event store) records orders too (`number_order.completed`), an entry that
-- names no single number.
ALTER TYPE audit_action ADD VALUE 'order';
ALTER TABLE audit_log ALTER COLUMN phone_number_id DROP NOT NULL;
