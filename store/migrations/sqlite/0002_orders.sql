-- Gateway merchants Paydesk talks to. The merchant key is stored sealed
-- (AES-GCM under the console's master key), never in clear.
CREATE TABLE gateway_accounts (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	base_url TEXT NOT NULL,
	mch_id TEXT NOT NULL,
	app_id TEXT NOT NULL,
	key_sealed BLOB NOT NULL,
	notify_base_url TEXT NOT NULL,
	merchant_name TEXT NOT NULL DEFAULT '',
	is_sandbox INTEGER NOT NULL DEFAULT 0,
	disabled INTEGER NOT NULL DEFAULT 0,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL
);
CREATE INDEX gateway_accounts_mch_idx ON gateway_accounts(mch_id);

-- One gateway pay order. status is the gateway's status (NULL until the
-- gateway has told us); state is the console's own lifecycle of the create
-- call: creating → open | unknown | refused.
CREATE TABLE pay_orders (
	id INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES gateway_accounts(id),
	mch_order_no TEXT NOT NULL,
	pay_order_id TEXT,
	channel_order_no TEXT NOT NULL DEFAULT '',
	product_id INTEGER NOT NULL,
	amount INTEGER NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL DEFAULT 'cny',
	subject TEXT NOT NULL DEFAULT '',
	body TEXT NOT NULL DEFAULT '',
	param1 TEXT NOT NULL DEFAULT '',
	param2 TEXT NOT NULL DEFAULT '',
	status INTEGER,
	state TEXT NOT NULL,
	pay_url TEXT NOT NULL DEFAULT '',
	pay_succ_at TEXT,
	expires_at TEXT,
	origin TEXT NOT NULL DEFAULT 'console' CHECK (origin IN ('console', 'external')),
	created_by TEXT NOT NULL DEFAULT '',
	last_error TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (account_id, mch_order_no)
);
CREATE UNIQUE INDEX pay_orders_pay_order_id_idx ON pay_orders(pay_order_id) WHERE pay_order_id IS NOT NULL;
CREATE INDEX pay_orders_mch_order_no_idx ON pay_orders(mch_order_no);
CREATE INDEX pay_orders_channel_idx ON pay_orders(channel_order_no) WHERE channel_order_no <> '';
CREATE INDEX pay_orders_created_idx ON pay_orders(created_at, id);
CREATE INDEX pay_orders_status_idx ON pay_orders(status, created_at, id);
CREATE INDEX pay_orders_state_idx ON pay_orders(state, updated_at);

-- One payout (代付, a gateway trans order). mch_trans_order_no is fixed when
-- the payout is created and never reused. status is the gateway's status
-- (NULL until known); state is the console's lifecycle around it:
-- draft → awaiting_approval → approved → submitting → submitted | unknown |
-- refused, or rejected / expired / cancelled before anything is sent.
CREATE TABLE payouts (
	id INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES gateway_accounts(id),
	batch_id INTEGER,
	row_no INTEGER NOT NULL DEFAULT 0,
	mch_trans_order_no TEXT NOT NULL,
	trans_order_id TEXT,
	channel_order_no TEXT NOT NULL DEFAULT '',
	amount INTEGER NOT NULL CHECK (amount > 0),
	currency TEXT NOT NULL DEFAULT 'cny',
	account_name TEXT NOT NULL DEFAULT '',
	account_no TEXT NOT NULL DEFAULT '',
	bank_code TEXT NOT NULL DEFAULT '',
	bank_name TEXT NOT NULL DEFAULT '',
	province TEXT NOT NULL DEFAULT '',
	city TEXT NOT NULL DEFAULT '',
	account_type TEXT NOT NULL DEFAULT '1',
	account_attr TEXT NOT NULL DEFAULT '0',
	bank_type TEXT NOT NULL DEFAULT '',
	param1 TEXT NOT NULL DEFAULT '',
	param2 TEXT NOT NULL DEFAULT '',
	status INTEGER,
	state TEXT NOT NULL,
	submit_attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	trans_succ_at TEXT,
	origin TEXT NOT NULL DEFAULT 'console' CHECK (origin IN ('console', 'external')),
	created_by TEXT NOT NULL DEFAULT '',
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	UNIQUE (account_id, mch_trans_order_no)
);
CREATE UNIQUE INDEX payouts_trans_order_id_idx ON payouts(trans_order_id) WHERE trans_order_id IS NOT NULL;
CREATE INDEX payouts_mch_trans_order_no_idx ON payouts(mch_trans_order_no);
CREATE INDEX payouts_channel_idx ON payouts(channel_order_no) WHERE channel_order_no <> '';
CREATE INDEX payouts_batch_idx ON payouts(batch_id, row_no);
CREATE INDEX payouts_state_idx ON payouts(state, updated_at);
CREATE INDEX payouts_account_no_idx ON payouts(account_no, amount);

-- The timeline of every pay order and payout.
CREATE TABLE order_events (
	id INTEGER PRIMARY KEY,
	order_kind TEXT NOT NULL CHECK (order_kind IN ('pay', 'trans')),
	order_ref INTEGER NOT NULL,
	at TEXT NOT NULL,
	type TEXT NOT NULL,
	actor TEXT NOT NULL,
	summary TEXT NOT NULL,
	status INTEGER,
	notification_id INTEGER,
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX order_events_order_idx ON order_events(order_kind, order_ref, id);
