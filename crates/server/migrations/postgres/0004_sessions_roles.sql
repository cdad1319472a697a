-- Browser sessions for the dashboard, and users that can be disabled. Roles are now
-- sender | privacy_officer | admin (the column stays text).
ALTER TABLE users ADD COLUMN disabled_at BIGINT;
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,      -- SHA-256 of the cookie's value, hex; the value itself is never stored
    user_id TEXT NOT NULL REFERENCES users(id),
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    csrf_token TEXT NOT NULL,      -- sent back in X-CSRF-Token on every state-changing request
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);
