-- The search box matches the start of every order number, the payee name
-- and the subject in any case: each as a range on the lower-cased column,
-- which these indexes seek (LIKE 'x%' would read every row). Numbers not
-- yet given (NULL, '') and draft payouts stay out of them, so that neither
-- an upload nor a gateway's first answer pays for an entry nobody finds.
CREATE INDEX pay_orders_search_mch_idx ON pay_orders(lower(mch_order_no));
CREATE INDEX pay_orders_search_gate_idx ON pay_orders(lower(pay_order_id)) WHERE pay_order_id IS NOT NULL;
CREATE INDEX pay_orders_search_channel_idx ON pay_orders(lower(channel_order_no)) WHERE channel_order_no <> '';
CREATE INDEX pay_orders_search_subject_idx ON pay_orders(lower(subject));
CREATE INDEX payouts_search_mch_idx ON payouts(lower(mch_trans_order_no)) WHERE state <> 'draft';
CREATE INDEX payouts_search_gate_idx ON payouts(lower(trans_order_id)) WHERE trans_order_id IS NOT NULL;
CREATE INDEX payouts_search_channel_idx ON payouts(lower(channel_order_no)) WHERE channel_order_no <> '';
