-- Dashboard sessions that signing out ends (see src/service/auth/sessions.rs): a built-in
-- account's session is accepted while its row is unrevoked and unexpired; a Supabase session
-- signed out through the dashboard is kept here, revoked, until its tokens would have expired.
CREATE TABLE sessions (
    id         BLOB PRIMARY KEY CHECK (length(id) = 16),
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
) STRICT;
CREATE INDEX sessions_expiry ON sessions (expires_at);
