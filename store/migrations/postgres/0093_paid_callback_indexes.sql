-- Two indexes a first paid callback changes go or shrink; see SQLite's
-- twin for why.
DROP INDEX pay_orders_phase_product_idx;
DROP INDEX pay_orders_phase_idx;
CREATE INDEX pay_orders_phase_idx ON pay_orders(phase, created_at, id) INCLUDE (product_id);
DROP INDEX pay_orders_state_idx;
CREATE INDEX pay_orders_state_idx ON pay_orders(state, updated_at) WHERE state <> 'open';
