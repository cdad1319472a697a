-- A password change (set, reset or removed) ends the leakwatch tokens issued before it:
-- a token whose `iat` (seconds) is before this is refused.
ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT NOT NULL DEFAULT 0;
