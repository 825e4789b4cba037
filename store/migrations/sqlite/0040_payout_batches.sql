-- Payout batches: a CSV upload, a single payout (a batch of one) or a retry
-- of another batch's failed rows. Nothing in a batch is sent before it is
-- approved. state: draft → awaiting_approval → approved, or rejected /
-- expired / cancelled. outcome is set once every payout is final.
CREATE TABLE payout_batches (
	id INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES gateway_accounts(id),
	kind TEXT NOT NULL CHECK (kind IN ('csv', 'single', 'retry')),
	retry_of INTEGER REFERENCES payout_batches(id),
	file_name TEXT NOT NULL DEFAULT '',
	encoding TEXT NOT NULL DEFAULT '',
	state TEXT NOT NULL,
	file_rows INTEGER NOT NULL DEFAULT 0,
	error_rows INTEGER NOT NULL DEFAULT 0,
	warning_rows INTEGER NOT NULL DEFAULT 0,
	errors_dropped INTEGER NOT NULL DEFAULT 0,
	two_person INTEGER NOT NULL DEFAULT 1,
	needs_second INTEGER NOT NULL DEFAULT 0,
	created_by TEXT NOT NULL,
	sent_by TEXT NOT NULL DEFAULT '',
	sent_at TEXT,
	expires_at TEXT,
	approved_by TEXT NOT NULL DEFAULT '',
	approved_at TEXT,
	approval_note TEXT NOT NULL DEFAULT '',
	second_approved_by TEXT NOT NULL DEFAULT '',
	second_approved_at TEXT,
	rejected_by TEXT NOT NULL DEFAULT '',
	rejected_at TEXT,
	reject_reason TEXT NOT NULL DEFAULT '',
	outcome TEXT NOT NULL DEFAULT '',
	finished_at TEXT,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX payout_batches_state_idx ON payout_batches(state, id);
CREATE INDEX payout_batches_created_idx ON payout_batches(created_at, id);

-- What the preview shows about a batch's rows: blocking errors (rows that
-- did not become payouts; raw keeps the row as read) and warnings (about a
-- payout of the batch).
CREATE TABLE payout_batch_issues (
	id INTEGER PRIMARY KEY,
	batch_id INTEGER NOT NULL REFERENCES payout_batches(id),
	row_no INTEGER NOT NULL,
	severity TEXT NOT NULL CHECK (severity IN ('error', 'warning')),
	message TEXT NOT NULL,
	raw TEXT NOT NULL DEFAULT ''
);
CREATE INDEX payout_batch_issues_batch_idx ON payout_batch_issues(batch_id, severity, row_no);

-- When the submission worker may next look at a payout (an unclear answer
-- is queried again with backoff), durable across restarts.
ALTER TABLE payouts ADD COLUMN next_try_at TEXT;
-- The worker takes approved and unknown payouts in id order, without a sort.
CREATE INDEX payouts_work_idx ON payouts(state, id, next_try_at);
-- Payouts the gateway has whose outcome is not known yet: few, however many
-- payouts are stored.
CREATE INDEX payouts_unsettled_idx ON payouts(updated_at, id) WHERE state = 'submitted' AND (status IS NULL OR status IN (0, 1));

-- A batch's history is read from the audit log by subject ("batch:12").
CREATE INDEX audit_log_subject_idx ON audit_log(subject, id);
