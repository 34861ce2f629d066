-- Dashboard sessions that signing out ends (see src/service/auth/sessions.rs): a built-in
-- account's session is accepted while its row is unrevoked and unexpired; a Supabase session
-- signed out through the dashboard is kept here, revoked, until its tokens would have expired.
CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_expiry ON sessions (expires_at);
