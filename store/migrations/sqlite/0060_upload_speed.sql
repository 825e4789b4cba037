-- The warning that a payout repeats one of the last 7 days (same account
-- number and amount) reads the payouts made since then by time, with their
-- account numbers and amounts from the index by time, instead of looking
-- every payout of a batch up in an index by account number. An uploaded
-- file's account numbers come in no order, so each of its rows went into
-- that index at a random place: for 100,000 rows about a third of the time
-- of storing them. The index by time grows at its end (all rows of a file
-- have the same time, and then go by id). The orders list pages by it too.
DROP INDEX payouts_account_no_idx;
DROP INDEX payouts_created_orders_idx;
CREATE INDEX payouts_created_idx ON payouts(created_at, id, account_no, amount);
