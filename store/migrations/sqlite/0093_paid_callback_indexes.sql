-- Every index whose columns a first paid callback changes costs the single
-- callback writer a removal and an insertion per callback, each on a page
-- of its own when the orders come in several products. Two change:
--
-- * pay_orders_phase_product_idx (status with product) goes: it ordered the
--   entries product by product, so that a group of callbacks over 20
--   products changed 40 of its pages, half the pages the group wrote. The
--   status index carries the product after its key instead, which costs a
--   callback nothing more (it moves that entry anyway). The payments list
--   filtered by both reads the status's orders newest first and checks the
--   product in the index itself, or reads the product's orders when the
--   product holds fewer (ListPayOrders).
-- * pay_orders_state_idx moved an entry on every update of an order (its
--   key holds updated_at) to serve one question: which orders' create call
--   ended unclear. It now holds only orders that are not open, the few
--   that question is about.
DROP INDEX pay_orders_phase_product_idx;
DROP INDEX pay_orders_phase_idx;
CREATE INDEX pay_orders_phase_idx ON pay_orders(phase, created_at, id, product_id);
DROP INDEX pay_orders_state_idx;
CREATE INDEX pay_orders_state_idx ON pay_orders(state, updated_at) WHERE state <> 'open';
