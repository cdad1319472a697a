-- leakwatch schema, PostgreSQL. Times are Unix milliseconds; ids are random text.
CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    domain TEXT NOT NULL,
    policy TEXT NOT NULL,          -- leakwatch_core::Policy as JSON
    oidc TEXT,                     -- OidcSettings as JSON, or NULL
    created_at BIGINT NOT NULL
);
CREATE TABLE users (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,            -- sender | admin
    password_hash TEXT,            -- argon2 PHC string
    oidc_subject TEXT,             -- "tid:oid" for Microsoft Entra users
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, email)
);
CREATE UNIQUE INDEX users_oidc_subject ON users (oidc_subject) WHERE oidc_subject IS NOT NULL;
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    purpose TEXT NOT NULL,         -- jwt | pixel | network
    secret BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);
CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    sender_id TEXT NOT NULL REFERENCES users(id),
    pixel_id TEXT UNIQUE,          -- set when tracked
    tracked BIGINT NOT NULL,
    track_reason TEXT NOT NULL,
    subject TEXT NOT NULL,
    recipients TEXT NOT NULL,      -- JSON {"to": [...], "cc": [...], "bcc": [...]}
    findings TEXT NOT NULL,        -- JSON array of check findings
    overridden BIGINT NOT NULL,
    sender_network TEXT,           -- keyed network hash of the registering client
    created_at BIGINT NOT NULL
);
CREATE INDEX messages_sender ON messages (sender_id, created_at);
CREATE TABLE pixel_counts (
    message_id TEXT NOT NULL REFERENCES messages(id),
    class TEXT NOT NULL,
    hits BIGINT NOT NULL,
    details BIGINT NOT NULL,      -- detail rows kept in pixel_hits
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (message_id, class)
);
CREATE TABLE pixel_hits (
    id BIGSERIAL PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages(id),
    at BIGINT NOT NULL,
    class TEXT NOT NULL,
    agent TEXT NOT NULL,           -- user-agent family, never the full string
    network TEXT NOT NULL          -- keyed hash of the /24 or /48, daily key
);
CREATE INDEX pixel_hits_message ON pixel_hits (message_id, at);
CREATE TABLE network_keys (
    day BIGINT PRIMARY KEY,       -- days since the Unix epoch
    secret BYTEA NOT NULL
);
CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    reporter_id TEXT NOT NULL REFERENCES users(id),
    wrong_recipients TEXT NOT NULL, -- JSON array
    aware_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,   -- aware_at + 72 h (GDPR Art. 33)
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX incidents_tenant ON incidents (tenant_id, created_at);
