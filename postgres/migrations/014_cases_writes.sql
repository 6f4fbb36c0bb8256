-- Applying a batch writes a row of cases for each case it opens (200,000 at
-- a 1 M-row statement): the foreign key of cases.carrier_id cost a trigger
-- and a lookup of carriers per row, about a quarter of the insert
-- (measured: docs/benchmarks.md). Cases are written only by applying a
-- batch, with the carrier of that batch (batches.carrier_id references
-- carriers) under its cycle's row (case_cycles.carrier_id references
-- carriers), and carriers are never deleted, so the key checked nothing
-- those do not: it is dropped. case_history keeps its key to cases.
ALTER TABLE cases DROP CONSTRAINT cases_carrier_id_fkey;
