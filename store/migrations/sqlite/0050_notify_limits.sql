-- Limits on what inbound callbacks may store.
--
-- A callback that fails verification or parsing keeps only the start of its
-- query and body (see web/notify.go). query_len and body_len are the lengths
-- received, in bytes: a row whose raw_query or raw_body is shorter was cut.
-- 0 on rows stored before this migration, which were kept whole, but for
-- the rejected ones cut below.
ALTER TABLE notifications ADD COLUMN query_len INTEGER NOT NULL DEFAULT 0;
ALTER TABLE notifications ADD COLUMN body_len INTEGER NOT NULL DEFAULT 0;
UPDATE notifications
SET query_len = length(CAST(raw_query AS BLOB)), body_len = length(raw_body),
	raw_query = CAST(substr(CAST(raw_query AS BLOB), 1, 4096) AS TEXT), raw_body = substr(raw_body, 1, 4096)
WHERE result = 'rejected' AND (length(CAST(raw_query AS BLOB)) > 4096 OR length(raw_body) > 4096);

-- The gateway's source addresses for an account's callbacks: CIDR prefixes
-- separated by spaces; empty takes callbacks from any address.
ALTER TABLE gateway_accounts ADD COLUMN notify_sources TEXT NOT NULL DEFAULT '';
