-- SQLite's migration 014 indexes the keys of a cycle's cases by state, so
-- that resolving the open cases a batch no longer shows reads that index
-- alone. PostgreSQL hashes that anti-join (Dialect.PreferHashJoins) from
-- cases_cycle_state and would only pay for one more index on every case
-- written: nothing changes here; the number keeps both engines in step.
SELECT 1;
