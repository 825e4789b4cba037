-- A first paid callback writes its order's channel number, and each index
-- on that column costs the single callback writer an entry per callback.
-- An exact lookup by channel number goes through the search box's index on
-- (lower(channel_order_no) COLLATE "C") (the lookups compare both, the
-- lower-cased form in the "C" collation as the index is built), so the
-- plain index goes, as on SQLite.
DROP INDEX pay_orders_channel_idx;
