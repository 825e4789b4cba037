-- A definite refusal of a payout sent again may come from a gateway that
-- already holds the first send under the same merchant payout number: such
-- a refusal is taken only once a query confirms the gateway does not hold
-- it. refusal_unconfirmed is 1 while it is not confirmed: on a payout that
-- waits as 'unknown' for that query, and on payouts refused by a re-send
-- before this version, which the payout worker asks about once.
ALTER TABLE payouts ADD COLUMN refusal_unconfirmed INTEGER NOT NULL DEFAULT 0;
UPDATE payouts SET refusal_unconfirmed = 1, next_try_at = NULL WHERE state = 'refused' AND submit_attempts > 1;
CREATE INDEX payouts_unconfirmed_refusal_idx ON payouts(batch_id, id) WHERE refusal_unconfirmed = 1 AND state = 'refused';
