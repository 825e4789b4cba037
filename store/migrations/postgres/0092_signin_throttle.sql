-- The sign-in throttle's counts, shared by every console on the database;
-- see SQLite's twin.
CREATE TABLE signin_throttle (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL DEFAULT 0,
	pending INTEGER NOT NULL DEFAULT 0,
	refused INTEGER NOT NULL DEFAULT 0,
	wait_until TIMESTAMPTZ,
	last_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX signin_throttle_last_idx ON signin_throttle(last_at);
