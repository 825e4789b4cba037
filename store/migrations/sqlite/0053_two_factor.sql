-- Two-factor sign-in (TOTP, RFC 6238). The secrets are sealed by the
-- console (AES-256-GCM under the master key, bound to the user id), never
-- stored in plain text.
--   totp_secret       the sealed secret while two-factor is on; NULL: off
--   totp_pending      the sealed secret shown during enrolment, until the
--                     user confirms it with a code; NULL: no enrolment open
--   totp_last_step    the last time step (unix time / 30 s) whose code was
--                     accepted: a code is taken once, and never one older
--   totp_enabled_at   when the user confirmed enrolment
ALTER TABLE users ADD COLUMN totp_secret BLOB;
ALTER TABLE users ADD COLUMN totp_pending BLOB;
ALTER TABLE users ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN totp_enabled_at TEXT;

-- One-time recovery codes, as SHA-256 of the user id and the code (the codes
-- carry 80 random bits, so a fast hash is enough); used_at is set when one
-- is spent. Replaced as a whole when the user makes new ones.
CREATE TABLE recovery_codes (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	code_hash TEXT NOT NULL,
	used_at TEXT,
	UNIQUE (user_id, code_hash)
);
