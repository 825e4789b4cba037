-- phase folds a payout's state and gateway status into what the payouts
-- list filters on (succeeded is status 2 or 4), so that one index serves
-- every status filter. PostgreSQL generates columns only STORED (SQLite's
-- twin is VIRTUAL); the value is the same.
ALTER TABLE payouts ADD COLUMN phase TEXT GENERATED ALWAYS AS (
	CASE
		WHEN state = 'submitted' AND status IN (2, 4) THEN 'succeeded'
		WHEN state = 'submitted' AND status = 3 THEN 'failed'
		WHEN state = 'submitted' THEN 'transferring'
		WHEN state = 'submitting' THEN 'sending'
		WHEN state = 'unknown' THEN 'unclear'
		ELSE state
	END) STORED;
-- The payouts list, newest first, by one filter each: status, batch,
-- payee name (prefix, any case; see SQLite's twin for why drafts stay
-- out). The name is compared byte by byte (COLLATE "C"), as SQLite
-- compares text, so that the store's prefix ranges select the same rows
-- whatever the database's collation, and seek this index.
CREATE INDEX payouts_phase_idx ON payouts(phase, created_at, id);
CREATE INDEX payouts_batch_created_idx ON payouts(batch_id, created_at, id);
CREATE INDEX payouts_name_idx ON payouts((lower(account_name) COLLATE "C"), created_at, id) WHERE state <> 'draft';
