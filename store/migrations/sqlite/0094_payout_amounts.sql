-- The payouts list filtered by an amount alone read the time index (which
-- holds the amount) until it had a page: 114 ms a page with 1,000,000
-- payouts for an amount few have. This index finds them at once; an
-- amount range many payouts share is still read by time (ListPayouts
-- counts first). Like the payee-name index it holds no drafts, so that an
-- upload does not pay for an entry at a random place per row; sending the
-- batch for approval does.
CREATE INDEX payouts_amount_idx ON payouts(amount, created_at, id) WHERE state <> 'draft';
