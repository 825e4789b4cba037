-- The sign-in throttle's counts, per key (a username, a client address, a
-- user's two-factor codes), kept in the database when several consoles
-- share it, so that guesses spread over them are counted together. A
-- console alone keeps them in memory and leaves this table empty. A key
-- with nothing counted has no row.
CREATE TABLE signin_throttle (
	key TEXT PRIMARY KEY,
	failures INTEGER NOT NULL DEFAULT 0,
	pending INTEGER NOT NULL DEFAULT 0, -- attempts being checked
	refused INTEGER NOT NULL DEFAULT 0, -- attempts refused since the wait began
	wait_until TEXT,                    -- no attempt before this
	last_at TEXT NOT NULL               -- last attempt counted
) WITHOUT ROWID;
CREATE INDEX signin_throttle_last_idx ON signin_throttle(last_at);
