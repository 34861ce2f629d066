-- Calls reach the numbers (issue 28): an endpoint holds the SIP URIs its calls are sent to, in
-- order (a JSON array of text), and how long each may take to answer before the next is tried.
ALTER TABLE endpoints
    ADD COLUMN targets jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(targets) = 'array'),
    ADD COLUMN failover_timeout_secs bigint NOT NULL DEFAULT 5 CHECK (failover_timeout_secs BETWEEN 1 AND 30),
    ADD COLUMN updated_at timestamptz;
UPDATE endpoints SET updated_at = created_at;
ALTER TABLE endpoints ALTER COLUMN updated_at SET NOT NULL;

-- The SIP server's questions: a number by its SIP user name (digest credentials), an owned number
-- by its E.164 (an inbound call), the numbers that route to an endpoint (before it is deleted).
CREATE UNIQUE INDEX phone_numbers_by_sip_username ON phone_numbers (sip_username);
CREATE INDEX phone_numbers_by_e164 ON phone_numbers (e164, livemode) WHERE released_at IS NULL;
CREATE INDEX phone_numbers_by_endpoint ON phone_numbers (endpoint_id) WHERE endpoint_id IS NOT NULL;
