-- Login limits shared by every server on this database (ADR 0014). One row per bucket that
-- is not full: `full_at` (Unix milliseconds) is when it will be full again (GCRA's
-- "theoretical arrival time"). `bucket` is a keyed hash (signing key purpose `limits`) of
-- what is limited, never an address or an e-mail address. Rows whose time has passed mean a
-- full bucket and are deleted.
CREATE TABLE rate_limits (
    bucket TEXT PRIMARY KEY,
    full_at BIGINT NOT NULL
);
CREATE INDEX rate_limits_full_at ON rate_limits (full_at);
