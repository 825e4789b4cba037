-- Payment links and the payments list.
--
-- Each console-made pay order has one public link (/pay/{link_token}) that
-- staff can deactivate. form_token is the one-time token of the new-payment
-- form that created the order: UNIQUE, so that a second submission of the
-- same form finds the first order instead of creating another.
ALTER TABLE pay_orders ADD COLUMN link_token TEXT;
ALTER TABLE pay_orders ADD COLUMN link_active INTEGER NOT NULL DEFAULT 1;
ALTER TABLE pay_orders ADD COLUMN link_changed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE pay_orders ADD COLUMN link_changed_at TEXT;
ALTER TABLE pay_orders ADD COLUMN form_token TEXT;
-- When the console last asked the gateway about the order (throttles
-- status checks made on page views).
ALTER TABLE pay_orders ADD COLUMN checked_at TEXT;

-- phase folds state and status into what the list filters on, so that one
-- index serves every status filter (paid is 2 or 3, failed 5 or -1).
ALTER TABLE pay_orders ADD COLUMN phase TEXT GENERATED ALWAYS AS (
	CASE
		WHEN state IN ('creating', 'unknown') THEN 'unknown'
		WHEN state = 'refused' THEN 'refused'
		WHEN status IN (2, 3) THEN 'paid'
		WHEN status IN (5, -1) THEN 'failed'
		WHEN status = -2 THEN 'expired'
		WHEN status = 4 THEN 'refunded'
		WHEN status = 1 THEN 'paying'
		WHEN status = 0 OR status IS NULL THEN 'created'
		ELSE 'other'
	END) VIRTUAL;

CREATE UNIQUE INDEX pay_orders_link_token_idx ON pay_orders(link_token) WHERE link_token IS NOT NULL;
CREATE UNIQUE INDEX pay_orders_form_token_idx ON pay_orders(form_token) WHERE form_token IS NOT NULL;
CREATE INDEX pay_orders_phase_idx ON pay_orders(phase, created_at, id);
CREATE INDEX pay_orders_product_idx ON pay_orders(product_id, created_at, id);
CREATE INDEX pay_orders_account_idx ON pay_orders(account_id, created_at, id);
-- Two filters together: status and product; an amount range or exact amount.
CREATE INDEX pay_orders_phase_product_idx ON pay_orders(phase, product_id, created_at, id);
CREATE INDEX pay_orders_amount_idx ON pay_orders(amount, created_at);
