-- Incidents become the breach register (GDPR Art. 33(5)); alerts, their outbox, the audit log.
ALTER TABLE incidents ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN decision TEXT;              -- notify | no_notify; NULL while undecided
ALTER TABLE incidents ADD COLUMN decision_reason TEXT;
ALTER TABLE incidents ADD COLUMN decided_at INTEGER;
ALTER TABLE incidents ADD COLUMN decided_by TEXT;
ALTER TABLE incidents ADD COLUMN notified_at INTEGER;        -- when it was filed with the authority
ALTER TABLE incidents ADD COLUMN authority_reference TEXT;
ALTER TABLE incidents ADD COLUMN notification TEXT;          -- edits of the notification draft, JSON
ALTER TABLE incidents ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
CREATE INDEX incidents_message ON incidents (message_id);
CREATE INDEX incidents_open ON incidents (status, aware_at);

ALTER TABLE messages ADD COLUMN sensitive TEXT NOT NULL DEFAULT '[]'; -- check's counts per kind
ALTER TABLE messages ADD COLUMN has_attachments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN lang TEXT NOT NULL DEFAULT 'en';          -- the sender's language, for alerts
ALTER TABLE tenants ADD COLUMN alerting TEXT;                -- AlertSettings JSON; NULL: defaults

CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- the live stream's event id
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    user_id TEXT NOT NULL REFERENCES users(id),   -- the sender it is for
    incident_id TEXT NOT NULL REFERENCES incidents(id),
    kind TEXT NOT NULL,
    severity TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,        -- a rule fires once per incident
    payload TEXT NOT NULL,                  -- the Alert as JSON
    created_at INTEGER NOT NULL
);
CREATE INDEX alerts_user ON alerts (user_id, seq);
CREATE INDEX alerts_tenant ON alerts (tenant_id, seq);

CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_seq INTEGER NOT NULL REFERENCES alerts(seq),
    channel TEXT NOT NULL,                  -- mail | webhook
    target TEXT NOT NULL,                   -- the address, or the webhook URL
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0, -- a server is delivering it until then
    delivered_at INTEGER,
    failed_at INTEGER,                      -- given up after the last attempt
    last_error TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (alert_seq, channel, target)
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor_id TEXT,                          -- NULL: the system (command line, jobs)
    actor TEXT NOT NULL,                    -- e-mail address or job name
    action TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id TEXT NOT NULL,
    detail TEXT NOT NULL                    -- JSON
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
