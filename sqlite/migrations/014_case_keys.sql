-- Applying a batch resolves the open cases of its cycle that it no longer
-- shows: an anti-join of the cycle's open cases with the batch's
-- discrepancies by order and kind. This index holds those keys (and, in
-- SQLite, the case's id), so that the anti-join and the history lines of
-- the cases it resolves read the index alone, not each open case's row.
CREATE INDEX cases_cycle_state_key ON cases (carrier_id, billing_cycle, state, carrier_order_id, diff_type);
