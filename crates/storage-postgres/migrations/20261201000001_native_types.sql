-- The schema in PostgreSQL's own terms, converted in place from the portable one of the first
-- two migrations (the data of existing installations is kept, in one transaction):
--   ids are `uuid`, times `timestamptz`, flags `boolean`, the enums PostgreSQL enum types, the
--   audit log's states `jsonb`; every id that names another row is a foreign key (the audit log
--   excepted: it outlives what it describes).

CREATE TYPE number_type AS ENUM ('local', 'mobile', 'toll_free', 'national');
CREATE TYPE number_status AS ENUM ('active', 'inactive');
CREATE TYPE audit_action AS ENUM ('purchase', 'update', 'release', 'delete');

-- Foreign keys and the 0/1 checks name the old types: drop them, convert, add them back.
ALTER TABLE memberships DROP CONSTRAINT memberships_user_id_fkey,
                        DROP CONSTRAINT memberships_organization_id_fkey;
ALTER TABLE api_keys DROP CONSTRAINT api_keys_organization_id_fkey,
                     DROP CONSTRAINT api_keys_livemode_check;
ALTER TABLE endpoints DROP CONSTRAINT endpoints_organization_id_fkey,
                      DROP CONSTRAINT endpoints_livemode_check;
ALTER TABLE inventory_numbers DROP CONSTRAINT inventory_numbers_livemode_check,
                              DROP CONSTRAINT inventory_numbers_available_check;
ALTER TABLE phone_numbers DROP CONSTRAINT phone_numbers_organization_id_fkey,
                          DROP CONSTRAINT phone_numbers_inventory_id_fkey,
                          DROP CONSTRAINT phone_numbers_endpoint_id_fkey,
                          DROP CONSTRAINT phone_numbers_livemode_check,
                          DROP CONSTRAINT phone_numbers_status_check,
                          DROP CONSTRAINT phone_numbers_allow_inbound_check,
                          DROP CONSTRAINT phone_numbers_allow_outbound_check;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_livemode_check;
ALTER TABLE audit_log DROP CONSTRAINT audit_log_livemode_check;

ALTER TABLE organizations
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;

ALTER TABLE users
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;

ALTER TABLE memberships
    ALTER COLUMN user_id TYPE uuid USING user_id::uuid,
    ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ADD FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE;

ALTER TABLE api_keys
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid,
    ALTER COLUMN livemode TYPE boolean USING livemode = 1,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN last_used_at TYPE timestamptz USING last_used_at::timestamptz,
    ALTER COLUMN revoked_at TYPE timestamptz USING revoked_at::timestamptz,
    ADD FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE;

ALTER TABLE endpoints
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid,
    ALTER COLUMN livemode TYPE boolean USING livemode = 1,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ADD FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE;

ALTER TABLE inventory_numbers
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN livemode TYPE boolean USING livemode = 1,
    ALTER COLUMN number_type TYPE number_type USING number_type::number_type,
    ALTER COLUMN available TYPE boolean USING available = 1,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;

ALTER TABLE phone_numbers
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid,
    ALTER COLUMN inventory_id TYPE uuid USING inventory_id::uuid,
    ALTER COLUMN livemode TYPE boolean USING livemode = 1,
    ALTER COLUMN number_type TYPE number_type USING number_type::number_type,
    ALTER COLUMN status TYPE number_status USING status::number_status,
    ALTER COLUMN endpoint_id TYPE uuid USING endpoint_id::uuid,
    ALTER COLUMN allow_inbound TYPE boolean USING allow_inbound = 1,
    ALTER COLUMN allow_outbound TYPE boolean USING allow_outbound = 1,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN updated_at TYPE timestamptz USING updated_at::timestamptz,
    ALTER COLUMN released_at TYPE timestamptz USING released_at::timestamptz,
    ADD FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE,
    ADD FOREIGN KEY (inventory_id) REFERENCES inventory_numbers (id),
    ADD FOREIGN KEY (endpoint_id) REFERENCES endpoints (id) ON DELETE SET NULL;

-- While response_status is null the first request is still running. Created at the database's
-- clock (`now()`), which is also the clock its expiry is judged by.
ALTER TABLE idempotency_keys
    ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid,
    ALTER COLUMN livemode TYPE boolean USING livemode = 1,
    ALTER COLUMN response_status TYPE integer,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz,
    ALTER COLUMN created_at SET DEFAULT now(),
    ADD FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE;

ALTER TABLE audit_log
    ALTER COLUMN id TYPE uuid USING id::uuid,
    ALTER COLUMN organization_id TYPE uuid USING organization_id::uuid,
    ALTER COLUMN livemode TYPE boolean USING livemode = 1,
    ALTER COLUMN phone_number_id TYPE uuid USING phone_number_id::uuid,
    ALTER COLUMN action TYPE audit_action USING action::audit_action,
    ALTER COLUMN before_state TYPE jsonb USING before_state::jsonb,
    ALTER COLUMN after_state TYPE jsonb USING after_state::jsonb,
    ALTER COLUMN created_at TYPE timestamptz USING created_at::timestamptz;
