-- Drafts leave the payouts list's status index and the worker's indexes;
-- see SQLite's twin for why.
DROP INDEX payouts_phase_idx;
CREATE INDEX payouts_phase_idx ON payouts(phase, created_at, id) WHERE state <> 'draft';
DROP INDEX payouts_state_idx;
CREATE INDEX payouts_state_idx ON payouts(state, updated_at) WHERE state <> 'draft';
DROP INDEX payouts_work_idx;
CREATE INDEX payouts_work_idx ON payouts(state, id, next_try_at) WHERE state <> 'draft';
