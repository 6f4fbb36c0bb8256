-- Writing a batch's discrepancies costs less (BenchmarkDiscrepancyWriter):
-- the foreign key to batches was checked row by row (a trigger and a query
-- per discrepancy); only the check writes this table, for the batch whose
-- job it holds, and batches are never deleted. discrepancies_carrier_order
-- (batch_no, attempt, carrier_order_id) is a prefix of discrepancies_case
-- (batch_no, attempt, carrier_order_id, diff_type), which serves the same
-- searches: one index fewer to keep up on every insert.
ALTER TABLE discrepancies DROP CONSTRAINT discrepancies_batch_no_fkey;
DROP INDEX discrepancies_carrier_order;
