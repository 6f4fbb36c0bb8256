-- Applying a batch resolves many cases at once (about 95,000 at a 1 M-row
-- statement) and each resolve changed state, which cases_cycle_state
-- indexed: an entry removed and another inserted in that index per case.
-- Without state in the index the update rewrites only the row (a cycle's
-- second batch at 1 M rows, quiet machine: case update 23.1% → 21.1% of
-- the check, 25.7% → 23.5% with the commit; docs/benchmarks.md). The
-- price, as on PostgreSQL: a list of a cycle's cases by state walks the
-- cycle's cases in id order and skips the other state. SQLite keeps the
-- foreign key of cases.carrier_id (one probe of the primary key of
-- carriers; dropping it would rebuild the table).
DROP INDEX cases_cycle_state;
CREATE INDEX cases_cycle ON cases (carrier_id, billing_cycle, id);
