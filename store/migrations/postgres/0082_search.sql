-- The search box matches the start of every order number, the payee name
-- and the subject in any case: each as a range on the lower-cased column,
-- which these indexes seek. The ranges compare byte by byte (COLLATE "C"),
-- as SQLite does, whatever the database's collation. Numbers not yet given
-- (NULL, '') and draft payouts stay out of them, with the same conditions
-- as SQLite's twin, which the store's queries repeat.
CREATE INDEX pay_orders_search_mch_idx ON pay_orders((lower(mch_order_no) COLLATE "C"));
CREATE INDEX pay_orders_search_gate_idx ON pay_orders((lower(pay_order_id) COLLATE "C")) WHERE pay_order_id IS NOT NULL;
CREATE INDEX pay_orders_search_channel_idx ON pay_orders((lower(channel_order_no) COLLATE "C")) WHERE channel_order_no <> '';
CREATE INDEX pay_orders_search_subject_idx ON pay_orders((lower(subject) COLLATE "C"));
CREATE INDEX payouts_search_mch_idx ON payouts((lower(mch_trans_order_no) COLLATE "C")) WHERE state <> 'draft';
CREATE INDEX payouts_search_gate_idx ON payouts((lower(trans_order_id) COLLATE "C")) WHERE trans_order_id IS NOT NULL;
CREATE INDEX payouts_search_channel_idx ON payouts((lower(channel_order_no) COLLATE "C")) WHERE channel_order_no <> '';
