-- An upload stores its rows as drafts, and every index a draft enters
-- costs the upload about 0.1 s of CPU per 100,000 rows. The payouts list
-- by status, the payout worker and the stuck-payout follow-up never look
-- for drafts: their indexes now hold a payout from the moment its batch
-- is sent for approval, as the payee-name index does. Queries that use
-- them say state <> 'draft' in so many words, which is how SQLite and
-- PostgreSQL know a partial index serves them. The list's draft status
-- goes through the batches in preparation instead (a payout is a draft
-- only while its batch is).
DROP INDEX payouts_phase_idx;
CREATE INDEX payouts_phase_idx ON payouts(phase, created_at, id) WHERE state <> 'draft';
DROP INDEX payouts_state_idx;
CREATE INDEX payouts_state_idx ON payouts(state, updated_at) WHERE state <> 'draft';
DROP INDEX payouts_work_idx;
CREATE INDEX payouts_work_idx ON payouts(state, id, next_try_at) WHERE state <> 'draft';
