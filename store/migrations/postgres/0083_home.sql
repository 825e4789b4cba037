-- A batch's payouts and their total as sent for approval, so that the
-- home page sums what waits for an approver without reading the payouts.
ALTER TABLE payout_batches ADD COLUMN sent_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payout_batches ADD COLUMN sent_sum BIGINT NOT NULL DEFAULT 0;
UPDATE payout_batches SET
	sent_count = (SELECT count(*) FROM payouts p WHERE p.batch_id = payout_batches.id AND p.state <> 'cancelled'),
	sent_sum = (SELECT coalesce(sum(amount), 0) FROM payouts p WHERE p.batch_id = payout_batches.id AND p.state <> 'cancelled')
	WHERE state <> 'draft';
-- What the gateway kept as its fee: a pay callback's amount − income, when
-- the callback carries income (NULL otherwise).
ALTER TABLE pay_orders ADD COLUMN income BIGINT;
-- The home page's money by day: paid pay orders by the gateway's success
-- time, succeeded payouts by theirs, read from the index alone.
CREATE INDEX pay_orders_paid_at_idx ON pay_orders(pay_succ_at, amount, income, product_id) WHERE pay_succ_at IS NOT NULL;
CREATE INDEX payouts_succ_at_idx ON payouts(trans_succ_at, amount) WHERE trans_succ_at IS NOT NULL;
