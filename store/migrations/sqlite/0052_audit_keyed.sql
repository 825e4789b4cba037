-- Audit rows sealed with the audit key (HMAC-SHA-256 with a key derived from
-- the master key) instead of hashed with plain SHA-256. Rows written before
-- stay as they are (keyed = 0) and are checked the old way; once one row is
-- keyed, every later row must be.
ALTER TABLE audit_log ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0 CHECK (keyed IN (0, 1));
