-- phase folds a payout's state and gateway status into what the payouts
-- list filters on (succeeded is status 2 or 4), so that one index serves
-- every status filter.
ALTER TABLE payouts ADD COLUMN phase TEXT GENERATED ALWAYS AS (
	CASE
		WHEN state = 'submitted' AND status IN (2, 4) THEN 'succeeded'
		WHEN state = 'submitted' AND status = 3 THEN 'failed'
		WHEN state = 'submitted' THEN 'transferring'
		WHEN state = 'submitting' THEN 'sending'
		WHEN state = 'unknown' THEN 'unclear'
		ELSE state
	END) VIRTUAL;
-- The payouts list, newest first, by one filter each: status, batch,
-- payee name (prefix, any case). Rows of one upload share their time and
-- go by id, so the status and batch indexes grow at their end. The name
-- index takes each row at a random place, about 1 s of CPU per 100,000
-- rows: it holds payouts from the moment their batch is sent for approval,
-- not drafts, so that an upload reaches its preview without that cost
-- (a draft is found on its batch's page). Bank and amount have no index of
-- their own (each would cost as much again): the list reads them from the
-- index by time (which holds the amount) until it has a page.
CREATE INDEX payouts_phase_idx ON payouts(phase, created_at, id);
CREATE INDEX payouts_batch_created_idx ON payouts(batch_id, created_at, id);
CREATE INDEX payouts_name_idx ON payouts(lower(account_name), created_at, id) WHERE state <> 'draft';
