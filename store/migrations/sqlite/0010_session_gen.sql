-- A user's session generation: every session remembers the generation it
-- was signed in under, and a session whose generation is older than the
-- user's is no longer signed in. Bumped by "sign out everywhere", password
-- changes, admin resets and disabling.
ALTER TABLE users ADD COLUMN session_gen INTEGER NOT NULL DEFAULT 0;

-- The audit page filters by actor.
CREATE INDEX audit_log_actor_idx ON audit_log(actor, id);
