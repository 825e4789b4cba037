-- The payouts list's amount filter; see SQLite's twin.
CREATE INDEX payouts_amount_idx ON payouts(amount, created_at, id) WHERE state <> 'draft';
