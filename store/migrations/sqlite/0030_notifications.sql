-- Every inbound gateway callback, stored raw before anything else is done
-- with it (result 'pending'), then marked with what became of it. The
-- merchant id, order numbers, status and amount are read from the raw
-- request when it is stored (NULL/'' when it cannot be read); only the
-- outcome columns change afterwards, so that the indexes on this busy
-- table are written once. Every index costs the ingestion path: the
-- merchant order number has none (a search by it goes through the order
-- it names, see Notifications).
CREATE TABLE notifications (
	id INTEGER PRIMARY KEY,
	received_at TEXT NOT NULL,
	kind TEXT NOT NULL CHECK (kind IN ('pay', 'trans')),
	method TEXT NOT NULL,
	client_addr TEXT NOT NULL,
	headers TEXT NOT NULL DEFAULT '',
	raw_query TEXT NOT NULL DEFAULT '',
	raw_body BLOB NOT NULL DEFAULT x'',
	-- pending until processed; then applied, duplicate, stale, rejected or alert
	result TEXT NOT NULL DEFAULT 'pending'
		CHECK (result IN ('pending', 'applied', 'duplicate', 'stale', 'rejected', 'alert')),
	reason TEXT NOT NULL DEFAULT '',
	sig_valid INTEGER,
	account_id INTEGER,
	mch_id TEXT NOT NULL DEFAULT '',
	order_no TEXT NOT NULL DEFAULT '',
	mch_order_no TEXT NOT NULL DEFAULT '',
	status INTEGER,
	amount INTEGER,
	order_kind TEXT,
	order_ref INTEGER,
	reply_code INTEGER,
	reply_body TEXT NOT NULL DEFAULT '',
	processed_at TEXT
);
-- Rare results only: the common ones (applied, duplicate, stale) are found
-- quickly by walking the primary key newest first.
CREATE INDEX notifications_rare_idx ON notifications(result, id) WHERE result IN ('pending', 'rejected', 'alert');
CREATE INDEX notifications_received_idx ON notifications(received_at);
CREATE INDEX notifications_order_idx ON notifications(order_kind, order_ref, id) WHERE order_ref IS NOT NULL;
CREATE INDEX notifications_order_no_idx ON notifications(order_no) WHERE order_no <> '';

-- Things a person must look at: rejected callbacks, mismatches, missed
-- callbacks. Repeats of an open alert (same kind and key) raise its count
-- instead of adding rows. Open until acknowledged with a note.
CREATE TABLE alerts (
	id INTEGER PRIMARY KEY,
	created_at TEXT NOT NULL,
	last_at TEXT NOT NULL,
	kind TEXT NOT NULL,
	dedupe_key TEXT NOT NULL,
	summary TEXT NOT NULL,
	count INTEGER NOT NULL DEFAULT 1,
	notification_id INTEGER REFERENCES notifications(id),
	order_kind TEXT,
	order_ref INTEGER,
	acked_at TEXT,
	acked_by TEXT NOT NULL DEFAULT '',
	ack_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alerts_open_idx ON alerts(kind, dedupe_key) WHERE acked_at IS NULL;
CREATE INDEX alerts_order_idx ON alerts(order_kind, order_ref) WHERE order_ref IS NOT NULL;

-- Reconciliation bookkeeping on the orders: when the reconciler may ask the
-- gateway next, and how often it has, so that an order that stays unpaid is
-- asked less and less often.
ALTER TABLE pay_orders ADD COLUMN reconcile_due TEXT;
ALTER TABLE pay_orders ADD COLUMN reconcile_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE payouts ADD COLUMN reconcile_due TEXT;
ALTER TABLE payouts ADD COLUMN reconcile_count INTEGER NOT NULL DEFAULT 0;

-- Bulk resend jobs and the orders each one covers.
CREATE TABLE resend_jobs (
	id INTEGER PRIMARY KEY,
	created_at TEXT NOT NULL,
	created_by TEXT NOT NULL,
	filter TEXT NOT NULL,
	total INTEGER NOT NULL,
	done INTEGER NOT NULL DEFAULT 0,
	sent INTEGER NOT NULL DEFAULT 0,
	skipped INTEGER NOT NULL DEFAULT 0,
	failed INTEGER NOT NULL DEFAULT 0,
	state TEXT NOT NULL CHECK (state IN ('running', 'finished', 'cancelled', 'interrupted')),
	finished_at TEXT
);
CREATE TABLE resend_job_items (
	job_id INTEGER NOT NULL REFERENCES resend_jobs(id),
	seq INTEGER NOT NULL,
	order_kind TEXT NOT NULL,
	order_ref INTEGER NOT NULL,
	result TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (job_id, seq)
);
CREATE INDEX order_events_resend_idx ON order_events(order_kind, order_ref, at) WHERE type = 'resend';
-- The orders list pages payouts newest first.
CREATE INDEX IF NOT EXISTS payouts_created_orders_idx ON payouts(created_at, id);
