-- The latest routing decisions of each number (issue 28), for its dashboard page: written in
-- batches beside the calls (never in a call's way), kept 7 days.
CREATE TABLE call_decisions (
    id              BLOB PRIMARY KEY CHECK (length(id) = 16),
    number_id       BLOB NOT NULL,
    organization_id BLOB NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    livemode        INTEGER NOT NULL CHECK (livemode IN (0, 1)),
    decided_at      TEXT NOT NULL,
    caller          TEXT NOT NULL,
    decision        TEXT NOT NULL,
    detail          TEXT NOT NULL
) STRICT;
CREATE INDEX call_decisions_by_number ON call_decisions (number_id, decided_at);
CREATE INDEX call_decisions_by_time ON call_decisions (decided_at);
