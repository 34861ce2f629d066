-- The latest routing decisions of each number (issue 28), for its dashboard page: written in
-- batches beside the calls (never in a call's way), kept 7 days.
CREATE TABLE call_decisions (
    id              uuid PRIMARY KEY,
    number_id       uuid NOT NULL,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        boolean NOT NULL,
    decided_at      timestamptz NOT NULL,
    caller          TEXT NOT NULL,
    decision        TEXT NOT NULL,
    detail          TEXT NOT NULL
);
CREATE INDEX call_decisions_by_number ON call_decisions (number_id, decided_at);
CREATE INDEX call_decisions_by_time ON call_decisions (decided_at);
