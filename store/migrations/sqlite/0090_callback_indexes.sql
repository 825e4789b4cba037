-- A first paid callback writes its order's channel number, and each index
-- on that column costs the single callback writer an entry per callback.
-- An exact lookup by channel number goes through the search box's index on
-- lower(channel_order_no) (the lookups compare both), so the plain index
-- goes.
DROP INDEX pay_orders_channel_idx;
