-- Applying a batch writes a row of cases for each case it opens and
-- rewrites each case it resolves (200,000 and about 95,000 at a 1 M-row
-- statement; measured: docs/benchmarks.md).
--
-- The foreign key of cases.carrier_id cost a trigger and a lookup of
-- carriers per case written, about a quarter of the insert. Cases are
-- written only by applying a batch, with the carrier of that batch
-- (batches.carrier_id references carriers) under its cycle's row
-- (case_cycles.carrier_id references carriers), and carriers are never
-- deleted, so the key checked nothing those do not: it is dropped.
-- case_history keeps its key to cases.
ALTER TABLE cases DROP CONSTRAINT cases_carrier_id_fkey;
-- Resolving a case changed its state, which cases_cycle_state indexed: a
-- new tuple and an entry in each of the three indexes per case resolved,
-- most of the time of a later batch. Without state in an index, and with
-- room left in each page (fillfactor 60), the update is HOT: the new
-- version goes in the same page and no index changes (resolving 95,000
-- cases: 1.8 s of CPU against 3.9 s). The price: a list of a cycle's
-- cases by state walks the cycle's cases in id order and skips the other
-- state, and the table takes more pages.
DROP INDEX cases_cycle_state;
CREATE INDEX cases_cycle ON cases (carrier_id, billing_cycle, id);
ALTER TABLE cases SET (fillfactor = 60);
