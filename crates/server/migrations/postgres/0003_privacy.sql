-- Privacy by design (docs/privacy.md): per-tenant retention settings, recipients' objections
-- (GDPR Art. 21), a lease so that one server at a time runs the retention job.
ALTER TABLE tenants ADD COLUMN privacy TEXT;                 -- PrivacySettings JSON; NULL: defaults

-- A recipient who objected, per tenant (the controller). Never the address: an HMAC-SHA256,
-- under the server's 'objection' key, of the tenant and the canonical address.
CREATE TABLE objections (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    address_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, address_hash)
);

-- An objection waiting for its confirmation link to be followed. The link's token is not
-- stored, only its SHA-256; the address only as its keyed hash.
CREATE TABLE objection_requests (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    address_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    confirmed_at BIGINT
);
CREATE INDEX objection_requests_expiry ON objection_requests (expires_at);

-- Jobs that one server at a time should run (retention).
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until BIGINT NOT NULL
);

-- Retention looks for old messages per tenant and deletes rows by incident.
CREATE INDEX messages_tenant_created ON messages (tenant_id, created_at);
CREATE INDEX IF NOT EXISTS alerts_incident ON alerts (incident_id);
